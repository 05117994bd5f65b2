"""Updates handled once, and one chat's updates in the order they came.

Telegram may deliver an update again (a webhook answer it did not see, a restart before the
poll confirmed it). Within a process, the ids of recent updates are remembered here; across a
restart the dialogue's own record of answered messages (keyed on the Inbound's message_id,
"update:<update_id>") knows the repeat: it books nothing twice, and its replies, marked
`repeat`, are not sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class RecentUpdates:
    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class ChatLanes:
    """One lane a chat: its jobs run one after another, while other chats' lanes run at the
    same time. A lane's worker ends when the lane is empty, so quiet chats cost nothing."""

    def __init__(self) -> None:
        self._lanes: dict[str, deque[Job]] = {}
        self._workers: set[asyncio.Task[None]] = set()

    def add(self, chat_id: str, job: Job) -> None:
        lane = self._lanes.get(chat_id)
        if lane is None:
            lane = self._lanes[chat_id] = deque()
            worker = asyncio.create_task(self._work(chat_id, lane), name=f"chat {chat_id}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        lane.append(job)

    async def _work(self, chat_id: str, lane: deque[Job]) -> None:
        try:
            while lane:
                job = lane.popleft()
                try:
                    await job()
                except Exception:  # one failed job must not stop the chat's next ones
                    log.exception("a job of chat %s failed", chat_id)
        finally:
            # Nothing awaits between the last look at the lane and here: no job is left behind.
            del self._lanes[chat_id]

    async def finish(self, grace: float) -> None:
        """Let the jobs under way end (for at most `grace` seconds), then cancel the rest."""
        if not self._workers:
            return
        _, late = await asyncio.wait(set(self._workers), timeout=grace)
        for worker in late:
            worker.cancel()
        if late:
            await asyncio.wait(late)
