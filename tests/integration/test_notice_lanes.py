"""One lane per channel (issue 15): a channel that hangs holds up only its own notices, on
SQLite and PostgreSQL.

- an SMS gateway stand-in on 127.0.0.1 that takes each request and never answers: the web chat's
  and Telegram's notices, written after the SMS ones, still arrive within seconds, from the
  dispatcher and from a real `guahao worker`; each SMS try ends at its deadline, and is tried
  again 30 s after it ended;
- a lane slower than its claim renews it: another dispatcher never sends its notices too.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking.appointments.notices import NewNotice, NoticeKind
from booking.clock import FixedClock
from booking.protect import Protector
from booking.store import Database, upgrade
from bot.conversations import Conversations
from bot.notices.dispatcher import HOLD, NoticeDispatcher
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from channels.sms import SmsChannel
from channels.sms_gateway import SmsGateway
from channels.telegram import TelegramChannel
from tests.fakes.bot_api import TOKEN, FakeBotApi, running_bot_api
from tests.fakes.hung_gateway import HungGateway, running_hung_gateway
from tests.fakes.sms_gateway import ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER
from tests.support import POSTGRES_URL, SECRET, postgres_schema_outside_loop

CHAT, WEB = 4242, "browser-session-1"
PHONES = ["+8613800000001", "+8613800000002", "+8613800000003"]
SMS_WITHIN = 3.0  # the SMS lane's deadline: each hung try ends after it
ON_TIME = 5.0  # seconds: a healthy channel's notice, on a noisy 2-core machine


async def nobody_writes(_: Inbound) -> list[Outbound]:
    return []


@pytest.fixture
async def hung() -> AsyncIterator[tuple[HungGateway, SmsChannel]]:
    with running_hung_gateway() as gateway:
        # The real client, with its own tries and timeouts (4 × 15 s): the lane's deadline ends
        # each try.
        client = SmsGateway(gateway.url, ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER)
        channel = SmsChannel(
            nobody_writes, client, auth_token=AUTH_TOKEN, now=lambda: datetime.now(UTC)
        )
        try:
            yield gateway, channel
        finally:
            await client.aclose()


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


def about(n: int) -> dict[str, Any]:
    return {"booking_no": f"26112500000{n:03d}", "date": "2026-11-25", "time": "13:30",
            "session_id": 1, "queue_no": n, "department": "CARD", "part": "pm",
            "doctor": "00868", "expires": "09:30", "entry_id": n}  # fmt: skip


async def write_notices(
    db: Database,
    protector: Protector,
    clock: FixedClock,
    to: list[tuple[str, str]],
    kind: NoticeKind = NoticeKind.CANCELLED,
) -> None:
    """A notice due now to each (channel, user id), as a change writes them."""
    now = clock.now()
    async with db() as uow:
        notices = []
        for n, (channel, user_id) in enumerate(to):
            account = await uow.patients.account(*protector.account(channel, user_id), now)
            await uow.patients.set_address(account.id, protector.encrypt(user_id))
            notices.append(
                NewNotice(f"{kind.value}:{channel}:{user_id}:{now.isoformat()}", kind,
                          account.id, now, payload=about(n + 1))
            )  # fmt: skip
        await uow.notices.add(notices, now)
        await uow.commit()


async def test_a_hung_sms_gateway_holds_up_neither_web_chat_nor_telegram_notices(
    demo: Database,
    protector: Protector,
    clock: FixedClock,
    hung: tuple[HungGateway, SmsChannel],
    telegram: tuple[FakeBotApi, TelegramChannel],
) -> None:
    gateway, sms = hung
    api, bot = telegram
    conversations = Conversations(demo, protector, clock)

    async def to_web(session: str, messages: list[Outbound]) -> None:
        await conversations.leave("web", session, messages)

    notices = NoticeDispatcher(
        demo, protector, clock, Texts.load(),
        {"sms": sms.send, "telegram": bot.send, "web": to_web}, conversations,
        deadlines={"sms": SMS_WITHIN},
    )  # fmt: skip
    await write_notices(demo, protector, clock, [("sms", phone) for phone in PHONES])
    clock.advance(timedelta(seconds=2))  # two seconds later, a waitlist offer and a web notice
    started = clock.now()
    await write_notices(
        demo, protector, clock, [("telegram", str(CHAT))], NoticeKind.WAITLIST_OFFER
    )
    await write_notices(demo, protector, clock, [("web", WEB)])

    began = time.monotonic()
    run = asyncio.create_task(notices.run_once())
    try:
        assert await asyncio.to_thread(gateway.arrived.wait, ON_TIME)
        # The first SMS try hangs for what the clock counts as a minute.
        clock.advance(timedelta(minutes=1))
        [offer] = await api.wait_sent(CHAT, 1, within=ON_TIME)
        web: list[Outbound] = []
        while not web and time.monotonic() - began < ON_TIME:
            web = await conversations.collect("web", WEB)
            await asyncio.sleep(0.05)
        arrived = time.monotonic() - began
        assert web and "已由医院取消" in web[0].text
        assert offer.at - began < ON_TIME and arrived < ON_TIME
        assert "候补有号了" in offer.text
        assert not run.done()  # the SMS lane is still stuck on its gateway
        sent = await asyncio.wait_for(run, len(PHONES) * SMS_WITHIN + 30)
    finally:
        run.cancel()
    assert sent == 2  # Telegram and the web chat; every SMS try ran out of time
    took = time.monotonic() - began
    assert gateway.requests == len(PHONES) and took < len(PHONES) * (SMS_WITHIN + 5)

    # The gateway is back. The first try ended a minute after it began: the next is 30 s
    # after that end, not after its start (which would be now).
    gateway.recovered = True
    ended = started + timedelta(minutes=1)
    clock.set(ended + timedelta(seconds=29))
    assert await notices.run_lane("sms") == 0
    assert gateway.requests == len(PHONES)
    clock.set(ended + timedelta(seconds=31))
    assert await notices.run_lane("sms") == len(PHONES)
    assert gateway.requests == 2 * len(PHONES)
    assert await notices.run_once() == 0  # each once


async def test_a_lane_slower_than_its_claim_renews_it_and_no_notice_goes_twice(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    got: list[tuple[str, str]] = []
    chats = [str(CHAT + n) for n in range(4)]

    def phone(name: str) -> Any:
        async def send(user_id: str, messages: list[Outbound]) -> None:
            got.append((name, user_id))
            if name == "slow":
                # Each send takes most of a claim; meanwhile another dispatcher looks.
                clock.advance(HOLD - timedelta(seconds=20))
                await other.run_once()

        return send

    conversations = Conversations(demo, protector, clock)
    slow = NoticeDispatcher(
        demo, protector, clock, Texts.load(), {"telegram": phone("slow")}, conversations
    )
    other = NoticeDispatcher(
        demo, protector, clock, Texts.load(), {"telegram": phone("other")}, conversations
    )
    await write_notices(demo, protector, clock, [("telegram", chat) for chat in chats])
    assert await slow.run_once() == len(chats)
    assert sorted(user for _, user in got) == chats, got  # each once, none by the other
    assert await other.run_once() == 0


# -- `guahao worker`, as a hospital runs it ---------------------------------------------------

GUAHAO = str(Path(sys.executable).with_name("guahao"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A migrated database for a worker, as its environment names it."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lanes.sqlite3'}"
        upgrade(url)
        yield {"DATABASE_URL": url}
        return
    with postgres_schema_outside_loop("lanes") as schema:
        upgrade(POSTGRES_URL, schema=schema)
        yield {"DATABASE_URL": POSTGRES_URL, "GUAHAO_DB_SCHEMA": schema}


def test_guahao_worker_with_a_hung_sms_gateway_still_sends_telegram_and_web_chat_notices(
    store: dict[str, str], tmp_path: Path
) -> None:
    protector = Protector(SECRET)

    async def written(clock: FixedClock) -> None:
        db = Database(store["DATABASE_URL"], schema=store.get("GUAHAO_DB_SCHEMA"))
        try:
            await write_notices(db, protector, clock, [("sms", phone) for phone in PHONES])
            clock.advance(timedelta(seconds=2))
            await write_notices(db, protector, clock, [("telegram", str(CHAT))])
            await write_notices(db, protector, clock, [("web", WEB)])
        finally:
            await db.dispose()

    async def web_inbox() -> list[Outbound]:
        db = Database(store["DATABASE_URL"], schema=store.get("GUAHAO_DB_SCHEMA"))
        try:
            return await Conversations(db, protector, FixedClock()).collect("web", WEB)
        finally:
            await db.dispose()

    asyncio.run(written(FixedClock(datetime.now(UTC) - timedelta(seconds=2))))
    log = tmp_path / "worker.log"
    with (
        running_hung_gateway() as gateway,
        running_bot_api() as api,
        log.open("wb") as output,
    ):
        env = {
            **{k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "SMS_", "GUAHAO_"))},
            **store,
            "GUAHAO_SECRET_KEY": SECRET,
            "GUAHAO_NLU_MODELS": str(tmp_path / "models"),
            "SMS_GATEWAY_URL": gateway.url, "SMS_ACCOUNT_SID": ACCOUNT_SID,
            "SMS_AUTH_TOKEN": AUTH_TOKEN, "SMS_FROM": GATEWAY_NUMBER,
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
        }  # fmt: skip
        worker = subprocess.Popen([GUAHAO, "worker"], env=env, stdout=output, stderr=output)
        try:
            assert gateway.arrived.wait(120), log.read_text(errors="replace")[-3000:]
            stuck_since = time.monotonic()  # the SMS lane is stuck on its first SMS
            web: list[Outbound] = []
            while not (web and api.sent(CHAT)) and time.monotonic() - stuck_since < 30:
                assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
                web = web or asyncio.run(web_inbox())
                time.sleep(0.1)
            arrived = time.monotonic() - stuck_since
            assert web and api.sent(CHAT), f"nothing but the SMS after {arrived:.0f} s"
            assert arrived < ON_TIME
            assert gateway.requests == 1  # and the SMS gateway still holds the first
        finally:
            worker.terminate()
            worker.wait(30)
