"""Notices while one channel hangs (issue 15), run by `bench/notices.py --hung` (and by its full
run): how late the notices of healthy channels arrive while the SMS gateway takes requests and
never answers.

Set up in a fresh SQLite database: hung SMS notices due first, then two seconds later (on the
bench's clock) a notice to each of 20 Telegram chats and 20 web chats. The real SMS channel and
client (4 tries of 15 s each) talk to a local gateway stand-in that never answers
(tests/fakes/hung_gateway.py); Telegram's notices go through the real Telegram channel to the
local Bot API; the web chat's are left for the page. The dispatcher runs as `guahao serve` runs
it, in rounds a second apart: now a round per channel, each send within its deadline
(GUAHAO_NOTICE_SEND_SECONDS, 30 s); before, the dispatcher of f7b7840 (read from git) in one
round for every channel. A notice's latency: from the first round's start to its arrival (at
the Bot API, or in the web chat's inbox); the run stops once all 40 have arrived (at most
`GIVE_UP` seconds).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from booking.appointments.notices import NewNotice, NoticeKind
from booking.clock import FixedClock
from booking.protect import Protector
from booking.store import Database, upgrade
from bot.conversations import Conversations
from bot.notices.dispatcher import NoticeDispatcher
from bot.runtime.rounds import every
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from channels.sms import SmsChannel
from channels.sms_gateway import SmsGateway
from channels.telegram import TelegramChannel
from tests.fakes.bot_api import TOKEN, running_bot_api
from tests.fakes.hung_gateway import running_hung_gateway
from tests.fakes.sms_gateway import ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER
from tests.support import MONDAY_9AM, SECRET

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "f7b7840"  # the commit before lanes: one dispatcher for every channel
HEALTHY = 20  # notices to Telegram chats, and as many to web chats
FIRST_CHAT = 5_000_001
GIVE_UP = 100.0  # seconds
ON_TIME = 5.0  # seconds: the target for every healthy notice, after


@dataclass(frozen=True)
class Figure:
    code: str
    hung: int  # SMS notices ahead of the healthy ones
    latencies: list[float]  # seconds, of the healthy notices that arrived

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def slowest(self) -> float:
        return max(self.latencies) if len(self.latencies) == 2 * HEALTHY else float("inf")


async def nobody_writes(_: Inbound) -> list[Outbound]:
    return []


def dispatcher_before() -> type[Any]:
    """The NoticeDispatcher of f7b7840, over today's domain and storage."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:bot/notices.py"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    module = ModuleType("bot.notices_before")
    exec(compile(source, f"{BEFORE}:bot/notices.py", "exec"), module.__dict__)
    dispatcher: type[Any] = module.NoticeDispatcher
    return dispatcher


async def write(db: Database, protector: Protector, clock: FixedClock, hung: int) -> None:
    """`hung` SMS notices due now; two seconds later, one to each healthy chat."""
    about = {"booking_no": "26112500000001", "date": "2026-11-25", "time": "13:30",
             "session_id": 1, "queue_no": 1, "department": "CARD"}  # fmt: skip
    to = [[("sms", f"+86138000{n:05d}") for n in range(hung)]]
    to.append([("telegram", str(FIRST_CHAT + n)) for n in range(HEALTHY)])
    to[1] += [("web", f"page-{n}") for n in range(HEALTHY)]
    for group in to:
        now = clock.now()
        async with db() as uow:
            notices = []
            for channel, user_id in group:
                account = await uow.patients.account(*protector.account(channel, user_id), now)
                await uow.patients.set_address(account.id, protector.encrypt(user_id))
                notices.append(NewNotice(f"hung:{channel}:{user_id}", NoticeKind.CANCELLED,
                                         account.id, now, payload=about))  # fmt: skip
            await uow.notices.add(notices, now)
            await uow.commit()
        clock.advance(timedelta(seconds=2))


