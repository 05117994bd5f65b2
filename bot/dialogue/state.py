"""A conversation's state as the dialogue reads and changes it. It is stored as plain JSON
(encrypted) by bot.conversations, so only strings, numbers, lists and dicts go in."""

from __future__ import annotations

from typing import Any

from channels.messages import Choice


class DialogueState:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def language(self) -> str | None:
        return self.data.get("lang")

    @language.setter
    def language(self, value: str) -> None:
        self.data["lang"] = value

    @property
    def task(self) -> str | None:
        """What the patient is doing (book, cancel, …); None between tasks."""
        return self.data.get("task")

    @property
    def slots(self) -> dict[str, Any]:
        slots: dict[str, Any] = self.data.setdefault("slots", {})
        return slots

    def start(self, task: str) -> None:
        self.data["task"] = task
        self.data["slots"] = {}

    def finish(self) -> None:
        self.data.pop("task", None)
        self.data.pop("slots", None)

    @property
    def offered(self) -> tuple[Choice, ...]:
        """The choices of the last reply: a press or a numbered reply must be one of them."""
        return tuple(Choice(key, label) for key, label in self.data.get("offered", []))

    def offer(self, choices: tuple[Choice, ...]) -> None:
        self.data["offered"] = [[choice.key, choice.label] for choice in choices]
