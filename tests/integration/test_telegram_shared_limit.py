"""One bot's Telegram limits hold across processes (issue 6): processes sending for the same bot
token count in one Redis (GUAHAO_RATE_LIMIT_STORAGE), so that together they stay within the
30 messages a second Telegram allows the bot, where each counting alone would go over it. The
local Bot API here enforces Telegram's limits (tests/fakes/bot_api.FloodLimits) and counts what
it refuses. These tests need the Redis server at 127.0.0.1:6379; each uses keys of its own.
They run alone (`serial`, see docs/testing.md): "never refused" is a matter of timing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from channels.messages import Inbound, Outbound
from channels.shared_windows import SharedCounts
from channels.telegram import Pacing, TelegramChannel
from tests.fakes.bot_api import TOKEN, FakeBotApi, FloodLimits, free_port, running_bot_api
from tests.support import ROOT
from tests.webserver import serving

REDIS = "async+redis://127.0.0.1:6379"
LIMIT = 30  # Telegram's messages a second for one bot, and our pacing's
EACH = 60  # messages each process sends: two seconds' worth at the limit

pytestmark = pytest.mark.serial


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_bot_api(limits=FloodLimits(per_bot=LIMIT)) as fake:
        yield fake


def a_bot() -> str:
    """A bot of the test's own in the shared Redis: tests never count against each other."""
    return f"test-{uuid.uuid4().hex[:12]}"


def a_sender(api: FakeBotApi, storage: str, bot: str, chats: range) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.telegram_sender", api.base_url,
         "--storage", storage, "--bot", bot, "--chats", f"{chats.start}-{chats.stop - 1}"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def processes_send(api: FakeBotApi, storage: str, processes: int) -> list[int]:
    """Each of `processes` sender processes sends EACH messages to chats of its own, all of
    them starting together; how many each could not deliver."""
    bot = a_bot()
    senders = [
        a_sender(api, storage, bot, range(1000 * n + 1, 1000 * n + EACH + 1))
        for n in range(1, processes + 1)
    ]
    try:
        for sender in senders:
            assert sender.stdout is not None and sender.stdout.readline().strip() == "ready"
        for sender in senders:
            assert sender.stdin is not None
            sender.stdin.write("go\n")
            sender.stdin.flush()
        said = [sender.communicate(timeout=60)[0] for sender in senders]
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
                sender.wait()
    assert all(sender.returncode == 0 for sender in senders), said
    return [int(words.split()[-1]) for words in said]


def most_within(times: list[float], seconds: float) -> int:
    """The most messages that arrived within any `seconds`."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def arrivals(api: FakeBotApi) -> list[float]:
    return sorted(message.at for message in api.all_sent())


def test_two_processes_sharing_redis_keep_together_to_the_bots_limit(api: FakeBotApi) -> None:
    assert processes_send(api, REDIS, 2) == [0, 0]
    assert api.too_many == 0  # Telegram never had to refuse one
    times = arrivals(api)
    assert len(times) == 2 * EACH and len({m.chat_id for m in api.all_sent()}) == 2 * EACH
    assert api.limits is not None
    assert most_within(times, 1.0 - api.limits.slack) <= LIMIT
    # A second's worth goes in the first second, the rest at the limit: used, not wasted.
    rate = (len(times) - LIMIT) / (times[-1] - times[0])
    assert 0.8 * LIMIT <= rate <= LIMIT * 1.02, rate


def test_two_processes_pacing_each_alone_go_over_it(api: FakeBotApi) -> None:
    """What the shared count is for: counting in memory, each keeps to 30 a second, so that
    the bot sends 60 a second and Telegram refuses."""
    processes_send(api, "async+memory://", 2)
    assert api.too_many > 0


def test_one_process_alone_keeps_to_it(api: FakeBotApi) -> None:
    assert processes_send(api, "async+memory://", 1) == [0]
    assert api.too_many == 0 and len(api.all_sent()) == EACH


async def nothing(_: Inbound) -> list[Outbound]:
    return []


async def started(api: FakeBotApi, storage: str, bot: str) -> TelegramChannel:
    channel = TelegramChannel(
        TOKEN, nothing, now=lambda: datetime.now(UTC), base_url=api.base_url,
        pacing=Pacing(storage=storage, bot=bot),
    )  # fmt: skip
    await channel.start(receive=False)
    return channel


async def test_two_senders_to_one_patient_leave_a_second_between_messages(
    api: FakeBotApi,
) -> None:
    """`guahao serve` answering a patient while a worker sends them a reminder: one chat's
    limit (a message a second) is shared too."""
    bot = a_bot()
    serve, worker = await started(api, REDIS, bot), await started(api, REDIS, bot)
    try:
        chat = "4242"
        await asyncio.gather(
            *(
                channel.send(chat, [Outbound(f"{name} {n}")])
                for n in range(2)
                for name, channel in (("serve", serve), ("worker", worker))
            )
        )
    finally:
        await serve.stop()
        await worker.stop()
    times = arrivals(api)
    assert len(times) == 4 and api.too_many == 0
    assert api.limits is not None
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 - api.limits.slack


@contextmanager
def a_redis_server(port: int) -> Iterator[None]:
    """A Redis of the test's own, which it can stop and start again."""
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            assert time.monotonic() < deadline and server.poll() is None, "redis did not start"
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(10)