async def measure(code: str, hung: int, folder: Path) -> Figure:
    url = f"sqlite+aiosqlite:///{folder / f'{code}-{hung}.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db, clock, protector = Database(url), FixedClock(MONDAY_9AM), Protector(SECRET)
    await write(db, protector, clock, hung)
    conversations = Conversations(db, protector, clock)
    arrived: list[float] = []

    async def to_web(session: str, messages: list[Outbound]) -> None:
        await conversations.leave("web", session, messages)
        arrived.append(time.monotonic())

    with running_hung_gateway() as gateway, running_bot_api() as api:
        client = SmsGateway(gateway.url, ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER)
        now = partial(datetime.now, UTC)
        sms = SmsChannel(nobody_writes, client, auth_token=AUTH_TOKEN, now=now)
        bot = TelegramChannel(TOKEN, nobody_writes, now=now, base_url=api.base_url)
        await bot.start(receive=False)
        senders = {"sms": sms.send, "telegram": bot.send, "web": to_web}
        rounds: list[Callable[[], Awaitable[object]]]
        if code == "before":
            old = dispatcher_before()(db, protector, clock, Texts.load(), senders, conversations)
            rounds = [old.run_once]
        else:
            new = NoticeDispatcher(db, protector, clock, Texts.load(), senders, conversations)
            rounds = [partial(new.run_lane, lane) for lane in new.lanes]
        started = time.monotonic()
        tasks = [asyncio.create_task(every(1.0, "send notices", work)) for work in rounds]
        try:
            while len(arrived) + len(api.all_sent()) < 2 * HEALTHY:
                if time.monotonic() - started > GIVE_UP:
                    break
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bot.stop()
            await client.aclose()
            await db.dispose()
        times = arrived + [m.at for m in api.all_sent()]
    return Figure(code, hung, [t - started for t in times])


def run(say: Callable[[str], None]) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="guahao-bench-lanes-") as folder:
        for code, hung in (("before", 1), ("after", 1), ("after", 5)):
            figure = asyncio.run(measure(code, hung, Path(folder)))
            say(f"{code}, {hung} hung SMS: median {figure.median:.2f} s, "
                f"slowest {figure.slowest:.2f} s")  # fmt: skip
            figures.append(figure)
    return figures


def report(figures: list[Figure], machine: list[str]) -> list[str]:
    before, after = figures[0], figures[1]
    lines = [
        "## Notices while the SMS gateway hangs",
        "",
        *machine,
        "",
        "Command: `python bench/notices.py --hung`",
        "",
        f"Hung SMS notices fall due first; two seconds later a notice to each of {HEALTHY} "
        f"Telegram chats and {HEALTHY} web chats. The SMS gateway takes every request and never "
        "answers (the real SMS client tries 4 times, 15 s each). Latency of the 40 healthy "
        "notices, from the first round's start to their arrival. Before: the dispatcher of "
        f"{BEFORE}, one round for every channel; after: a round per channel, each send within "
        "30 s (GUAHAO_NOTICE_SEND_SECONDS).",
        "",
        "| Dispatcher | Hung SMS notices ahead | Median latency | Slowest |",
        "|---|--:|--:|--:|",
    ]
    for f in figures:
        lines.append(f"| {f.code} | {f.hung} | {f.median:.2f} s | {f.slowest:.2f} s |")
    crowd = figures[-1]
    if before.slowest != float("inf"):
        then = f"{before.slowest:.1f} s before, {before.slowest / after.slowest:.0f}× later"
    else:
        then = f"still not all after {GIVE_UP:.0f} s before"
    lines += [
        "",
        f"With one hung SMS ahead, the slowest healthy notice arrived in {after.slowest:.1f} s "
        f"after the change ({then}); with {crowd.hung} hung SMS ahead, in "
        f"{crowd.slowest:.1f} s. Before, each more hung SMS added about a minute (the client's "
        "4 tries of 15 s) to every other channel's notices.",
    ]
    return lines
