"""Faults in the sending of notices (issue 6, item 7), on SQLite and PostgreSQL:

- the real `guahao worker`, killed with SIGKILL at random moments while it sends 1,000
  notices by SMS (the fake gateway of tests/fakes) and restarted each time: none is lost, and
  each crash sends at most one again (the one under way when it died). By SMS, not Telegram:
  Telegram's pace (30 messages a second) would make the test three times longer, and claiming
  and marking notices is the same whatever the channel;
- the real Telegram channel against the fake Bot API answering errors for a while: the
  patient's notices are tried again, then arrive, each once, in the order they fell due.

Restarting PostgreSQL under a burst of bookings is in test_faults_database.py; a crash between a
booking and its stored answer in test_faults_booking.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking.appointments.book import book
from booking.appointments.changes import stop_session, transfer
from booking.appointments.notices import NewNotice, NoticeKind
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database, upgrade
from bot.conversations import Conversations
from bot.notices.dispatcher import NoticeDispatcher
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from channels.telegram import TelegramChannel
from tests.fakes.bot_api import TOKEN, FakeBotApi, running_bot_api
from tests.fakes.sms_gateway import ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER, FakeSmsGateway, running
from tests.support import POSTGRES_URL, SECRET, id_number, postgres_schema_outside_loop

GUAHAO = str(Path(sys.executable).with_name("guahao"))
NOTICES = 1000
CRASHES = 4
SEED = 20261123  # the kill moments are drawn from it: a failure can be replayed
HOLD_SECONDS = 2  # GUAHAO_NOTICE_HOLD_SECONDS: a dead worker's claim runs out this soon
PART = re.compile(r"^\((\d+)/(\d+)\) ")  # "(2/3) …": the second of three SMS of one notice


@dataclass(frozen=True)
class Target:
    """A database for `guahao worker`: its URL and, on PostgreSQL, the schema to work in."""

    url: str
    schema: str | None = None

    def database(self) -> Database:
        return Database(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'notices.sqlite3'}"
        upgrade(url)
        yield Target(url)
        return
    with postgres_schema_outside_loop("faults") as schema:
        upgrade(POSTGRES_URL, schema=schema)
        yield Target(POSTGRES_URL, schema)


@pytest.fixture(scope="module")
def nlu_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained by the first worker, read by the others: each start is then quick."""
    return tmp_path_factory.mktemp("nlu-models")


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with running(FakeSmsGateway()) as fake:
        yield fake


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def booking_no(n: int) -> str:
    return f"2611250{n:07d}"


async def due_notices(target: Target, protector: Protector) -> None:
    """NOTICES notices already due, each to an SMS account of its own (so that no patient's
    order holds another back): half reminders with buttons (several SMS each), half news of
    a cancellation (one SMS)."""
    now = datetime.now(UTC)
    db = target.database()
    try:
        async with db() as uow:
            notices = []
            for n in range(NOTICES):
                account = await uow.patients.account(*protector.account("sms", phone(n)), now)
                await uow.patients.set_address(account.id, protector.encrypt(phone(n)))
                reminder = n % 2 == 0
                about = {"booking_no": booking_no(n), "date": "2026-11-25", "time": "13:30",
                         "session_id": 1, "queue_no": n % 20 + 1, "department": "CARD"}  # fmt: skip
                notices.append(
                    NewNotice(
                        key=f"fault:{n}",
                        kind=NoticeKind.REMINDER_EVENING if reminder else NoticeKind.CANCELLED,
                        account_id=account.id,
                        due_at=now - timedelta(minutes=1),
                        not_after=now + timedelta(days=1) if reminder else None,
                        payload=about,
                    )
                )
            await uow.notices.add(notices, now)
            await uow.commit()
    finally:
        await db.dispose()


async def notice_counts(target: Target) -> dict[str, int]:
    db = target.database()
    try:
        async with db(readonly=True) as uow:
            return await uow.notices.counts()
    finally:
        await db.dispose()


@dataclass
class Delivery:
    """What one patient's phone received: how many times the notice began, and whether
    every part of it arrived at least once."""

    copies: int
    complete: bool


def deliveries(gateway: FakeSmsGateway) -> dict[str, Delivery]:
    bodies: dict[str, list[str]] = defaultdict(list)
    for sms in gateway.messages():
        bodies[sms.to].append(sms.body)
    found = {}
    for to, texts in bodies.items():
        parts: dict[int, set[int]] = defaultdict(set)
        copies = 0
        for text in texts:
            mark = PART.match(text)
            number, of = (int(mark.group(1)), int(mark.group(2))) if mark else (1, 1)
            parts[of].add(number)
            copies += number == 1
        complete = any(got == set(range(1, of + 1)) for of, got in parts.items())
        found[to] = Delivery(copies, complete)
    return found


