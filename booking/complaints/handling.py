"""What staff do with a complaint (受理, 回复, 转办, 升级, 办结), each step recorded; escalation
of complaints nobody accepted in time; and the outbox of what staff and patients must be told:
complaints to post to a staff group, replies and results to tell the patient. Each is written
in the same transaction as the change, so nothing is lost when a process dies before sending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from booking.clock import Clock
from booking.complaints.filing import ACCEPT_WITHIN, normal_no, opened_answer_to, tidy
from booking.complaints.model import (
    DEPARTMENT,
    TOP_LEVEL,
    Action,
    ActionTaken,
    AlreadyAccepted,
    AnswerTo,
    AtTopLevel,
    Complaint,
    ComplaintClosed,
    ComplaintStatus,
    StaffMember,
    UnknownComplaint,
    UnknownDepartment,
)
from booking.complaints.ports import ComplaintWork
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

# How long a post or an answer being sent is held by the process sending it; if that process
# dies, another sends it after this.
HOLD = timedelta(minutes=5)
Scope = Callable[[Complaint], bool]  # may the acting account handle this complaint?
ROUTING = (Action.FILE, Action.FORWARD, Action.ESCALATE, Action.AUTO_ESCALATE)


@dataclass(frozen=True, slots=True)
class StaffPost:
    """A complaint for the staff group of its department and level to see."""

    complaint: Complaint
    text: str  # what the patient wrote
    routed_by: ActionTaken | None  # the forward or escalation that brought it; None: new
    claimed_until: datetime


@dataclass(frozen=True, slots=True)
class PatientAnswer:
    """A reply or result to tell the patient."""

    action_id: int
    complaint_no: str
    action: Action
    text: str
    to: AnswerTo


async def _open(uow: ComplaintWork, complaint_no: str, within: Scope | None = None) -> Complaint:
    """The complaint, held for this change, if it is still open (and ``within`` the acting
    account's scope: checked on the held row, so a forward just before cannot slip past)."""
    complaint = await uow.complaints.get(normal_no(complaint_no), lock=True)
    if complaint is None or (within is not None and not within(complaint)):
        raise UnknownComplaint("no complaint has this number", what="complaint")
    if complaint.status is ComplaintStatus.CLOSED:
        raise ComplaintClosed("the complaint is resolved", complaint_no=complaint.complaint_no)
    return complaint


async def accept(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    *,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    """受理: this member of staff takes it on; it is no longer escalated for lack of one.
    ``by`` (here and in the steps below): the back-office account acting, audited in the
    change's own transaction; None in the staff group chats, which have no account."""
    now = clock.now()
    async with uows() as uow:
        complaint = await _open(uow, complaint_no, within)
        if complaint.accepted_by is not None:
            if complaint.accepted_by.id == staff.id:  # pressed twice
                return complaint
            raise AlreadyAccepted("someone has accepted it", by=complaint.accepted_by.name)
        was = complaint
        status = complaint.status
        if status is ComplaintStatus.RECEIVED:
            status = ComplaintStatus.IN_PROGRESS
        complaint = replace(
            complaint, status=status, accepted_by=staff, accepted_at=now, updated_at=now
        )
        await uow.complaints.update(complaint)
        await _record(uow, complaint, Action.ACCEPT, now, staff)
        await _audit(uow, by, now, audit.COMPLAINT_ACCEPT, was, complaint)
        await uow.commit()
    return complaint


async def reply(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    text: str,
    *,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    """回复: an answer for the patient, told on the channel the complaint came from."""
    return await _answer(
        uows, protector, clock, complaint_no, staff, text, Action.REPLY, by, within
    )


async def resolve(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    result: str,
    *,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    """办结: the result, told to the patient; the complaint is closed."""
    return await _answer(
        uows, protector, clock, complaint_no, staff, result, Action.RESOLVE, by, within
    )


async def _answer(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    text: str,
    action: Action,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    sealed = protector.encrypt(tidy(text, "reply" if action is Action.REPLY else "result"))
    now = clock.now()
    async with uows() as uow:
        complaint = was = await _open(uow, complaint_no, within)
        status = ComplaintStatus.ANSWERED if action is Action.REPLY else ComplaintStatus.CLOSED
        complaint = replace(complaint, status=status, updated_at=now)
        if complaint.accepted_by is None:  # whoever answers has taken it on
            complaint = replace(complaint, accepted_by=staff, accepted_at=now)
        await uow.complaints.update(complaint)
        await _record(uow, complaint, action, now, staff, text=sealed, tell=complaint.answerable)
        done = audit.COMPLAINT_REPLY if action is Action.REPLY else audit.COMPLAINT_RESOLVE
        await _audit(uow, by, now, done, was, complaint)
        await uow.commit()
    return complaint


async def forward(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    department_code: str,
    *,
    accept_within: timedelta = ACCEPT_WITHIN,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    """转办: another department is responsible; its staff group has it from the start."""
    now = clock.now()
    async with uows() as uow:
        catalogue = await uow.catalogue.load()
        code = department_code.strip().upper()
        if code not in {d.code for d in catalogue.departments}:
            raise UnknownDepartment("no department has this code", department=code)
        complaint = was = await _open(uow, complaint_no, within)
        complaint = _routed(complaint, now + accept_within, DEPARTMENT, now, code)
        await uow.complaints.update(complaint, post=True)
        await _record(uow, complaint, Action.FORWARD, now, staff, department=code)
        await _audit(uow, by, now, audit.COMPLAINT_FORWARD, was, complaint)
        await uow.commit()
    return complaint


async def escalate(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    complaint_no: str,
    staff: StaffMember,
    *,
    accept_within: timedelta = ACCEPT_WITHIN,
    by: Actor | None = None,
    within: Scope | None = None,
) -> Complaint:
    """升级: the level above takes it over, and must accept it within the deadline."""
    now = clock.now()
    async with uows() as uow:
        complaint = was = await _open(uow, complaint_no, within)
        if complaint.level >= TOP_LEVEL:
            raise AtTopLevel("management has it already", complaint_no=complaint.complaint_no)
        complaint = _routed(complaint, now + accept_within, complaint.level + 1, now)
        await uow.complaints.update(complaint, post=True)
        await _record(uow, complaint, Action.ESCALATE, now, staff)
        await _audit(uow, by, now, audit.COMPLAINT_ESCALATE, was, complaint)
        await uow.commit()
    return complaint


async def overdue(uows: UnitOfWorkFactory[ComplaintWork], now: datetime) -> list[Complaint]:
    """Complaints nobody accepted by their deadline that have a level above to go to."""
    async with uows(readonly=True) as uow:
        return await uow.complaints.overdue(now, below_level=TOP_LEVEL)


async def auto_escalate(
    uows: UnitOfWorkFactory[ComplaintWork],
    clock: Clock,
    complaint_no: str,
    *,
    accept_within: timedelta = ACCEPT_WITHIN,
) -> Complaint | None:
    """Up one level because nobody accepted it in time; None if it is not overdue (any more:
    accepted meanwhile, or escalated by another process)."""
    now = clock.now()
    async with uows() as uow:
        complaint = await uow.complaints.get(normal_no(complaint_no), lock=True)
        if complaint is None or not _is_overdue(complaint, now):
            return None
        complaint = _routed(complaint, now + accept_within, complaint.level + 1, now)
        await uow.complaints.update(complaint, post=True)
        await _record(uow, complaint, Action.AUTO_ESCALATE, now, None)
        await uow.commit()
    return complaint


async def escalate_overdue(
    uows: UnitOfWorkFactory[ComplaintWork], clock: Clock, *, accept_within: timedelta
) -> list[Complaint]:
    """Every complaint nobody accepted in time, one level up; those escalated now."""
    escalated = []
    for complaint in await overdue(uows, clock.now()):
        done = await auto_escalate(uows, clock, complaint.complaint_no, accept_within=accept_within)
        if done is not None:
            escalated.append(done)
    return escalated


def _is_overdue(complaint: Complaint, now: datetime) -> bool:
    return (
        complaint.status is not ComplaintStatus.CLOSED
        and complaint.accepted_by is None
        and complaint.accept_by is not None
        and complaint.accept_by <= now
        and complaint.level < TOP_LEVEL
    )


def _routed(
    complaint: Complaint,
    accept_by: datetime,
    level: int,
    now: datetime,
    department_code: str | None = None,
) -> Complaint:
    """Handed to another group, which must accept it afresh."""
    return replace(
        complaint,
        level=level,
        department_code=department_code or complaint.department_code,
        accept_by=accept_by,
        accepted_by=None,
        accepted_at=None,
        updated_at=now,
    )


async def _record(
    uow: ComplaintWork,
    complaint: Complaint,
    action: Action,
    now: datetime,
    staff: StaffMember | None,
    *,
    department: str | None = None,
    text: str | None = None,
    tell: bool = False,
) -> None:
    taken = ActionTaken(
        complaint.complaint_no, action, now, complaint.level, staff, department, text
    )
    await uow.complaints.record(taken, tell=tell)


async def _audit(
    uow: ComplaintWork,
    by: Actor | None,
    now: datetime,
    action: str,
    was: Complaint,
    now_is: Complaint,
) -> None:
    """Statuses, levels and department codes only: never what the patient or staff wrote."""
    if by is not None:
        before, after = _state(was), _state(now_is)
        await uow.audit.add(by.did(now, action, now_is.complaint_no, before, after))


def _state(complaint: Complaint) -> dict[str, object]:
    return {
        "status": complaint.status.value,
        "level": complaint.level,
        "department": complaint.department_code,
    }


async def due_posts(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    *,
    complaint_no: str | None = None,
    hold: timedelta = HOLD,
) -> list[StaffPost]:
    """Complaints staff have yet to see (new, forwarded, escalated, or a post that failed),
    held for this process; after posting each, call ``mark_posted``."""
    now = clock.now()
    number = normal_no(complaint_no) if complaint_no is not None else None
    async with uows() as uow:
        claimed = await uow.complaints.claim_posts(now, now + hold, number)
        posts = []
        for sealed in claimed:
            actions = await uow.complaints.actions(sealed.complaint.complaint_no)
            last = next((a for a in reversed(actions) if a.action in ROUTING), None)
            text = protector.decrypt(sealed.sealed_text)
            posts.append(StaffPost(sealed.complaint, text, last, now + hold))
        await uow.commit()
    return posts


async def mark_posted(uows: UnitOfWorkFactory[ComplaintWork], post: StaffPost) -> None:
    async with uows() as uow:
        await uow.complaints.posted(post.complaint.complaint_no, post.claimed_until)
        await uow.commit()


async def due_answers(
    uows: UnitOfWorkFactory[ComplaintWork],
    protector: Protector,
    clock: Clock,
    *,
    hold: timedelta = HOLD,
) -> list[PatientAnswer]:
    """Replies and results the patients have yet to be told, held for this process; after
    telling each, call ``mark_told``."""
    now = clock.now()
    answers = []
    async with uows() as uow:
        for due in await uow.complaints.claim_answers(now, now + hold):
            action, sealed = due.action, due.complaint
            to = opened_answer_to(protector, sealed.complaint, sealed.user_cipher)
            if to is None or action.text is None:  # never recorded so: nobody to tell
                await uow.complaints.told(due.action_id)
                continue
            text = protector.decrypt(action.text)
            answers.append(
                PatientAnswer(due.action_id, action.complaint_no, action.action, text, to)
            )
        await uow.commit()
    return answers


async def mark_told(uows: UnitOfWorkFactory[ComplaintWork], answer: PatientAnswer) -> None:
    async with uows() as uow:
        await uow.complaints.told(answer.action_id)
        await uow.commit()
