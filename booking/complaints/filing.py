"""Complaints and suggestions (投诉建议): filed by chat (or entered by staff, taken by phone),
each with a tracking number (受理流水号) the patient can ask about. A complaint remembers where
to answer (the channel it came from and the encrypted user id), its department, the level that
handles it and by when it must be accepted. What staff do with it is in complaint_handling."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime, timedelta

from booking.catalogue.schedule import local_now
from booking.clock import DEFAULT_TZ, Clock
from booking.complaints.model import (
    Action,
    ActionTaken,
    AnswerTo,
    Complaint,
    ComplaintCaps,
    ComplaintCategory,
    ComplaintNumberTaken,
    StaffMember,
    TooManyComplaints,
    UnknownComplaint,
)
from booking.complaints.ports import ComplaintWork, NewComplaint
from booking.errors import InvalidInput, TryAgain
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

MAX_TEXT = 2000
ACCEPT_WITHIN = timedelta(hours=24)


def new_complaint_no(day: date) -> str:
    """TS, the day and four random digits, e.g. TS2611250427: short enough to read out."""
    return f"TS{day:%y%m%d}{secrets.randbelow(10**4):04d}"


def tidy(text: str, field: str = "text") -> str:
    words = " ".join(text.split())
    if not words:
        raise InvalidInput(f"the {field} is empty", field=field)
    return words[:MAX_TEXT]


async def file_complaint(
    uows: UnitOfWorkFactory[ComplaintWork],
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
    uows: UnitOfWorkFactory[ComplaintWork],
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


async def complaint_status(uows: UnitOfWorkFactory[ComplaintWork], complaint_no: str) -> Complaint:
    async with uows(readonly=True) as uow:
        complaint = await uow.complaints.get(normal_no(complaint_no))
    if complaint is None:
        raise UnknownComplaint("no complaint has this number", what="complaint")
    return complaint


def normal_no(complaint_no: str) -> str:
    return complaint_no.strip().upper()


async def history(
    uows: UnitOfWorkFactory[ComplaintWork], protector: Protector, complaint_no: str
) -> list[ActionTaken]:
    """Everything done with the complaint, in order, replies and results readable."""
    async with uows(readonly=True) as uow:
        if await uow.complaints.get(normal_no(complaint_no)) is None:
            raise UnknownComplaint("no complaint has this number", what="complaint")
        actions = await uow.complaints.actions(normal_no(complaint_no))
    return [replace(a, text=protector.decrypt(a.text)) if a.text else a for a in actions]


async def answer_to(
    uows: UnitOfWorkFactory[ComplaintWork], protector: Protector, complaint_no: str
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
