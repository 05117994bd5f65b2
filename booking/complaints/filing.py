"""Complaints and suggestions (投诉建议): filed by chat (or entered by staff, taken by phone),
each with a tracking number (受理流水号) the patient can ask about. A complaint remembers where
to answer (the channel it came from and the encrypted user id), its department, the level that
handles it and by when it must be accepted. What staff do with it is in complaint_handling."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from booking.catalogue.schedule import local_now
from booking.clock import Clock
from booking.errors import BookingError, InvalidInput, NotFound, TryAgain, WrongStatus
from booking.patients.registration import DEFAULT_TZ
from booking.ports import NewComplaint, UnitOfWorkFactory
from booking.protect import Protector
from booking.staff import audit
from booking.staff.audit import Actor

MAX_TEXT = 2000
# Who handles a complaint: its department's staff group, the hospital's complaints office
# (投诉办), then management (院领导).
DEPARTMENT, OFFICE, MANAGEMENT = 0, 1, 2
TOP_LEVEL = MANAGEMENT
ACCEPT_WITHIN = timedelta(hours=24)


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


def new_complaint_no(day: date) -> str:
    """TS, the day and four random digits, e.g. TS2611250427: short enough to read out."""
    return f"TS{day:%y%m%d}{secrets.randbelow(10**4):04d}"


def tidy(text: str, field: str = "text") -> str:
    words = " ".join(text.split())
    if not words:
        raise InvalidInput(f"the {field} is empty", field=field)
    return words[:MAX_TEXT]


async def file_complaint(
    uows: UnitOfWorkFactory,
    protector: Protector,
    clock: Clock,
    *,
    channel: str,
    user_id: str | None,
    category: ComplaintCategory,
    text: str,
    department_code: str | None = None,
    language: str = "zh",
    taken_by: StaffMember | None = None,
    accept_within: timedelta = ACCEPT_WITHIN,
    by: Actor | None = None,
    caps: ComplaintCaps | None = None,
    network_address: str | None = None,
) -> Complaint:
    """A complaint received, to be posted to its department's staff. ``user_id`` is whom to
    answer on ``channel``; None for one staff took by phone (``taken_by``): then replies are
    only recorded. ``by``: the back-office account that entered it, audited with it.
    ``caps``: refused (TooManyComplaints) beyond them, for this account and, when the channel
    knows it, this ``network_address`` (kept only as a keyed hash)."""
    sealed = protector.encrypt(tidy(text))
    now = clock.now()
    user_hash = None if user_id is None else _user_hash(protector, channel, user_id)
    address_hash = (
        None
        if network_address is None
        else protector.lookup_hash("complaint-address", network_address)
    )
    if caps is not None:
        await _within(uows, caps, now, user_hash, address_hash)
    for _ in range(5):
        new = NewComplaint(
            complaint_no=new_complaint_no(local_now(now, DEFAULT_TZ).date()),
            category=category,
            department_code=department_code,
            sealed_text=sealed,
            channel=channel,
            user_hash=user_hash,
            user_cipher=None if user_id is None else protector.encrypt(user_id),
            language=language,
            accept_by=now + accept_within,
            address_hash=address_hash,
        )
        try:
            async with uows() as uow:
                complaint = await uow.complaints.add(new, now)
                if taken_by is not None:
                    filed = ActionTaken(complaint.complaint_no, Action.FILE, now, 0, taken_by)
                    await uow.complaints.record(filed, tell=False)
                if by is not None:  # the number, category and department: not the text
                    after = {"category": category.value, "department": department_code}
                    entry = by.did(now, audit.COMPLAINT_FILE, complaint.complaint_no, None, after)
                    await uow.audit.add(entry)
                await uow.commit()
            return complaint
        except ComplaintNumberTaken:
            continue
    raise TryAgain("no free complaint number, please try again")


async def _within(
    uows: UnitOfWorkFactory,
    caps: ComplaintCaps,
    now: datetime,
    user_hash: str | None,
    address_hash: str | None,
) -> None:
    """Counted before filing: two sent at the same instant may both pass, one over the cap,
    which is no flood."""
    since = now - caps.window
    async with uows(readonly=True) as uow:
        if user_hash is not None and (
            await uow.complaints.filed_since(since, user_hash=user_hash) >= caps.per_account
        ):
            raise TooManyComplaints("this account filed its complaints for the hour")
        if address_hash is not None and (
            await uow.complaints.filed_since(since, address_hash=address_hash) >= caps.per_address
        ):
            raise TooManyComplaints("this address filed its complaints for the hour")


def _user_hash(protector: Protector, channel: str, user_id: str) -> str:
    return protector.lookup_hash("complainant", f"{channel}\x00{user_id}")


async def complaint_status(uows: UnitOfWorkFactory, complaint_no: str) -> Complaint:
    async with uows(readonly=True) as uow:
        complaint = await uow.complaints.get(normal_no(complaint_no))
    if complaint is None:
        raise UnknownComplaint("no complaint has this number", what="complaint")
    return complaint


def normal_no(complaint_no: str) -> str:
    return complaint_no.strip().upper()


async def history(
    uows: UnitOfWorkFactory, protector: Protector, complaint_no: str
) -> list[ActionTaken]:
    """Everything done with the complaint, in order, replies and results readable."""
    async with uows(readonly=True) as uow:
        if await uow.complaints.get(normal_no(complaint_no)) is None:
            raise UnknownComplaint("no complaint has this number", what="complaint")
        actions = await uow.complaints.actions(normal_no(complaint_no))
    return [replace(a, text=protector.decrypt(a.text)) if a.text else a for a in actions]


async def answer_to(
    uows: UnitOfWorkFactory, protector: Protector, complaint_no: str
) -> AnswerTo | None:
    """Where to answer the patient; None when staff took the complaint by phone."""
    async with uows(readonly=True) as uow:
        sealed = await uow.complaints.sealed(normal_no(complaint_no))
    if sealed is None:
        raise UnknownComplaint("no complaint has this number", what="complaint")
    return opened_answer_to(protector, sealed.complaint, sealed.user_cipher)


def opened_answer_to(
    protector: Protector, complaint: Complaint, user_cipher: str | None
) -> AnswerTo | None:
    if user_cipher is None:
        return None
    return AnswerTo(complaint.channel, protector.decrypt(user_cipher), complaint.language)
