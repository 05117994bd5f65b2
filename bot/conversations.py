"""Where each patient is in the conversation, kept in the database so that a restart resumes
mid-booking, and the messages already answered, so that one delivered twice is answered once
and the same way. Users are known by a keyed hash and states are encrypted: an SMS user id is
a phone number, and a state may hold an ID number typed half-way through a registration.

Two messages of one user never race: in this process they queue on the user's lock; across
processes, a save made on a stale version is refused and the message is handled again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from booking.clock import Clock
from booking.errors import TryAgain
from booking.patients.ports import ConversationSave, StoredConversation
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.dialogue.state import DialogueState
from channels.messages import Choice, Outbound


@dataclass(slots=True)
class Conversation:
    state: dict[str, Any] = field(default_factory=dict)
    version: int = 0  # 0: never saved


class Conversations:
    def __init__(
        self, uows: UnitOfWorkFactory[HospitalWork], protector: Protector, clock: Clock
    ) -> None:
        self._uows = uows
        self._protector = protector
        self._clock = clock
        self._writer = _GroupCommit(uows, clock)
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    def _user(self, channel: str, user_id: str) -> str:
        return self._protector.lookup_hash("conversation", f"{channel}\x00{user_id}")

    def _message(self, channel: str, user_id: str, message_id: str) -> str:
        # A web chat's message ids come from each browser: unique for one user only.
        return self._protector.lookup_hash("message", f"{channel}\x00{user_id}\x00{message_id}")

    def request(self, channel: str, user_id: str, message_id: str | None) -> str | None:
        """What a booking made by this message is remembered by (see
        booking.appointments.book.book_in)."""
        if message_id is None:
            return None
        return self._protector.lookup_hash("request", f"{channel}\x00{user_id}\x00{message_id}")

    @asynccontextmanager
    async def one_at_a_time(self, channel: str, user_id: str) -> AsyncIterator[None]:
        """Messages of one user in turn; other users' meanwhile."""
        key = self._user(channel, user_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued: forget the lock
                del self._waiting[key]
                del self._locks[key]

    async def load(self, channel: str, user_id: str) -> Conversation:
        async with self._uows(readonly=True) as uow:
            stored = await uow.conversations.get(channel, self._user(channel, user_id))
        return self._open(stored)

    async def resume(
        self, channel: str, user_id: str, message_id: str | None
    ) -> tuple[Conversation, list[dict[str, Any]] | None]:
        """The conversation, and the replies already given if this message was handled before:
        one read per message."""
        if message_id is None:
            return await self.load(channel, user_id), None
        async with self._uows(readonly=True) as uow:
            stored, sealed = await uow.conversations.resume(
                channel, self._user(channel, user_id), self._message(channel, user_id, message_id)
            )
        if sealed is not None:
            return Conversation(), list(json.loads(self._protector.decrypt(sealed)))
        return self._open(stored), None

    def _open(self, stored: StoredConversation | None) -> Conversation:
        if stored is None:
            return Conversation()
        return Conversation(json.loads(self._protector.decrypt(stored.state)), stored.version)

    async def save(
        self,
        channel: str,
        user_id: str,
        conversation: Conversation,
        answered: tuple[str, list[dict[str, Any]]] | None = None,
    ) -> bool:
        """False when another process saved this conversation since it was loaded, or handled
        this message meanwhile. With `answered` (message id, replies), the message is
        remembered in the same transaction. Returns once the save is committed."""
        message_hash = replies = None
        if answered is not None:
            message_hash = self._message(channel, user_id, answered[0])
            replies = self._protector.encrypt(json.dumps(answered[1], ensure_ascii=False))
        save = ConversationSave(
            channel,
            self._user(channel, user_id),
            self._protector.encrypt(json.dumps(conversation.state, ensure_ascii=False)),
            conversation.version,
            message_hash,
            replies,
        )
        if not await self._writer.save(save):
            return False
        conversation.version += 1
        return True

    async def offer(self, channel: str, user_id: str, choices: tuple[Choice, ...]) -> None:
        """A notice's choices become the ones a numbered reply picks: by SMS a waitlist offer
        is taken by answering its number, like any other choice."""
        for _ in range(3):  # a message of the patient's saved meanwhile: read it again
            conversation = await self.load(channel, user_id)
            state = DialogueState(conversation.state)
            state.offer(choices)
            conversation.state = state.to_json()
            if await self.save(channel, user_id, conversation):
                return

    async def answered(
        self, channel: str, user_id: str, message_id: str
    ) -> list[dict[str, Any]] | None:
        """The replies already given to this message, if it was handled before."""
        async with self._uows(readonly=True) as uow:
            sealed = await uow.conversations.replies(
                channel, self._message(channel, user_id, message_id)
            )
        return None if sealed is None else list(json.loads(self._protector.decrypt(sealed)))

    async def remember(
        self, channel: str, user_id: str, message_id: str, replies: list[dict[str, Any]]
    ) -> None:
        sealed = self._protector.encrypt(json.dumps(replies, ensure_ascii=False))
        try:
            async with self._uows() as uow:
                await uow.conversations.handled(
                    channel, self._message(channel, user_id, message_id), sealed, self._clock.now()
                )
                await uow.commit()
        except TryAgain:
            pass  # the same message, handled at the same moment elsewhere: remembered there

    async def leave(self, channel: str, user_id: str, messages: list[Outbound]) -> None:
        """Notices for a user the channel cannot push to (the web chat): kept, encrypted, until
        their page collects them."""
        now = self._clock.now()
        async with self._uows() as uow:
            for message in messages:
                sealed = self._protector.encrypt(json.dumps(asdict(message), ensure_ascii=False))
                await uow.conversations.leave(channel, self._user(channel, user_id), sealed, now)
            await uow.commit()

    async def collect(self, channel: str, user_id: str, limit: int = 20) -> list[Outbound]:
        async with self._uows() as uow:
            sealed = await uow.conversations.collect(channel, self._user(channel, user_id), limit)
            await uow.commit()
        found = [json.loads(self._protector.decrypt(s)) for s in sealed]
        return [
            Outbound(m["text"], tuple(Choice(c["key"], c["label"]) for c in m.get("choices", ())))
            for m in found
        ]

    async def purge(self, before: datetime) -> int:
        async with self._uows() as uow:
            forgotten = await uow.conversations.purge(before)
            await uow.commit()
        return forgotten


class _GroupCommit:
    """Saves of different patients that arrive together are committed together.

    Every patient's message ends with a save, and on SQLite one writer at a time commits;
    one transaction per message made the conversation store, not the booking, the limit on
    how many messages a second the bot could answer. A save still returns only once it is
    committed, so no reply is sent for a state that is not on disk.
    """

    BATCH = 200  # rows per statement, well under SQLite's limit on bound values

    def __init__(self, uows: UnitOfWorkFactory[HospitalWork], clock: Clock) -> None:
        self._uows = uows
        self._clock = clock
        self._queue: list[tuple[ConversationSave, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    async def save(self, save: ConversationSave) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.append((save, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._queue = [(s, f) for s, f in self._queue if f.get_loop() is loop]
            self._task = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._queue:
            batch: list[tuple[ConversationSave, asyncio.Future[bool]]] = []
            later: list[tuple[ConversationSave, asyncio.Future[bool]]] = []
            seen: set[tuple[str, str]] = set()
            for save, future in self._queue:
                key = (save.channel, save.user_hash)
                if len(batch) < self.BATCH and key not in seen and not future.done():
                    seen.add(key)
                    batch.append((save, future))
                elif not future.done():
                    later.append((save, future))
            self._queue = later
            if not batch:
                continue
            try:
                async with self._uows() as uow:
                    results = await uow.conversations.put_many(
                        [save for save, _ in batch], self._clock.now()
                    )
                    await uow.commit()
            except Exception as error:  # given to every caller waiting on this batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
