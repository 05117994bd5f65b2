"""Answers to complaints reach the patient when staff answer in the web console and the
hospital has configured no staff group chat (S4): the application tells them on its own
rounds, and escalates those nobody accepted in time (S3)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from booking.clock import FixedClock
from booking.complaints.filing import complaint_status, file_complaint
from booking.complaints.handling import accept, reply
from booking.complaints.model import ComplaintCategory, StaffMember
from booking.protect import Protector
from booking.store import Database, upgrade
from bot.runtime.application import Application
from bot.runtime.build import build
from bot.settings import Settings
from tests.support import MONDAY_9AM, SECRET

WEB_CHAT = "web-chat-of-the-patient"
CARDIO = StaffMember("console:1", "cardio")


async def started(tmp_path: Path, now_: str) -> Application:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    return await build(
        Settings(
            DATABASE_URL=url,
            GUAHAO_SECRET_KEY=SECRET,
            GUAHAO_NOW=now_,
            GUAHAO_NLU_MODELS=tmp_path / "models",
        ),  # type: ignore[call-arg]
    )  # without its rounds: the test runs one at a time


async def test_a_reply_from_the_web_console_reaches_the_web_chat_without_a_staff_group(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db, clock, protector = Database(url), FixedClock(MONDAY_9AM), Protector(SECRET)
    filed = await file_complaint(
        db, protector, clock, channel="web", user_id=WEB_CHAT,
        category=ComplaintCategory.WAITING, text="等了两个小时", department_code="CARD",
    )  # fmt: skip
    await accept(db, clock, filed.complaint_no, CARDIO)
    await reply(db, protector, clock, filed.complaint_no, CARDIO, "我们已调整叫号")
    await db.dispose()

    bot = await started(tmp_path, MONDAY_9AM.isoformat())
    try:
        assert bot.staff is None  # no staff group configured
        await bot.one_round()
        [told] = await bot.collect_web(WEB_CHAT)
        assert filed.complaint_no in told.text and "我们已调整叫号" in told.text
        await bot.one_round()
        assert await bot.collect_web(WEB_CHAT) == []  # told once
    finally:
        await bot.stop()


async def test_a_complaint_nobody_accepts_in_time_goes_up_a_level_without_a_staff_group(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db, clock, protector = Database(url), FixedClock(MONDAY_9AM), Protector(SECRET)
    filed = await file_complaint(
        db, protector, clock, channel="web", user_id=WEB_CHAT,
        category=ComplaintCategory.SERVICE, text="态度不好", department_code="CARD",
    )  # fmt: skip
    await db.dispose()

    bot = await started(tmp_path, (MONDAY_9AM + timedelta(hours=25)).isoformat())
    try:
        await bot.one_round()
        assert bot.services is not None
        status = await complaint_status(bot.services.uows, filed.complaint_no)
        assert status.level == filed.level + 1
    finally:
        await bot.stop()
