"""Complaints get a tracking number, keep what the patient wrote private, and can be looked up;
staff actions refuse what cannot be done, and overdue complaints escalate once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from booking.clock import FixedClock
from booking.complaints.filing import answer_to, complaint_status, file_complaint
from booking.complaints.handling import (
    accept,
    auto_escalate,
    escalate,
    forward,
    overdue,
    reply,
    resolve,
)
from booking.complaints.model import (
    AlreadyAccepted,
    AnswerTo,
    AtTopLevel,
    ComplaintCategory,
    ComplaintClosed,
    ComplaintStatus,
    StaffMember,
    UnknownComplaint,
    UnknownDepartment,
)
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
    async with db.new_transaction(readonly=True) as tx:
        stored = repr((await tx.execute(text("SELECT * FROM complaints"))).all())
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


async def test_a_complaint_remembers_where_to_answer_and_by_when_to_accept(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    filed = await file_complaint(
        db, protector, clock, channel="sms", user_id="13912345678", language="en",
        category=ComplaintCategory.FEES, text="charged twice", department_code="CARD",
    )  # fmt: skip
    assert (filed.channel, filed.language, filed.level) == ("sms", "en", 0)
    assert filed.accept_by == clock.now() + timedelta(hours=24) and filed.answerable
    assert await answer_to(db, protector, filed.complaint_no) == AnswerTo(
        "sms", "13912345678", "en"
    )
    by_phone = await file_complaint(
        db, protector, clock, channel="phone", user_id=None, category=ComplaintCategory.OTHER,
        text="电话反映", taken_by=StaffMember("s1", "李护士"), accept_within=timedelta(hours=2),
    )  # fmt: skip
    assert not by_phone.answerable and by_phone.accept_by == clock.now() + timedelta(hours=2)
    assert await answer_to(db, protector, by_phone.complaint_no) is None
    with pytest.raises(UnknownComplaint):
        await answer_to(db, protector, "TS0000000000")


async def test_staff_actions_refuse_what_cannot_be_done(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    nurse, officer = StaffMember("s1", "李护士"), StaffMember("s2", "王主任")
    number = (
        await file_complaint(
            demo, protector, clock, channel="web", user_id="u",
            category=ComplaintCategory.SERVICE, text="态度差", department_code="CARD",
        )
    ).complaint_no  # fmt: skip
    with pytest.raises(UnknownComplaint):
        await accept(demo, clock, "TS0000000000", nurse)
    with pytest.raises(UnknownDepartment):
        await forward(demo, clock, number, nurse, "NOPE")
    with pytest.raises(InvalidInput):
        await reply(demo, protector, clock, number, nurse, "  ")
    await accept(demo, clock, number, nurse)
    with pytest.raises(AlreadyAccepted) as taken:
        await accept(demo, clock, number, officer)
    assert taken.value.details["by"] == "李护士"
    await escalate(demo, clock, number, nurse)
    await escalate(demo, clock, number, officer)
    with pytest.raises(AtTopLevel):
        await escalate(demo, clock, number, officer)
    await resolve(demo, protector, clock, number, officer, "已处理")
    with pytest.raises(ComplaintClosed):
        await accept(demo, clock, number, nurse)
    with pytest.raises(ComplaintClosed):
        await forward(demo, clock, number, nurse, "RESP")
    with pytest.raises(ComplaintClosed):
        await resolve(demo, protector, clock, number, officer, "再办一次")


async def test_overdue_complaints_escalate_once_even_when_two_processes_try(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    number = (
        await file_complaint(
            db, protector, clock, channel="web", user_id="u",
            category=ComplaintCategory.WAITING, text="等太久", department_code="CARD",
        )
    ).complaint_no  # fmt: skip
    assert await overdue(db, clock.now()) == []
    clock.advance(timedelta(hours=24))
    assert [c.complaint_no for c in await overdue(db, clock.now())] == [number]
    results = await asyncio.gather(
        *(auto_escalate(db, clock, number, accept_within=timedelta(hours=4)) for _ in range(3))
    )
    [escalated] = [r for r in results if r is not None]
    assert escalated.level == 1 and escalated.accept_by == clock.now() + timedelta(hours=4)
    assert await overdue(db, clock.now()) == []
    clock.advance(timedelta(hours=4))
    assert [c.level for c in await overdue(db, clock.now())] == [1]