def test_a_worker_killed_at_random_moments_loses_no_notice_and_repeats_one_per_crash_at_most(
    target: Target, gateway: FakeSmsGateway, nlu_models: Path, tmp_path: Path
) -> None:
    protector = Protector(SECRET)
    asyncio.run(due_notices(target, protector))
    # No GUAHAO_NOW: on a fixed clock a dead worker's claim would never run out.
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "SMS_", "GUAHAO_"))
        },
        "DATABASE_URL": target.url,
        "GUAHAO_SECRET_KEY": SECRET,
        "GUAHAO_NLU_MODELS": str(nlu_models),
        "GUAHAO_NOTICE_HOLD_SECONDS": str(HOLD_SECONDS),
        "GUAHAO_NOTICE_SEND_SECONDS": "1.5",  # shorter than the hold, as the settings require
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_ACCOUNT_SID": ACCOUNT_SID,
        "SMS_AUTH_TOKEN": AUTH_TOKEN,
        "SMS_FROM": GATEWAY_NUMBER,
    }
    if target.schema is not None:
        env["GUAHAO_DB_SCHEMA"] = target.schema
    rng = random.Random(SEED)
    # Kill once this many SMS have come in: each kill falls while a worker is sending.
    kill_after = sorted(rng.sample(range(20, NOTICES - 50), CRASHES))
    log = tmp_path / "worker.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            return subprocess.Popen([GUAHAO, "worker"], env=env, stdout=output, stderr=output)

    def alive(worker: subprocess.Popen[bytes]) -> None:
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]

    started = time.monotonic()
    worker = start()
    crashes = 0
    try:
        for count in kill_after:
            deadline = time.monotonic() + 60
            while len(gateway.messages()) < count:
                alive(worker)
                assert time.monotonic() < deadline, f"{len(gateway.messages())} SMS in a minute"
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.03))
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            crashes += 1
            worker = start()
        deadline = time.monotonic() + 120
        while True:  # every notice on its phone, and every row marked
            received = deliveries(gateway)
            done = len(received) == NOTICES and all(d.complete for d in received.values())
            if done and asyncio.run(notice_counts(target)) == {"sent": NOTICES}:
                break
            alive(worker)
            assert time.monotonic() < deadline, (len(received), asyncio.run(notice_counts(target)))
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    took = time.monotonic() - started

    assert set(received) == {phone(n) for n in range(NOTICES)}  # none lost, none astray
    for n in range(NOTICES):
        texts = gateway.sent(phone(n))
        assert booking_no(n) in "".join(texts)  # the patient's own notice
    again = {to: d.copies - 1 for to, d in received.items() if d.copies > 1}
    assert sum(again.values()) <= crashes, again
    print(f"{crashes} crashes, {sum(again.values())} notices sent again, {took:.1f} s")


# -- a channel that fails for a while --------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
WED, THU, FRI = date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)
CHAT = 4242


async def nobody_writes(_: Inbound) -> list[Outbound]:
    return []


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeBotApi, TelegramChannel]]:
    with running_bot_api() as api:
        channel = TelegramChannel(
            TOKEN, nobody_writes, now=lambda: datetime.now(UTC), base_url=api.base_url
        )
        await channel.start(receive=False)  # as `guahao worker` does: sending only
        try:
            yield api, channel
        finally:
            await channel.stop()


async def test_while_telegram_fails_a_patients_notices_are_tried_again_then_arrive_once_in_order(
    demo: Database,
    protector: Protector,
    clock: FixedClock,
    telegram: tuple[FakeBotApi, TelegramChannel],
) -> None:
    api, channel = telegram
    account = protector.account("telegram", str(CHAT))
    patient = await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(1), phone="13812345678",
        account=account,
    )  # fmt: skip
    booked = {}
    for doctor, day, part in (("00868", WED, Part.PM), ("00871", THU, Part.AM),
                              ("00868", FRI, Part.AM)):  # fmt: skip
        [offer] = await search_sessions(
            demo, clock, doctor=doctor, date_from=day, date_to=day, part=part
        )
        receipt = await book(
            demo, clock, patient_id=patient.id, session_id=offer.session.id, channel="telegram",
            account=account, address=protector.encrypt(str(CHAT)),
        )  # fmt: skip
        booked[day] = receipt.appointment.booking_no
    # Wednesday noon, the service down since Tuesday afternoon: Wednesday's two reminders are
    # due; then the hospital moves Thursday's booking and stops Friday's session.
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI))
    [friday] = await search_sessions(
        demo, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    [thursday_pm] = await search_sessions(
        demo, clock, doctor="00902", date_from=THU, date_to=THU, part=Part.PM
    )
    await transfer(demo, clock, booked[THU], thursday_pm.session.id)
    await stop_session(demo, clock, friday.session.id, "医生临时外出会诊")
    expected = [booked[WED], booked[WED], booked[THU], booked[FRI]]  # in the order they fell due

    dispatcher = NoticeDispatcher(
        demo, protector, clock, Texts.load(), {"telegram": channel.send},
        Conversations(demo, protector, clock),
    )  # fmt: skip
    # Telegram answers 429 "retry after 120 s": more than the channel waits for, so the
    # notice fails at once and the dispatcher tries it again 30 s later.
    api.fail_next("sendMessage", 1, retry_after=120)
    assert await dispatcher.run_once() == 0
    assert api.sent(CHAT) == []  # the later ones wait behind the first
    clock.advance(timedelta(seconds=20))
    assert await dispatcher.run_once() == 0  # not yet time to try again
    clock.advance(timedelta(seconds=11))
    # Busy for longer than the channel's own retries (three, a second apart): failed again.
    api.fail_next("sendMessage", 4, retry_after=1)
    assert await dispatcher.run_once() == 0
    assert api.sent(CHAT) == []
    clock.advance(timedelta(seconds=61))
    assert await dispatcher.run_once() == len(expected)
    clock.advance(timedelta(hours=1))
    assert await dispatcher.run_once() == 0  # each once

    got = api.sent(CHAT)
    numbers = [re.search(r"\d{14}", m.text) for m in got]
    assert [n.group(0) if n else None for n in numbers] == expected, [m.text for m in got]
    assert "13:30" in got[1].text  # the reminder two hours before
    assert "改到" in got[2].text and "医生临时外出会诊" in got[3].text
    times = [m.at for m in got]
    assert times == sorted(times)
