"""Complaints as the domain knows them: categories, statuses, the actions staff take, the
levels that handle them, and what can go wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from booking.errors import BookingError, NotFound, TryAgain, WrongStatus

# Who handles a complaint: its department's staff group, the hospital's complaints office
# (投诉办), then management (院领导).
DEPARTMENT, OFFICE, MANAGEMENT = 0, 1, 2


TOP_LEVEL = MANAGEMENT


class ComplaintCategory(StrEnum):
    SERVICE = "service"  # 服务态度
    WAITING = "waiting"  # 等候时间
    FEES = "fees"  # 收费
    BOOKING = "booking"  # 预约挂号
    FACILITIES = "facilities"  # 环境设施
    SUGGESTION = "suggestion"  # 建议
    OTHER = "other"


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"


class Action(StrEnum):
    """What was done with a complaint, as the record of its handling shows it."""

    FILE = "file"  # entered by staff, taken by phone
    ACCEPT = "accept"
    REPLY = "reply"
    FORWARD = "forward"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    AUTO_ESCALATE = "auto_escalate"  # nobody accepted it in time


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A member of staff as their chat account names them (not a patient: kept in clear)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Complaint:
    complaint_no: str
    category: ComplaintCategory
    department_code: str | None
    status: ComplaintStatus
    created_at: datetime
    updated_at: datetime
    channel: str  # where it came from: the patient is answered there
    answerable: bool  # False when staff took it by phone: replies are only recorded
    language: str  # the patient's, "zh" or "en"
    level: int  # DEPARTMENT, OFFICE or MANAGEMENT
    accept_by: datetime | None  # escalated automatically if nobody accepts it by then
    accepted_by: StaffMember | None
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionTaken:
    complaint_no: str
    action: Action
    at: datetime
    level: int  # the complaint's level after the action
    staff: StaffMember | None = None  # None: the system (automatic escalation)
    department_code: str | None = None  # where a forward sent it
    text: str | None = None  # a reply or result: sealed in the store, opened by history()


@dataclass(frozen=True, slots=True)
class AnswerTo:
    """Where the patient is answered: the channel the complaint came from, in their language."""

    channel: str
    user_id: str
    language: str


# Their reasons are the general ones, which the patient's dialogue can already put in words;
# staff are told precisely, by the class.
class UnknownComplaint(NotFound):
    """No complaint has this number."""


class UnknownDepartment(NotFound):
    """No department of the hospital has this code."""


class ComplaintClosed(WrongStatus):
    """The complaint has been resolved (办结): nothing more is done with it."""


class AlreadyAccepted(WrongStatus):
    """Someone else has accepted it already."""


class AtTopLevel(WrongStatus):
    """Management has it: there is no level above."""


class TooManyComplaints(BookingError):
    """This chat account, or this network address, filed as many complaints within the last
    hour as ComplaintCaps allows: more would bury the others in the staff group."""

    reason = "too_many_complaints"


@dataclass(frozen=True, slots=True)
class ComplaintCaps:
    """How many complaints one chat account (a Telegram chat, a web chat, a phone by SMS, an
    e-mail address), and one network address (web chat), may file within an hour. A patient
    files one, maybe a second to add something; three an hour is more than anyone needs. An
    address is shared by many patients (the hospital's Wi-Fi, a mobile carrier's NAT), so it
    gets more. The staff group takes 20 messages a minute; capped so, a script cannot bury
    the real complaints. Staff entering one taken by phone are not capped."""

    per_account: int = 3
    per_address: int = 20
    window: timedelta = timedelta(hours=1)


class ComplaintNumberTaken(TryAgain):
    """The random tracking number drawn was in use: drawn again."""
