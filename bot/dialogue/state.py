"""A conversation's state as the dialogue reads and changes it: the language, the task in
progress (a dataclass of bot.dialogue.tasks) and the choices last offered. bot.conversations
stores it as JSON (encrypted): {"lang": …, "task": NAME, "slots": {…}, "offered": [[key, label]]}.
"""

from __future__ import annotations

from typing import Any, TypeVar

from bot.dialogue.tasks import (
    TASK_TYPES,
    CancelTask,
    ComplaintTask,
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
        self.current: Task | None = None
        self._name: str | None = data.get("task")
        self._slots: dict[str, Any] = dict(data.get("slots") or {})
        if self._name in TASK_TYPES:
            self.current = load_task(self._name, self._slots)
        self._offered: list[list[str]] | None = data.get("offered")

    def to_json(self) -> dict[str, Any]:
        """The state to store."""
        data: dict[str, Any] = {}
        if self.language is not None:
            data["lang"] = self.language
        if self.current is not None:
            data["task"], data["slots"] = self.current.NAME, dump_task(self.current)
        elif self._name is not None:
            data["task"], data["slots"] = self._name, self._slots
        if self._offered is not None:
            data["offered"] = self._offered
        return data

    @property
    def task(self) -> str | None:
        """What the patient is doing (book, cancel, …); None between tasks."""
        return self.current.NAME if self.current is not None else self._name

    @property
    def slots(self) -> dict[str, Any]:
        return self._slots

    def start(self, task: T | str) -> T:
        self.finish()
        if isinstance(task, str):
            self._name = task
            return None  # type: ignore[return-value]
        self.current = task
        return task

    def finish(self) -> None:
        self.current = None
        self._name = None
        self._slots = {}

    def _doing(self, kind: type[T]) -> T:
        if not isinstance(self.current, kind):
            raise LookupError(f"no {kind.NAME} task in progress")
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
