"""The shared rate-limit storage going down and coming back is told once each way, even when
calls asked before it came back fail afterwards (on connections its restart broke)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from limits import RateLimitItemPerSecond

from channels.shared_windows import SharedCounts

ITEM = RateLimitItemPerSecond(30)


class Storage:
    """A limiter whose each hit waits for the test to say how it ends."""

    def __init__(self) -> None:
        self.answers: list[asyncio.Future[bool]] = []

    async def hit(self, *args: Any) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.answers.append(answer)
        return await answer


def told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "channels.shared_windows"]


async def test_a_call_asked_before_the_storage_came_back_does_not_say_it_is_down_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="channels.shared_windows")
    monkeypatch.setattr(SharedCounts, "RETRY_EVERY", 0.0)
    counts = SharedCounts("async+memory://")
    storage = Storage()
    counts._limiter = storage  # type: ignore[assignment]

    first = asyncio.create_task(counts.take(ITEM, ("bot",)))
    await asyncio.sleep(0)
    storage.answers[0].set_exception(ConnectionError("refused"))
    assert await first  # down: this process paces alone
    assert len(told(caplog)) == 1 and "cannot be reached" in told(caplog)[0]

    stale = asyncio.create_task(counts.take(ITEM, ("bot",)))
    fresh = asyncio.create_task(counts.take(ITEM, ("bot",)))
    await asyncio.sleep(0)
    storage.answers[2].set_result(False)  # back, and the window is full
    assert await fresh is False
    storage.answers[1].set_exception(BrokenPipeError())
    assert await stale
    assert len(told(caplog)) == 2 and "reachable again" in told(caplog)[1]

    later = asyncio.create_task(counts.take(ITEM, ("bot",)))
    await asyncio.sleep(0)
    storage.answers[3].set_exception(ConnectionError("refused"))
    assert await later  # a new outage is told again
    assert len(told(caplog)) == 3 and "cannot be reached" in told(caplog)[2]
