"""Choice keys: what a button (or a numbered reply) stands for, made and read only here.

A key is ``kind:value``, or ``kind:value:extra`` for the kinds that carry two values
(``session:<session id>:<doctor's work number>``). A notice's buttons are ``notice:`` followed by
a key of their own (``notice:rebook:<booking number>:<session id>``). Keys travel as Telegram
callback data and web chat buttons and are kept in saved conversations and sent notices, so
their spelling never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds whose value is two values, the second after another colon.
_TWO_VALUES = frozenset({"session", "waitlist", "to", "rebook"})
# The kinds that name what to book: pressing one outside a booking starts one there.
BOOKING_KINDS = frozenset({"department", "doctor", "session", "waitlist"})

NAV_STOP = "nav:stop"
NAV_BACK = "nav:back"
CONFIRM_YES = "confirm:yes"
CONFIRM_NO = "confirm:no"
NEW_PATIENT = "patient:new"
CODE_AGAIN = "code:again"
CODE_OTHER_PHONE = "code:other_phone"
UNLINK_START = "unlink:start"
UNLINK_YES = "unlink:yes"
UNLINK_NO = "unlink:no"


@dataclass(frozen=True, slots=True)
class Key:
    """A key read: ``kind``, then ``value`` (everything after the first colon, or for the
    two-value kinds up to the second), and ``extra`` (after the second colon, those kinds only)."""

    kind: str
    value: str = ""
    extra: str = ""

    @property
    def notice(self) -> Key:
        """The key under ``notice:`` (``notice:take:12`` is ``take:12``)."""
        return read(self.value) if self.kind == "notice" else Key("")


def read(key: str) -> Key:
    """The key's parts; a key without a colon is of no kind (no button is made so)."""
    kind, colon, value = key.partition(":")
    if not colon:
        return Key("")
    if kind in _TWO_VALUES:
        first, _, extra = value.partition(":")
        return Key(kind, first, extra)
    return Key(kind, value)


def intent(name: str) -> str:
    return f"intent:{name}"


def department(code: object) -> str:
    return f"department:{code}"


def doctor(work_no: str) -> str:
    return f"doctor:{work_no}"


def session(session_id: int, work_no: str) -> str:
    return f"session:{session_id}:{work_no}"


def waitlist(session_id: int, work_no: str) -> str:
    """Joining a full session's waiting list."""
    return f"waitlist:{session_id}:{work_no}"


def patient(patient_id: int) -> str:
    return f"patient:{patient_id}"


def move(booking_no: str) -> str:
    """A booking to reschedule."""
    return f"move:{booking_no}"


def move_to(session_id: int, work_no: str) -> str:
    """The session a booking is moved to."""
    return f"to:{session_id}:{work_no}"


def cancel(booking_no: str) -> str:
    return f"cancel:{booking_no}"


def category(value: str) -> str:
    """A complaint's category."""
    return f"category:{value}"


def history(page: int) -> str:
    return f"history:{page}"


def unlink(patient_id: int) -> str:
    return f"unlink:{patient_id}"


def leave(entry_id: object) -> str:
    """Leaving a waiting list."""
    return f"leave:{entry_id}"


def notice(action: str, value: object, extra: object | None = None) -> str:
    """A notice's button: ``coming``, ``cancel``, ``move`` or ``rebook`` a booking, ``take`` or
    ``pass`` a waitlist offer, book ``again`` in a department."""
    return f"notice:{action}:{value}" if extra is None else f"notice:{action}:{value}:{extra}"
