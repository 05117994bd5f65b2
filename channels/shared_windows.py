"""Moving windows that every process counts against: kept in a storage they all reach (Redis,
through the `limits` library), so that several processes sending for one Telegram bot keep to
its limits together rather than each to the whole of them.

Each shared window has a window of this process's own beside it, counting the same calls: it
keeps this process's even pace and the holds Telegram asks for (429 "retry after n"), and it
paces alone while the storage cannot be reached. A send is never failed for want of the
storage: the bot goes on answering patients, the outage and the recovery are logged once each,
and the processes may then together go over the limit for a while, which Telegram answers with
429s that the pacing waits out (and the notice dispatcher retries what still fails).

Times in the storage are the senders' wall clocks (`limits` stamps each call with
`time.time()`): processes on several machines need their clocks kept in step (NTP).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

log = logging.getLogger(__name__)

T = TypeVar("T")
_LEAST_WAIT = 0.002  # seconds: a place another process took first is looked for again soon


class Window(Protocol):
    """At most so many calls start in any so many seconds."""

    turn: asyncio.Lock  # this process's waiters, first come, first served

    async def room(self) -> None:
        """Wait until one more call fits (it counts only once `claim`ed)."""

    async def claim(self) -> bool:
        """Count one call, if it still fits (another process may have come first)."""

    async def take(self) -> None:
        """Wait for a place and count it, in turn."""

    def hold(self, seconds: float) -> None:
        """No call starts in the next `seconds` (Telegram asked to wait)."""

    def idle(self) -> bool:
        """Nothing counted lately, nothing held, nobody waiting: the window may be dropped."""


def in_memory(storage: str | None) -> bool:
    """Whether `storage` (a `limits` storage URI) keeps counts in this process only."""
    return storage is None or storage.split("://", 1)[0] in ("memory", "async+memory")


class SharedCounts:
    """The storage the windows are kept in, asked with a deadline (TIMEOUT seconds). When it
    fails it is left alone for RETRY_EVERY seconds, in which the windows go by their own
    counts: a call does not wait for a storage that is down, only now and then one does."""

    TIMEOUT = 0.5
    RETRY_EVERY = 5.0

    def __init__(self, storage: str) -> None:
        backend = storage_from_string(storage, wrap_exceptions=True)
        if not isinstance(backend, Storage):
            raise ValueError(f"not an asynchronous storage: {storage}")
        self._limiter = MovingWindowRateLimiter(backend)
        self._down_until: float | None = None  # monotonic; None while the storage answers
        self._back_at = 0.0  # monotonic: when it last answered again after being down

    async def take(self, item: RateLimitItem, key: tuple[str, ...]) -> bool:
        """Counts one call if it fits; True too while the storage cannot be asked."""
        taken = await self._ask(lambda: self._limiter.hit(item, *key))
        return taken is None or taken

    async def full_until(self, item: RateLimitItem, key: tuple[str, ...]) -> float | None:
        """When (wall clock) a place comes free; None when there is one (or no answer)."""
        stats = await self._ask(lambda: self._limiter.get_window_stats(item, *key))
        return None if stats is None or stats.remaining > 0 else stats.reset_time

    async def _ask(self, call: Callable[[], Awaitable[T]]) -> T | None:
        asked = time.monotonic()
        if self._down_until is not None and asked < self._down_until:
            return None
        try:
            async with asyncio.timeout(self.TIMEOUT):
                answer = await call()
        except (StorageError, TimeoutError, OSError) as error:
            if asked < self._back_at:
                # Asked before the storage answered again (on a connection the restart broke,
                # say): old news, not a new outage.
                return None
            if self._down_until is None:
                log.warning(
                    "the shared rate-limit storage cannot be reached (%s): this process paces "
                    "its messages alone until it can",
                    type(error).__name__,
                )
            self._down_until = time.monotonic() + self.RETRY_EVERY
            return None
        if self._down_until is not None:
            log.warning("the shared rate-limit storage is reachable again: pacing is shared")
            self._down_until = None
            self._back_at = time.monotonic()
        return answer


class SharedWindow:
    """A window of `count` calls in `seconds` (whole seconds) under `key` in the shared
    storage, with `own`, this process's window of the same rate, beside it."""

    def __init__(
        self, own: Window, counts: SharedCounts, count: int, seconds: float, key: tuple[str, ...]
    ) -> None:
        if seconds < 1 or seconds != int(seconds):
            raise ValueError(f"a shared window lasts whole seconds, not {seconds}")
        self._own = own
        self._counts = counts
        self._item = RateLimitItemPerSecond(count, int(seconds))
        self._key = key
        self.turn = own.turn

    async def room(self) -> None:
        while True:
            await self._own.room()  # a hold Telegram asked for, or the storage is down
            free_at = await self._counts.full_until(self._item, self._key)
            if free_at is None:
                return
            await asyncio.sleep(max(free_at - time.time(), _LEAST_WAIT))

    async def claim(self) -> bool:
        if not await self._counts.take(self._item, self._key):
            return False
        return await self._own.claim()

    async def take(self) -> None:
        async with self.turn:
            while True:
                await self._own.room()
                if await self.claim():  # one step in the storage: no other process between
                    return
                free_at = await self._counts.full_until(self._item, self._key)
                wait = _LEAST_WAIT if free_at is None else free_at - time.time()
                await asyncio.sleep(max(wait, _LEAST_WAIT))

    def hold(self, seconds: float) -> None:
        self._own.hold(seconds)

    def idle(self) -> bool:
        return self._own.idle()
