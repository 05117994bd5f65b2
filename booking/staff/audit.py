"""The audit log of staff actions: who, when, what, on what, the state before and after, and
from where. Before and after name statuses, roles and ids, never personal data (no ID or phone
numbers, no patient names): the log is read by more people than the bookings are."""

from __future__ import annotations

from datetime import timedelta

from booking.staff.model import Actor, AuditEntry, AuditFilter, AuditPage
from booking.staff.ports import StaffWork
from booking.unit_of_work import UnitOfWorkFactory

COMMAND_LINE = Actor(staff_id=None, username=None, address="cli")
SCHEDULE = Actor(staff_id=None, username=None, address="schedule")  # the application's rounds


# The actions, as written in the log.
LOGIN = "login"
LOGOUT = "logout"
LOGIN_FAILED = "login_failed"
LOGIN_WHILE_LOCKED = "login_while_locked"
LOCKED_OUT = "locked_out"
DENIED = "denied"  # a 403: a role's missing permission, or a missing or wrong CSRF token
SEARCH = "booking.search"
CANCEL = "booking.cancel"
ARRIVE = "booking.arrive"
NOSHOW = "booking.noshow"
REFUSED = "booking.refused"  # a change the booking rules refused (too late, wrong status…)
STAFF_ADD = "staff.add"
STAFF_NEW_PASSWORD = "staff.reset_password"  # noqa: S105 (an action name)
STAFF_DISABLE = "staff.disable"
REPORT_EXPORT = "report.export"  # a statistics download: which table, period and format
# The registration desk (backoffice/desk_routes.py, patient_routes.py).
BOOK_FOR_CALLER = "booking.book_for_caller"  # 人工代客挂号
TRANSFER = "booking.transfer"  # 转号 by staff
CLOSE_EXPIRED = "booking.close_expired"  # bookings left "booked" after their session, in bulk
PATIENT_SEARCH = "patient.search"
PATIENT_VIEW = "patient.view"
PATIENT_EDIT = "patient.edit"
PATIENT_REMOVE = "patient.remove"
# The HIS over /fhir (username "his:NAME"): every access, granted or refused.
HIS_READ = "his.read"
HIS_SEARCH = "his.search"
HIS_BOOK = "his.book"
HIS_UPDATE = "his.update"  # a status change; the change itself is booking.cancel/arrive/noshow
HIS_REFUSED = "his.refused"  # a request the booking rules or the interface refused
HIS_BAD_TOKEN = "his.bad_token"  # noqa: S105 (an action name)
HIS_CLIENT_ADD = "his.client_add"
HIS_CLIENT_REVOKE = "his.client_revoke"
HIS_SYNC = "his.sync"
LOGS_SEARCH = "logs.search"  # with the kinds of filter used, not what was typed
RETENTION_PURGE = "retention.purge"  # the scheduled purge of old logs, with counts
COMPLAINT_FILE = "complaint.file"  # taken by phone and entered by staff
COMPLAINT_ACCEPT = "complaint.accept"
COMPLAINT_REPLY = "complaint.reply"
COMPLAINT_RESOLVE = "complaint.resolve"
COMPLAINT_FORWARD = "complaint.forward"
COMPLAINT_ESCALATE = "complaint.escalate"
COMPLAINT_REFUSED = "complaint.refused"  # closed already, accepted by another, at the top
COMPLAINT_VIEW = "complaint.view"  # what the patient wrote, read (as patient.view)
# Doctors and the roster (backoffice/doctor_routes.py): codes and counts, never names.
DOCTOR_ADD = "doctor.add"
DOCTOR_EDIT = "doctor.edit"
DOCTOR_REMOVE = "doctor.remove"  # made inactive; their sessions still to come closed
TEMPLATE_ADD = "template.add"  # a weekly duty added, or its capacity changed
TEMPLATE_REMOVE = "template.remove"
ROSTER_GENERATE = "roster.generate"  # 排班 for a period: sessions created and already there
SESSION_STOP = "session.stop"  # 停诊, with the number of bookings cancelled
SCHEDULE_REFUSED = "schedule.refused"  # a removal or stop refused, with the reason
# The hospital's blacklist (booking/patients/blacklist.py): origin, status and counts, no ID
# numbers.
BLACKLIST_SYNC = "blacklist.sync"


async def record(uows: UnitOfWorkFactory[StaffWork], entry: AuditEntry) -> None:
    """One entry in a transaction of its own (for what changes nothing else: a denial, a
    search). A change is audited inside its own transaction instead."""
    async with uows() as uow:
        await uow.audit.add(entry)
        await uow.commit()


# Identical refusals (same action, who, address, target and details) within this long of the
# first are counted on its entry, not written one by one: anyone can be refused, as often as
# they like, and the log is kept for years.
REPEAT_WINDOW = timedelta(minutes=15)


async def record_repeated(uows: UnitOfWorkFactory[StaffWork], entry: AuditEntry) -> None:
    """A refusal, counted on the same refusal's entry of the last REPEAT_WINDOW if any."""
    async with uows() as uow:
        await uow.audit.add_or_count(entry, entry.at - REPEAT_WINDOW)
        await uow.commit()


async def audit_page(uows: UnitOfWorkFactory[StaffWork], f: AuditFilter) -> AuditPage:
    async with uows(readonly=True) as uow:
        found = await uow.audit.page(f)
    return AuditPage(entries=found[: f.per_page], more=len(found) > f.per_page)
