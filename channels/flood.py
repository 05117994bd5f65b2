"""Inbound flood control: how many messages one chat, and one network address, may send.

A person types a message every few seconds; a script sends hundreds. Limits are moving windows
(the `limits` library), kept in this process's memory; a hospital running several processes
behind one address can point them at Redis with `storage` (e.g. "async+redis://127.0.0.1:6379").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


@dataclass(frozen=True)
class Refused:
    retry_after: int  # seconds


class FloodGate:
    def __init__(
        self,
        per_chat: str = "20/minute",
        per_address: str = "300/minute",
        storage: str = "async+memory://",
    ) -> None:
        """Limits in the `limits` notation ("20/minute", "5 per second")."""
        backend = storage_from_string(storage)
        if not isinstance(backend, Storage):
            raise ValueError(f"not an asynchronous storage: {storage}")
        self._limiter = MovingWindowRateLimiter(backend)
        self._per_chat: RateLimitItem = parse(per_chat)
        self._per_address: RateLimitItem = parse(per_address)

    async def admit(self, channel: str, chat: str, address: str | None) -> Refused | None:
        """None when this message may go on; otherwise how long to wait. A refused message
        counts against nothing, so a patient who waits is let in again."""
        checks = [(self._per_chat, (channel, "chat", chat))]
        if address:
            checks.append((self._per_address, (channel, "address", address)))
        for item, keys in checks:
            if not await self._limiter.test(item, *keys):
                stats = await self._limiter.get_window_stats(item, *keys)
                return Refused(max(1, int(stats.reset_time - time.time()) + 1))
        for item, keys in checks:
            await self._limiter.hit(item, *keys)
        return None


class Refusals:
    """Requests refused for a missing or wrong credential (a signature, a secret) that one
    network address may send: beyond the limit, the address's requests are answered at once,
    before their body is read, until the window moves on. A request that is accepted never
    counts. And how often to log them: once per `log_every` seconds per kind, with a count."""

    def __init__(
        self,
        per_address: str = "20/15 minutes",
        storage: str = "async+memory://",
        log_every: float = 60.0,
    ) -> None:
        backend = storage_from_string(storage)
        if not isinstance(backend, Storage):
            raise ValueError(f"not an asynchronous storage: {storage}")
        self._limiter = MovingWindowRateLimiter(backend)
        self._per_address: RateLimitItem = parse(per_address)
        self._log_every = log_every
        self._tally: dict[str, tuple[float, int]] = {}  # kind: (last logged, not logged since)

    async def held(self, kind: str, address: str | None) -> Refused | None:
        """How long this address must wait, when it has been refused too often."""
        keys = (kind, "refused", address or "unknown")
        if await self._limiter.test(self._per_address, *keys):
            return None
        stats = await self._limiter.get_window_stats(self._per_address, *keys)
        return Refused(max(1, int(stats.reset_time - time.time()) + 1))

    async def refused(self, kind: str, address: str | None) -> None:
        await self._limiter.hit(self._per_address, kind, "refused", address or "unknown")

    def to_log(self, what: str) -> int | None:
        """How many of `what` to log now (this one and those not logged before it), or None
        while one was logged less than `log_every` seconds ago."""
        now = time.monotonic()
        last, since = self._tally.get(what, (float("-inf"), 0))
        if now - last < self._log_every:
            self._tally[what] = (last, since + 1)
            return None
        self._tally[what] = (now, 0)
        return since + 1
