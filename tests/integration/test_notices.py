"""Reminders and change notices (issue 6, first part): written with the booking change, sent
by the dispatcher once, on time, never after the visit, never lost (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking.appointments.attendance import mark_noshows
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer, transfer_stopped
from booking.appointments.listing import my_bookings
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import WrongStatus
from booking.patients.accounts import set_quiet
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database, upgrade
from bot.conversations import Conversations
from bot.notices.dispatcher import HOLD, NoticeDispatcher
from bot.texts import Texts
from channels.messages import Outbound
from tests.support import MONDAY_9AM, SECRET, demo_catalogue, id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
WED, FRI = date(2026, 11, 25), date(2026, 11, 27)
CHAT = "4242"


class Refused(Exception):
    permanent = True


@dataclass
class Phone:
    """A channel that records what it was asked to send, and fails when told to."""

    got: list[str] = field(default_factory=list)
    buttons: list[list[str]] = field(default_factory=list)
    failures: int = 0
    refuse: bool = False

    async def send(self, user_id: str, messages: list[Outbound]) -> None:
        if self.refuse:
            raise Refused("blocked")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("gateway down")
        assert user_id == CHAT
        self.got += [m.text for m in messages]
        self.buttons += [[c.key for c in m.choices] for m in messages]


async def a_booking(
    db: Database, protector: Protector, clock: FixedClock, day: date = WED
) -> tuple[str, tuple[str, str]]:
    account = protector.account("telegram", CHAT)
    patient = await register_patient(
        db, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=account,
    )  # fmt: skip
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=day, date_to=day, part=Part.PM
    )
    receipt = await book(
        db, clock, patient_id=patient.id, session_id=offer.session.id, channel="telegram",
        account=account, address=protector.encrypt(CHAT),
    )  # fmt: skip
    return receipt.appointment.booking_no, account


def dispatcher(
    db: Database, protector: Protector, clock: FixedClock, phone: Phone, alerts: list[str]
) -> NoticeDispatcher:
    async def alert(text: str) -> bool:
        alerts.append(text)
        return True

    return NoticeDispatcher(
        db, protector, clock, Texts.load(), {"telegram": phone.send},
        Conversations(db, protector, clock), alert=alert,
    )  # fmt: skip


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


async def test_reminders_go_the_evening_before_and_two_hours_before_once_each(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    booking_no, _ = await a_booking(demo, protector, clock)
    phone, alerts = Phone(), []
    notices = dispatcher(demo, protector, clock, phone, alerts)
    assert await notices.run_once() == 0  # Monday morning: nothing due yet
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 1
    assert await notices.run_once() == 0  # sent once
    assert booking_no in phone.got[0] and "明天" in phone.got[0]
    assert phone.buttons[0] == [
        f"notice:coming:{booking_no}", f"notice:cancel:{booking_no}", f"notice:move:{booking_no}"
    ]  # fmt: skip
    clock.set(at(WED, 11, 30))  # the first place of the afternoon is at 13:30
    assert await notices.run_once() == 1
    assert booking_no in phone.got[1] and "13:30" in phone.got[1]
    # On the visit day a booking can no longer move: only confirm or cancel.
    assert phone.buttons[1] == [f"notice:coming:{booking_no}", f"notice:cancel:{booking_no}"]
    assert alerts == []


async def test_a_reminder_missed_while_the_service_was_down_goes_late_but_never_after_the_visit(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    phone = Phone()
    clock.set(at(WED, 12, 0))  # down since Tuesday afternoon: both reminders are due
    assert await dispatcher(demo, protector, clock, phone, []).run_once() == 2
    assert "今天" in phone.got[0] and "明天" not in phone.got[0]  # sent on the day of the visit


async def test_nothing_is_sent_once_the_visit_has_begun(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    phone = Phone()
    clock.set(at(WED, 13, 31))
    assert await dispatcher(demo, protector, clock, phone, []).run_once() == 0
    assert phone.got == []


async def test_cancelling_or_moving_a_booking_withdraws_its_reminders(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    booking_no, account = await a_booking(demo, protector, clock)
    [friday] = await search_sessions(
        demo, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    await transfer(demo, clock, booking_no, friday.session.id, account=account)
    phone = Phone()
    notices = dispatcher(demo, protector, clock, phone, [])
    clock.set(at(WED, 12, 0))
    assert await notices.run_once() == 0  # Wednesday's reminders went with the move
    clock.set(at(FRI - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 1 and FRI.isoformat() in phone.got[0]
    await cancel(demo, clock, booking_no, account=account)
    clock.set(at(FRI, 7, 0))
    assert await notices.run_once() == 0  # the patient cancelled: no reminder, no notice


async def test_a_booking_moved_back_where_it_was_gets_its_reminders_again(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    """A -> B -> A by 转号, then B -> A after a stop of B: every time the booking is back in
    Wednesday's session it has both of Wednesday's reminders, once each."""
    booking_no, account = await a_booking(demo, protector, clock)
    [wednesday] = await search_sessions(
        demo, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    [friday] = await search_sessions(
        demo, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    await transfer(demo, clock, booking_no, friday.session.id, account=account)
    await transfer(demo, clock, booking_no, wednesday.session.id, account=account)
    phone = Phone()
    notices = dispatcher(demo, protector, clock, phone, [])
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 1 and WED.isoformat() in phone.got[-1]
    clock.set(at(WED, 11, 30))
    assert await notices.run_once() == 1 and "13:30" in phone.got[-1]
    assert await notices.run_once() == 0  # none twice


async def test_a_stopped_booking_moved_back_to_its_first_session_gets_its_reminders(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    booking_no, account = await a_booking(demo, protector, clock)
    [wednesday] = await search_sessions(
        demo, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    [friday] = await search_sessions(
        demo, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    await transfer(demo, clock, booking_no, friday.session.id, account=account)
    await stop_session(demo, clock, friday.session.id, "医生临时外出会诊")
    await transfer_stopped(demo, clock, booking_no, wednesday.session.id, account=account)
    phone = Phone()
    notices = dispatcher(demo, protector, clock, phone, [])
    await notices.run_once()  # the stop notice, and the alert for operations
    assert len(phone.got) == 1 and "停诊" in phone.got[0]
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 1 and WED.isoformat() in phone.got[-1]
    clock.set(at(WED, 11, 30))
    assert await notices.run_once() == 1 and "13:30" in phone.got[-1]
    clock.set(at(FRI - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 0  # nothing for the stopped Friday


async def test_a_stop_tells_every_patient_with_the_reason(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    booking_no, _ = await a_booking(demo, protector, clock)
    [offer] = await search_sessions(
        demo, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    await stop_session(demo, clock, offer.session.id, "医生临时外出会诊")
    phone, alerts = Phone(), []
    assert await dispatcher(demo, protector, clock, phone, alerts).run_once() == 2
    assert booking_no in phone.got[0] and "医生临时外出会诊" in phone.got[0]
    *moves, again = phone.buttons[0]
    assert again == "notice:again:CARD"  # or book again in the department
    # One press moves the booking to one of the nearest sessions of the department.
    assert len(moves) == 3 and all(m.startswith(f"notice:rebook:{booking_no}:") for m in moves)
    to_session = int(moves[0].rsplit(":", 1)[1])
    receipt = await transfer_stopped(
        demo, clock, booking_no, to_session, account=protector.account("telegram", CHAT)
    )
    assert receipt.appointment.booking_no == booking_no and receipt.session.id == to_session
    [view] = await my_bookings(demo, *protector.account("telegram", CHAT))
    assert view.status == "booked" and view.session_id == to_session and not view.refund_due
    with pytest.raises(WrongStatus):  # it moved once; the second press cannot move it again
        await transfer_stopped(
            demo, clock, booking_no, int(moves[1].rsplit(":", 1)[1]),
            account=protector.account("telegram", CHAT),
        )  # fmt: skip
    [alert] = alerts  # and operations are told, once
    assert "停诊" in alert and "00868" in alert and "医生临时外出会诊" in alert
    clock.set(at(WED, 12, 0))
    assert await dispatcher(demo, protector, clock, phone, []).run_once() == 0  # no reminders


async def test_a_failing_channel_is_tried_again_and_a_refusing_one_is_given_up_with_an_alert(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    phone, alerts = Phone(failures=2), []
    notices = dispatcher(demo, protector, clock, phone, alerts)
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 0  # down
    clock.advance(timedelta(seconds=30))
    assert await notices.run_once() == 0  # still down
    clock.advance(timedelta(seconds=59))
    assert await notices.run_once() == 0  # not yet time to try again
    clock.advance(timedelta(seconds=2))
    assert await notices.run_once() == 1 and len(phone.got) == 1

    phone.refuse = True  # the patient blocked the bot: no use trying again
    clock.set(at(WED, 11, 30))
    assert await notices.run_once() == 0
    clock.advance(timedelta(hours=1))
    assert await notices.run_once() == 0
    assert len(alerts) == 1 and "reminder_soon" in alerts[0]


async def test_the_next_try_is_counted_from_when_the_failed_try_ended(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    tries: list[datetime] = []

    async def slow_then_down(user_id: str, messages: list[Outbound]) -> None:
        tries.append(clock.now())
        if len(tries) == 1:
            clock.advance(timedelta(minutes=1))  # the gateway took a minute to fail
            raise ConnectionError("gateway down")

    notices = NoticeDispatcher(
        demo, protector, clock, Texts.load(), {"telegram": slow_then_down},
        Conversations(demo, protector, clock),
    )  # fmt: skip
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 0
    ended = clock.now()
    clock.advance(timedelta(seconds=29))
    assert await notices.run_once() == 0 and len(tries) == 1  # 30 s after it ended, not began
    clock.advance(timedelta(seconds=2))
    assert await notices.run_once() == 1
    assert tries[1] - ended >= timedelta(seconds=30)


async def test_an_account_that_asked_for_no_reminders_gets_none_but_does_get_a_stop(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    booking_no, account = await a_booking(demo, protector, clock)
    await set_quiet(demo, clock, account, True)
    phone = Phone()
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await dispatcher(demo, protector, clock, phone, []).run_once() == 0
    [offer] = await search_sessions(
        demo, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    await stop_session(demo, clock, offer.session.id, "设备检修")
    assert await dispatcher(demo, protector, clock, phone, []).run_once() == 2  # and the alert
    assert booking_no in phone.got[0]


async def test_two_dispatchers_send_each_notice_once_and_a_dead_ones_claim_runs_out(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    phone = Phone()
    clock.set(at(WED, 12, 0))
    sent = await asyncio.gather(
        dispatcher(demo, protector, clock, phone, []).run_once(),
        dispatcher(demo, protector, clock, phone, []).run_once(),
    )
    assert sum(sent) == 2 and len(phone.got) == 2

    # A dispatcher that claimed and died before sending: the claim runs out, then it goes.
    await a_booking_for_another(demo, protector, clock)
    clock.set(at(FRI - timedelta(days=1), 20, 0))
    async with demo() as uow:
        claimed = await uow.notices.claim(clock.now(), clock.now() + HOLD, 10)
        await uow.commit()
    assert claimed
    notices = dispatcher(demo, protector, clock, phone, [])
    assert await notices.run_once() == 0
    clock.advance(HOLD + timedelta(seconds=1))
    assert await notices.run_once() == len(claimed)


async def a_booking_for_another(
    db: Database, protector: Protector, clock: FixedClock
) -> tuple[str, tuple[str, str]]:
    account = protector.account("telegram", CHAT)
    patient = await register_patient(
        db, protector, clock, name="李四", id_number=id_number(2), phone="13812345679",
        account=account,
    )  # fmt: skip
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    receipt = await book(
        db, clock, patient_id=patient.id, session_id=offer.session.id, channel="telegram",
        account=account,
    )  # fmt: skip
    return receipt.appointment.booking_no, account


async def test_while_a_channel_fails_a_patients_notices_wait_and_then_go_in_order(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    await a_booking(demo, protector, clock)
    phone = Phone(failures=1)
    notices = dispatcher(demo, protector, clock, phone, [])
    clock.set(at(WED, 12, 0))  # down since Tuesday: both reminders are due
    assert await notices.run_once() == 0  # the first failed: the second waits behind it
    clock.advance(timedelta(seconds=31))
    assert await notices.run_once() == 2
    assert "今天" in phone.got[0] and "准时" in phone.got[1]  # in the order they fell due


async def test_bookings_nobody_checked_in_for_become_no_shows_and_the_third_brings_a_ban(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    account = protector.account("telegram", CHAT)
    patient = await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=account,
    )  # fmt: skip
    visits = [(date(2026, 11, 23), Part.AM), (WED, Part.PM), (FRI, Part.AM)]
    numbers = []
    for day, part in visits:
        [offer] = await search_sessions(
            demo, clock, doctor="00868", date_from=day, date_to=day, part=part
        )
        receipt = await book(
            demo, clock, patient_id=patient.id, session_id=offer.session.id,
            channel="telegram", account=account, address=protector.encrypt(CHAT),
        )  # fmt: skip
        numbers.append(receipt.appointment.booking_no)
    [monday] = await search_sessions(
        demo, clock, doctor="00868", date_from=date(2026, 11, 23), date_to=date(2026, 11, 23)
    )
    clock.set(monday.session.ends_at + timedelta(minutes=30))  # ended, not an hour ago
    assert await mark_noshows(demo, clock) == 0
    clock.set(monday.session.ends_at + timedelta(minutes=61))
    assert await mark_noshows(demo, clock) == 1
    assert await mark_noshows(demo, clock) == 0  # once
    clock.set(at(FRI, 23, 0))  # Wednesday's and Friday's too, by Friday night: the third
    assert await mark_noshows(demo, clock) == 2
    phone, alerts = Phone(), []
    await dispatcher(demo, protector, clock, phone, alerts).run_once()
    [ban] = [text for text in phone.got if "不能在线预约" in text]
    assert "2027-02-25" in ban and "3次" in ban  # 90 days from Friday


async def test_a_web_chat_patient_finds_the_reminder_when_the_page_next_asks(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    account = protector.account("web", "browser-session-1")
    patient = await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=account,
    )  # fmt: skip
    [offer] = await search_sessions(
        demo, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    receipt = await book(
        demo, clock, patient_id=patient.id, session_id=offer.session.id, channel="web",
        account=account, address=protector.encrypt("browser-session-1"),
    )  # fmt: skip
    conversations = Conversations(demo, protector, clock)

    async def to_web(session: str, messages: list[Outbound]) -> None:
        await conversations.leave("web", session, messages)

    notices = NoticeDispatcher(demo, protector, clock, Texts.load(), {"web": to_web}, conversations)
    clock.set(at(WED - timedelta(days=1), 20, 0))
    assert await notices.run_once() == 1
    [reminder] = await conversations.collect("web", "browser-session-1")
    assert receipt.appointment.booking_no in reminder.text
    assert [c.key.split(":")[1] for c in reminder.choices] == ["coming", "cancel", "move"]
    assert await conversations.collect("web", "browser-session-1") == []  # given once
    assert await conversations.collect("web", "another-session") == []


def test_the_demo_clock_can_be_moved_forward_to_watch_a_reminder_arrive(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    upgrade(url)
    clock = FixedClock(MONDAY_9AM)
    protector = Protector(SECRET)
    account = protector.account("web", "browser-session-1")

    async def a_web_booking() -> None:
        db = Database(url)
        await import_catalogue(db, demo_catalogue())
        await generate_sessions(db, clock)
        patient = await register_patient(
            db, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
            account=account,
        )  # fmt: skip
        [offer] = await search_sessions(
            db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
        )
        await book(
            db, clock, patient_id=patient.id, session_id=offer.session.id, channel="web",
            account=account, address=protector.encrypt("browser-session-1"),
        )  # fmt: skip
        await db.dispose()

    async def the_page_asks() -> list[Outbound]:
        db = Database(url)
        try:
            return await Conversations(db, protector, clock).collect("web", "browser-session-1")
        finally:
            await db.dispose()

    asyncio.run(a_web_booking())
    env = {**os.environ, "DATABASE_URL": url, "GUAHAO_SECRET_KEY": SECRET,
           "GUAHAO_NLU_MODELS": str(tmp_path / "models")}  # fmt: skip
    forward = [str(Path(sys.executable).with_name("guahao")), "demo", "forward", "--to"]
    done = subprocess.run(
        [*forward, "2026-11-24T20:00:00+08:00"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 notices sent" in done.stdout
    [reminder] = asyncio.run(the_page_asks())
    assert "明天" in reminder.text
    wrong = subprocess.run([*forward, "tomorrow"], env=env, capture_output=True, text=True)
    assert wrong.returncode != 0 and "--to" in wrong.stderr
