"""Pacing of every Bot API call, plugged into python-telegram-bot as its rate limiter.

Telegram's published limits: about 30 messages a second for a bot, one a second in a private
chat, 20 a minute in a group. Messages wait here until their turn rather than being refused
by Telegram; when Telegram still answers 429 ("retry after n seconds"), the call waits that
long (and so do the chat's next messages) and is tried again, a bounded number of times.
Edits are not new messages: they count against the bot's limit only, so removing a pressed
keyboard never delays the reply; calls about no chat (answering a button press, setting the
commands) are not held back. A process spreads the bot's messages evenly (one every 1/30 s)
rather than sending a second's worth at once: a burst reaches Telegram stretched by the
network and by our own event loop, and its tail would count in Telegram's next second.

The limits are the bot's, not a process's: by default they are counted in this process, and
with a shared `storage` (Redis) in it, so that every process sending for one bot token
(`guahao serve`, `guahao worker`s) keeps to them together (channels.shared_windows, which also
says what happens while Redis cannot be reached: each process paces alone, logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from channels.shared_windows import SharedCounts, SharedWindow, Window, in_memory

log = logging.getLogger(__name__)

Answer = bool | dict[str, Any] | list[dict[str, Any]]
_NEW_MESSAGE = ("send", "forward", "copy")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float


class _Window:
    """At most `rate.count` calls start in any `rate.seconds` (a moving window), in this
    process's memory; `even`: spread out, one every `rate.seconds / rate.count`."""

    def __init__(self, rate: Rate, *, even: bool = False) -> None:
        self._rate = rate
        self._spacing = rate.seconds / rate.count if even else 0.0
        self._next = 0.0  # when the next call is due, keeping to the even pace
        self._starts: deque[float] = deque()
        self._resume_at = 0.0
        self.turn = asyncio.Lock()  # waiters are served first come, first served

    async def room(self) -> None:
        """Wait until one more call fits (it counts only once `claim`ed)."""
        while True:
            now = time.monotonic()
            while self._starts and now - self._starts[0] >= self._rate.seconds:
                self._starts.popleft()
            if now < self._resume_at:
                await asyncio.sleep(self._resume_at - now)
            elif now < self._next:
                await asyncio.sleep(self._next - now)
            elif len(self._starts) >= self._rate.count:
                await asyncio.sleep(self._starts[0] + self._rate.seconds - now)
            else:
                return

    async def claim(self) -> bool:
        now = time.monotonic()
        self._starts.append(now)  # only this process counts here: it fits
        if self._spacing:
            # A call woken a little late keeps the pace (its lateness is not passed on to
            # the next ones, which would slow the bot below its limit); one much later, after
            # a quiet spell, starts it again, with the next call half a step after it.
            self._next = max(self._next + self._spacing, now + self._spacing / 2)
        return True

    async def take(self) -> None:
        async with self.turn:
            await self.room()
            await self.claim()

    def hold(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def idle(self) -> bool:
        now = time.monotonic()
        quiet = not self._starts or now - self._starts[-1] >= self._rate.seconds
        return quiet and now >= self._resume_at and not self.turn.locked()


class Pacing(BaseRateLimiter[int]):
    """`max_retries`: how often a call answered 429 is tried again; `longest_wait`: a 429
    asking for longer than this (seconds) is not waited for but raised to the caller.
    `storage`: where the windows are counted, as a `limits` storage URI: None or
    "async+memory://" for this process alone, or one every process sending for the bot
    shares, e.g. "async+redis://127.0.0.1:6379" (then every rate lasts whole seconds);
    `bot` names the bot there (its id, the token's part before ":")."""

    def __init__(
        self,
        per_bot: Rate = Rate(30, 1.0),
        per_private_chat: Rate = Rate(1, 1.0),
        per_group: Rate = Rate(20, 60.0),
        max_retries: int = 3,
        longest_wait: float = 60.0,
        *,
        storage: str | None = None,
        bot: str = "",
    ) -> None:
        self._per_private_chat = per_private_chat
        self._per_group = per_group
        self._counts = None if in_memory(storage) else SharedCounts(str(storage))
        if self._counts is not None and any(
            r.seconds < 1 or r.seconds != int(r.seconds)
            for r in (per_bot, per_private_chat, per_group)
        ):
            raise ValueError("shared rates last whole seconds")
        self._name = bot
        self._bot = self._window(per_bot, "bot", even=True)
        self._chats: dict[str, Window] = {}
        self._max_retries = max_retries
        self._longest_wait = longest_wait

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        """`rate_limit_args`: this call's own number of retries after a 429."""
        chat_id = data.get("chat_id")
        chat = self._chat(str(chat_id)) if chat_id is not None else None
        paced = chat if chat is not None and endpoint.startswith(_NEW_MESSAGE) else None
        retries = self._max_retries if rate_limit_args is None else rate_limit_args
        # A chat's messages go one at a time, each counted in the chat's window only when the
        # bot's window lets it go too: waiting for one must not bunch them up in the other.
        async with paced.turn if paced is not None else nullcontext():
            attempt = 0
            while True:
                if paced is not None:
                    await paced.room()
                if chat_id is not None:
                    await self._bot.take()
                if paced is not None and not await paced.claim():
                    continue  # another process's message to the chat went first (the bot's
                    # place taken for this one goes unused): wait for the chat again
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as refusal:
                    wait = _seconds(refusal)
                    if attempt >= retries or wait > self._longest_wait:
                        raise
                    log.info("Telegram asked to wait %.1f s before %s", wait, endpoint)
                    if chat is not None:
                        chat.hold(wait)  # the chat's next messages wait too
                    if paced is None:
                        await asyncio.sleep(wait)
                    attempt += 1

    def _chat(self, chat_id: str) -> Window:
        window = self._chats.get(chat_id)
        if window is None:
            if len(self._chats) > 1000:
                self._chats = {key: w for key, w in self._chats.items() if not w.idle()}
            # Groups and channels have negative ids, or an @name.
            private = chat_id.isdigit()
            rate = self._per_private_chat if private else self._per_group
            window = self._window(rate, "chat", chat_id)
            self._chats[chat_id] = window
        return window

    def _window(self, rate: Rate, *name: str, even: bool = False) -> Window:
        own = _Window(rate, even=even)
        if self._counts is None:
            return own
        key = ("telegram", self._name, *name)
        return SharedWindow(own, self._counts, rate.count, rate.seconds, key)


def _seconds(refusal: RetryAfter) -> float:
    with warnings.catch_warnings():  # its type changes in a later PTB version: accept both
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = refusal.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