def redis_keys(port: int) -> str:
    scan = ["redis-cli", "-p", str(port), "--scan"]
    return subprocess.run(scan, capture_output=True, text=True, check=True).stdout


async def test_while_redis_is_down_messages_still_go_paced_by_each_process_and_it_is_logged(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SharedCounts, "RETRY_EVERY", 0.5)
    port, bot = free_port(), a_bot()
    caplog.set_level(logging.WARNING, logger="channels.shared_windows")

    def told() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "channels.shared_windows"]

    async def burst(channel: TelegramChannel, first: int) -> None:
        chats = range(first, first + LIMIT + 10)  # more than a second's worth
        await asyncio.gather(*(channel.send(str(c), [Outbound("提醒")]) for c in chats))

    with a_redis_server(port):
        channel = await started(api, f"async+redis://127.0.0.1:{port}", bot)
        await burst(channel, 1000)
    try:
        assert told() == []
        await burst(channel, 2000)  # Redis is gone: paced in this process
        [down] = told()
        assert "cannot be reached" in down
        await asyncio.sleep(0.6)
        with a_redis_server(port):
            await burst(channel, 3000)
            keys = await asyncio.to_thread(redis_keys, port)
        assert bot in keys  # counted in Redis again
    finally:
        await channel.stop()
    assert len(told()) == 2 and "reachable again" in told()[1]
    assert api.too_many == 0 and len(api.all_sent()) == 3 * (LIMIT + 10)


@asynccontextmanager
async def served(folder: Path, **settings: str) -> AsyncIterator[str]:
    """tests.webserver.serving, entered off the event loop (it runs its own set-up loop)."""
    server = serving(folder, **settings)
    base = await asyncio.to_thread(server.__enter__)
    try:
        yield base
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


async def test_guahao_serve_counts_the_bots_messages_in_the_redis_it_is_given(
    tmp_path: Path, api: FakeBotApi
) -> None:
    """The application's wiring: GUAHAO_RATE_LIMIT_STORAGE, and the bot's id from its token.
    When another process has just used the bot's whole second, a reply waits for the next."""
    settings = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "GUAHAO_RATE_LIMIT_STORAGE": REDIS,
    }
    async with served(tmp_path, **settings):
        api.user_says(5001, "/start")  # the first answer also warms the application up
        await api.wait_sent(5001, 1)
        # Another process sends for the bot (123456: its token's id) what is left of a second's
        # worth at once, counted where the pacing counts the bot's messages.
        elsewhere = MovingWindowRateLimiter(storage_from_string(REDIS))
        second = RateLimitItemPerSecond(LIMIT, 1)
        taken = [await elsewhere.hit(second, "telegram", "123456", "bot") for _ in range(LIMIT + 1)]
        assert not taken[-1]  # the bot's second is full
        full = time.monotonic()
        api.user_says(5002, "/start")
        [reply] = await api.wait_sent(5002, 1)
    assert reply.at - full >= 0.8
    assert api.too_many == 0
