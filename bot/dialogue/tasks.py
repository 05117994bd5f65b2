"""What each task in progress has gathered so far, one dataclass a task.

bot.dialogue.state stores a task as {"task": NAME, "slots": {field: value}}: a field that is
None, False or empty is left out, as a slot not chosen yet is absent, and reads back as its
default. Values are plain JSON (dates as ISO strings, parts of day as "am"/"pm"/"eve"), so that
a conversation saved mid-task by an earlier version reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, get_args


@dataclass(slots=True)
class Registration:
    """The answers of a registration (实名注册) so far; a step not yet answered is None."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    # "phone" while a code sent to that phone waits to be typed back.
    code_for: str | None = None
    phone_masked: str | None = None

    STEPS: ClassVar[tuple[str, ...]] = ("name", "id_number", "phone")

    def missing(self) -> list[str]:
        """The steps not answered yet, in the order they are asked."""
        return [step for step in self.STEPS if getattr(self, step) is None]

    def answered(self) -> tuple[str, str, str] | None:
        """(name, ID number, phone) once all three are given."""
        if self.name is None or self.id_number is None or self.phone is None:
            return None
        return self.name, self.id_number, self.phone

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


@dataclass(slots=True)
class RegisterTask:
    NAME: ClassVar[str] = "register"
    registration: Registration = field(default_factory=Registration)
    patient: int | None = None  # once registered


# Changing one of these forgets what was chosen after it.
DEPENDS = {
    "department": ("doctor", "session", "waitlist", "specialty"),
    "doctor": ("session", "waitlist"),
    "date": ("session", "waitlist"),
    "part": ("session", "waitlist"),
}


@dataclass(slots=True)
class BookTask:
    """预约挂号: department → doctor → session → patient → confirm (bot.dialogue.book)."""

    NAME: ClassVar[str] = "book"
    hospital: str | None = None  # named by the patient: every later step is narrowed to it
    department: str | None = None
    # A department name several hospitals share (骨伤科): which one is asked.
    department_candidates: list[str] = field(default_factory=list)
    not_here: str | None = None  # a department the hospital named has not: said once
    specialty: str | None = None  # 糖尿病专家: the doctors who treat it, no department yet
    doctor: str | None = None  # work number
    candidates: list[str] = field(default_factory=list)  # a sound-alike: which doctor is asked
    not_doctor: str | None = None  # 换个医生: not offered again
    date: str | None = None  # ISO day asked for
    part: str | None = None  # am / pm / eve
    list_sessions: bool = False  # list the sessions even when one fits the day and part asked
    session: int | None = None
    waitlist: bool = False  # a full session chosen: join its waiting list (候补)
    for_name: str | None = None  # whom it is for, as said: asked about at the patient step
    for_relation: str | None = None
    patient: int | None = None
    registering: bool = False  # a new patient is being registered on the way
    registration: Registration = field(default_factory=Registration)

    def choose(self, name: Literal["department", "doctor", "date", "part"], value: str) -> None:
        """A department, doctor, day or part of day: a new value forgets what depended on it."""
        if getattr(self, name) != value:
            forget(self, *DEPENDS[name])
        setattr(self, name, value)


Task = (
    BookTask
    | CancelTask
    | RescheduleTask
    | ComplaintTask
    | ComplaintStatusTask
    | UnlinkTask
    | RegisterTask
)
TASK_TYPES: dict[str, type[Task]] = {kind.NAME: kind for kind in get_args(Task)}


def forget(task: Task, *names: str) -> None:
    """The named fields back to their defaults, as if never chosen."""
    blank = type(task)()
    for name in names:
        setattr(task, name, getattr(blank, name))


def load_task(name: str, slots: dict[str, Any]) -> Task:
    """A task as stored (see the module's docstring)."""
    kind = TASK_TYPES[name]
    values = _given(kind, slots)
    if "registration" in values:
        values["registration"] = Registration(**_given(Registration, values["registration"]))
    return kind(**values)


def dump_task(task: Task | Registration) -> dict[str, Any]:
    """A task to store: a field None, False or empty is left out."""
    saved: dict[str, Any] = {}
    for each in fields(task):
        value = getattr(task, each.name)
        if isinstance(value, Registration):
            value = dump_task(value)
        if value is None or value is False or value == [] or value == {}:
            continue
        saved[each.name] = list(value) if isinstance(value, list) else value
    return saved


def _given(kind: type[Task | Registration], saved: dict[str, Any]) -> dict[str, Any]:
    return {f.name: saved[f.name] for f in fields(kind) if saved.get(f.name) is not None}
