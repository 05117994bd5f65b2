"""The complaint desk of the back office (S1, S3, S4): department complaint staff handle their
department's complaints, administrators (the complaints office and management) everyone's.

The same rules as in the staff group chats (bot/complaints/staff_chats.py) apply, through the same
use cases (booking/complaints/handling.py): deadlines, escalation levels, answers told to the
patient on the complaint's channel. Here a member of staff is a back-office account, and each action
is audited with the change (number, action, statuses; never what anyone wrote).

A complaint of another department is answered as if it did not exist: its number says nothing
to staff who may not see it. The attempt is audited, as a denial."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from booking.clock import Clock
from booking.complaints import handling
from booking.complaints.filing import ACCEPT_WITHIN, file_complaint, normal_no
from booking.complaints.model import (
    ActionTaken,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    StaffMember,
    UnknownComplaint,
    UnknownDepartment,
)
from booking.complaints.ports import ComplaintWork
from booking.errors import BookingError, InvalidInput, WrongStatus
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor, Role, StaffAccount
from booking.unit_of_work import UnitOfWorkFactory

LIST_LIMIT = 200
PHONE = "phone"  # the channel of a complaint taken by phone: nobody to answer online
Step = Literal["accept", "reply", "resolve", "forward", "escalate"]
STEPS: tuple[Step, ...] = ("accept", "reply", "resolve", "forward", "escalate")


@dataclass(frozen=True, slots=True)
class Listed:
    complaint: Complaint
    overdue: bool  # nobody accepted it by its deadline


@dataclass(frozen=True, slots=True)
class Opened:
    """A complaint as its page shows it: what the patient wrote, and what was done."""

    complaint: Complaint
    overdue: bool
    text: str
    history: list[ActionTaken]


def member(account: StaffAccount) -> StaffMember:
    """The account as the complaint's record names it (apart from the chat users' ids)."""
    return StaffMember(f"staff:{account.id}", account.username)


def sees_everything(account: StaffAccount) -> bool:
    return account.role is Role.ADMIN


def may_see(account: StaffAccount, complaint: Complaint) -> bool:
    if sees_everything(account):
        return True
    return account.department_code is not None and (
        complaint.department_code == account.department_code
    )


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    return (
        complaint.status is not ComplaintStatus.CLOSED
        and complaint.accepted_by is None
        and complaint.accept_by is not None
        and complaint.accept_by <= now
    )


async def complaints_for(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    account: StaffAccount,
    status: ComplaintStatus | None = None,
) -> list[Listed]:
    """Newest first, of the account's department (every department for administrators)."""
    department = None if sees_everything(account) else account.department_code
    if department is None and not sees_everything(account):
        return []
    now = clock.now()
    async with uows(readonly=True) as uow:
        found = await uow.complaint_desk.listed(
            statuses=None if status is None else (status,),
            department_code=department,
            limit=LIST_LIMIT,
        )
    return [Listed(c, is_overdue(c, now)) for c in found]


async def open_complaint(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    account: StaffAccount,
    actor: Actor,
    complaint_no: str,
) -> Opened:
    """Raises UnknownComplaint for a number the account may not see, as for one unused."""
    number = normal_no(complaint_no)
    async with uows(readonly=True) as uow:
        sealed = await uow.complaints.sealed(number)
        actions = await uow.complaints.actions(number) if sealed is not None else []
    if sealed is None:
        raise UnknownComplaint("no complaint has this number", what="complaint")
    await _must_see(uows, clock, account, actor, sealed.complaint)
    # What a patient wrote may tell of their health: reading it is recorded, as patient.view.
    await audit.record(uows, actor.did(clock.now(), audit.COMPLAINT_VIEW, number))
    history = [
        ActionTaken(
            a.complaint_no, a.action, a.at, a.level, a.staff, a.department_code,
            protector.decrypt(a.text) if a.text else None,
        )
        for a in actions
    ]  # fmt: skip
    c = sealed.complaint
    return Opened(c, is_overdue(c, clock.now()), protector.decrypt(sealed.sealed_text), history)


async def act(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    account: StaffAccount,
    actor: Actor,
    complaint_no: str,
    step: Step,
    *,
    text: str = "",
    department_code: str = "",
    accept_within: timedelta = ACCEPT_WITHIN,
) -> Complaint:
    """One step of handling, by this account. A refusal by the rules (closed, accepted by
    someone else, at the top level) is audited and raised."""
    number = normal_no(complaint_no)
    async with uows(readonly=True) as uow:
        complaint = await uow.complaints.get(number)
    if complaint is None:
        raise UnknownComplaint("no complaint has this number", what="complaint")
    await _must_see(uows, clock, account, actor, complaint)
    staff = member(account)
    # Checked again on the row the step holds: forwarded away meanwhile, it is not theirs.
    within = partial(may_see, account)
    try:
        if step == "accept":
            return await handling.accept(uows, clock, number, staff, by=actor, within=within)
        if step == "reply":
            return await handling.reply(
                uows, protector, clock, number, staff, text, by=actor, within=within
            )
        if step == "resolve":
            return await handling.resolve(
                uows, protector, clock, number, staff, text, by=actor, within=within
            )
        if step == "forward":
            return await handling.forward(
                uows, clock, number, staff, department_code,
                accept_within=accept_within, by=actor, within=within,
            )  # fmt: skip
        if step == "escalate":
            return await handling.escalate(
                uows, clock, number, staff, accept_within=accept_within, by=actor, within=within
            )
    except UnknownComplaint:
        await _denied(uows, clock, actor, number)
        raise
    except (WrongStatus, UnknownDepartment, InvalidInput) as refused:
        await _refused(uows, clock, actor, number, step, refused)
        raise
    raise InvalidInput("no such step", field="action")


async def take_by_phone(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    account: StaffAccount,
    actor: Actor,
    *,
    category: ComplaintCategory,
    text: str,
    department_code: str = "",
    language: str = "zh",
    accept_within: timedelta = ACCEPT_WITHIN,
) -> Complaint:
    """S1: a complaint a caller made by phone, entered by staff: it gets its tracking number
    (to read out to the caller) and goes to its department's staff like any other. Complaint
    staff enter their own department's; administrators any department's, or none."""
    code = department_code.strip().upper() or None
    if not sees_everything(account):
        code = account.department_code
    if code is not None:
        async with uows(readonly=True) as uow:
            catalogue = await uow.catalogue.load()
        if code not in {d.code for d in catalogue.departments}:
            raise UnknownDepartment("no department has this code", department=code)
    if language not in ("zh", "en"):
        raise InvalidInput("the caller's language is zh or en", field="language")
    return await file_complaint(
        uows, protector, clock, channel=PHONE, user_id=None, category=category, text=text,
        department_code=code, language=language, taken_by=member(account),
        accept_within=accept_within, by=actor,
    )  # fmt: skip


async def _must_see(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    account: StaffAccount,
    actor: Actor,
    c: Complaint,
) -> None:
    if may_see(account, c):
        return
    await _denied(uows, clock, actor, c.complaint_no)
    raise UnknownComplaint("no complaint has this number", what="complaint")


async def _denied(
    uows: UnitOfWorkFactory[ComplaintWork], clock: Clock, actor: Actor, number: str
) -> None:
    entry = actor.did(clock.now(), audit.DENIED, number, after={"why": "department"})
    await audit.record_repeated(uows, entry)


async def _refused(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    actor: Actor,
    number: str,
    step: str,
    error: BookingError,
) -> None:
    after = {"action": step, "reason": type(error).__name__}
    await audit.record(uows, actor.did(clock.now(), audit.COMPLAINT_REFUSED, number, None, after))
