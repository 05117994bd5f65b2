"""Complaints get a tracking number, keep what the patient wrote private, and can be looked up."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from booking.clock import FixedClock
from booking.complaints import ComplaintCategory, ComplaintStatus, complaint_status, file_complaint
from booking.errors import InvalidInput, NotFound
from booking.protect import Protector
from booking.store import Database


async def test_a_complaint_is_received_with_a_tracking_number(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    filed = await file_complaint(
        db, protector, clock, channel="sms", user_id="13912345678",
        category=ComplaintCategory.WAITING, text="  在心内科等了三个小时  ", department_code="CARD",
    )  # fmt: skip
    assert re.fullmatch(r"TS261123\d{4}", filed.complaint_no)  # the day in Shanghai
    found = await complaint_status(db, filed.complaint_no.lower())
    assert found == filed
    assert found.status == ComplaintStatus.RECEIVED and found.department_code == "CARD"
    async with db.new_session(readonly=True) as session:
        stored = repr((await session.execute(text("SELECT * FROM complaints"))).all())
    assert "三个小时" not in stored and "13912345678" not in stored


async def test_numbers_are_unique_and_unknown_ones_are_not_found(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    numbers = {
        (
            await file_complaint(
                db, protector, clock, channel="web", user_id="u",
                category=ComplaintCategory.SUGGESTION, text=f"建议{n}",
            )
        ).complaint_no
        for n in range(30)
    }  # fmt: skip
    assert len(numbers) == 30
    with pytest.raises(NotFound):
        await complaint_status(db, "TS0000000000")
    with pytest.raises(InvalidInput):
        await file_complaint(
            db, protector, clock, channel="web", user_id="u",
            category=ComplaintCategory.OTHER, text="   ",
        )  # fmt: skip
