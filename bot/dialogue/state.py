"""A conversation's state as the dialogue reads and changes it: the language, the task in
progress (a dataclass of bot.dialogue.tasks) and the choices last offered. bot.conversations
stores it as JSON (encrypted): {"lang": …, "task": NAME, "slots": {…}, "offered": [[key, label]]}.
"""

from __future__ import annotations

from typing import Any, TypeVar

from bot.dialogue.tasks import (
    TASK_TYPES,
    BookTask,
    CancelTask,
    ComplaintTask,
    RegisterTask,
    RescheduleTask,
    Task,
    UnlinkTask,
    dump_task,
    load_task,
)
from channels.messages import Choice

T = TypeVar("T", bound=Task)


class DialogueState:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        """`data`: the state as stored."""
        data = data or {}
        self.language: str | None = data.get("lang")
        name = data.get("task")
        # A task this version does not know is left, as one finished.
        self.current: Task | None = (
            load_task(name, data.get("slots") or {}) if name in TASK_TYPES else None
        )
        self._offered: list[list[str]] | None = data.get("offered")

    def to_json(self) -> dict[str, Any]:
        """The state to store."""
        data: dict[str, Any] = {}
        if self.language is not None:
            data["lang"] = self.language
        if self.current is not None:
            data["task"], data["slots"] = self.current.NAME, dump_task(self.current)
        if self._offered is not None:
            data["offered"] = self._offered
        return data

    @property
    def task(self) -> str | None:
        """What the patient is doing (book, cancel, …); None between tasks."""
        return self.current.NAME if self.current is not None else None

    def start(self, task: T) -> T:
        self.current = task
        return task

    def finish(self) -> None:
        self.current = None

    def _doing(self, kind: type[T]) -> T:
        if not isinstance(self.current, kind):
            raise LookupError(f"no {kind.NAME} task in progress")
        return self.current

    @property
    def book(self) -> BookTask:
        return self._doing(BookTask)

    @property
    def register(self) -> RegisterTask:
        return self._doing(RegisterTask)

    @property
    def registering(self) -> BookTask | RegisterTask:
        """The task a registration's answers belong to: on its own, or inside a booking."""
        if not isinstance(self.current, BookTask | RegisterTask):
            raise LookupError("no registration in progress")
        return self.current

    @property
    def cancel(self) -> CancelTask:
        return self._doing(CancelTask)

    @property
    def reschedule(self) -> RescheduleTask:
        return self._doing(RescheduleTask)

    @property
    def complaint(self) -> ComplaintTask:
        return self._doing(ComplaintTask)

    @property
    def unlink(self) -> UnlinkTask:
        return self._doing(UnlinkTask)

    @property
    def offered(self) -> tuple[Choice, ...]:
        """The choices of the last reply: a press or a numbered reply must be one of them."""
        return tuple(Choice(key, label) for key, label in self._offered or [])

    def offer(self, choices: tuple[Choice, ...]) -> None:
        self._offered = [[choice.key, choice.label] for choice in choices]
