"""Log retention (B8): the booking log and the operation-error log are kept one year, then
purged; the audit log of staff actions is kept three years, then purged.

Why three years for the audit log: it is the record of who looked at and changed patients'
bookings, which the hospital must be able to show when a patient or a regulator asks. PIPL
(个人信息保护法) art. 56 keeps the records of processing sensitive personal information at least
three years, and an audit record should outlive the log entries it explains. Neither period
may be set shorter than these floors (``Retention`` refuses it); longer is the hospital's call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from booking.clock import Clock
from booking.errors import InvalidInput
from booking.staff import audit
from booking.staff.audit import SCHEDULE
from booking.staff.model import Actor
from booking.staff.ports import StaffWork
from booking.unit_of_work import UnitOfWorkFactory

LOG_DAYS = 365  # B8: "kept one year"
AUDIT_DAYS = 3 * 365


@dataclass(frozen=True, slots=True)
class Retention:
    log_days: int = LOG_DAYS
    audit_days: int = AUDIT_DAYS

    def __post_init__(self) -> None:
        if self.log_days < LOG_DAYS:
            raise InvalidInput(f"logs are kept at least {LOG_DAYS} days", field="log_days")
        if self.audit_days < max(AUDIT_DAYS, self.log_days):
            raise InvalidInput(
                f"the audit log is kept at least {AUDIT_DAYS} days, and no less than the logs",
                field="audit_days",
            )


@dataclass(frozen=True, slots=True)
class Purged:
    booking_log: int
    operation_errors: int
    audit_log: int

    def counts(self) -> dict[str, int]:
        return {
            "booking_log": self.booking_log,
            "operation_errors": self.operation_errors,
            "audit_log": self.audit_log,
        }


async def purge_old_records(
    uows: UnitOfWorkFactory[StaffWork], clock: Clock, retention: Retention, by: Actor = SCHEDULE
) -> Purged:
    """Delete log and audit rows past their retention, and record the purge (with counts and
    periods) in the audit log in the same transaction: a purge is itself kept three years."""
    now = clock.now()
    async with uows() as uow:
        booked, errors = await uow.logs.purge(now - timedelta(days=retention.log_days))
        audited = await uow.logs.purge_audit(now - timedelta(days=retention.audit_days))
        purged = Purged(booked, errors, audited)
        kept = {"log_days": retention.log_days, "audit_days": retention.audit_days}
        await uow.audit.add(by.did(now, audit.RETENTION_PURGE, before=kept, after=purged.counts()))
        await uow.commit()
    return purged


async def record_operation_error(
    uows: UnitOfWorkFactory[StaffWork],
    clock: Clock,
    operation: str,
    reason: str,
    detail: dict[str, object],
) -> None:
    """Write a refused or failed operation to the error log, in its own transaction (the
    operation's own transaction was rolled back). ``detail`` must hold no personal data."""
    async with uows() as uow:
        await uow.logs.operation_error(clock.now(), operation, reason, dict(detail))
        await uow.commit()
