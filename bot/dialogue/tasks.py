"""What each task in progress has gathered so far, one dataclass a task.

bot.dialogue.state stores a task as {"task": NAME, "slots": {field: value}}: a field that is
None, False or empty is left out, as a slot not chosen yet is absent, and reads back as its
default. Values are plain JSON (dates as ISO strings, parts of day as "am"/"pm"/"eve"), so that
a conversation saved mid-task by an earlier version reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(slots=True)
class Registration:
    """The answers of a registration (实名注册) so far; a step not yet answered is None."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    # "phone" while a code sent to that phone waits to be typed back.
    code_for: str | None = None
    phone_masked: str | None = None

    def forget_phone(self) -> None:
        """The phone is asked again (another number, or the registered one)."""
        self.code_for = self.phone = self.phone_masked = None


@dataclass(slots=True)
class CancelTask:
    NAME: ClassVar[str] = "cancel"
    booking_no: str | None = None  # the booking asked about; None while choosing which


@dataclass(slots=True)
class RescheduleTask:
    NAME: ClassVar[str] = "reschedule"
    booking_no: str | None = None
    date: str | None = None  # the day asked for (ISO), if the patient said one
    part: str | None = None
    to: int | None = None  # the session picked, to confirm


@dataclass(slots=True)
class ComplaintTask:
    NAME: ClassVar[str] = "complaint"
    department: str | None = None
    category: str | None = None  # a ComplaintCategory value; then the text is awaited


@dataclass(slots=True)
class ComplaintStatusTask:
    NAME: ClassVar[str] = "complaint_status"


@dataclass(slots=True)
class UnlinkTask:
    NAME: ClassVar[str] = "unlink"
    patient: int | None = None  # the patient to remove, to confirm


Task = CancelTask | RescheduleTask | ComplaintTask | ComplaintStatusTask | UnlinkTask
TASK_TYPES: dict[str, type[Task]] = {
    kind.NAME: kind
    for kind in (
        CancelTask,
        RescheduleTask,
        ComplaintTask,
        ComplaintStatusTask,
        UnlinkTask,
    )
}


def forget(task: Task, *names: str) -> None:
    """The named fields back to their defaults, as if never chosen."""
    blank = type(task)()
    for name in names:
        setattr(task, name, getattr(blank, name))


def load_task(name: str, slots: dict[str, Any]) -> Task:
    """A task as stored (see the module's docstring)."""
    kind = TASK_TYPES[name]
    values = {f.name: slots[f.name] for f in fields(kind) if slots.get(f.name) is not None}
    if "registration" in values:
        values["registration"] = _load(Registration, values["registration"])
    return kind(**values)


def dump_task(task: Task) -> dict[str, Any]:
    return _dump(task)


def _load(kind: type[Registration], saved: dict[str, Any]) -> Registration:
    return kind(**{f.name: saved[f.name] for f in fields(kind) if saved.get(f.name) is not None})


def _dump(item: Any) -> dict[str, Any]:
    saved: dict[str, Any] = {}
    for each in fields(item):
        value = getattr(item, each.name)
        if isinstance(value, Registration):
            value = _dump(value)
        elif isinstance(value, list):
            value = list(value)
        if value is None or value is False or value == [] or value == {}:
            continue
        saved[each.name] = value
    return saved
