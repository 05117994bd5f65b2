"""The audit log of staff actions: who, when, what, on what, the state before and after, and
from where. Before and after name statuses, roles and ids, never personal data (no ID or phone
numbers, no patient names): the log is read by more people than the bookings are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from booking.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in member of staff (and the address they came from), or the
    command line (no staff id: whoever may run it on the server)."""

    staff_id: int | None
    username: str | None
    address: str | None

    def did(
        self,
        now: datetime,
        action: str,
        target: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            at=now,
            action=action,
            staff_id=self.staff_id,
            username=self.username,
            target=target,
            before=before,
            after=after,
            address=self.address,
        )


COMMAND_LINE = Actor(staff_id=None, username=None, address="cli")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    staff_id: int | None
    username: str | None
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    address: str | None
    id: int | None = None


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None
    page: int = 1  # from 1, newest first
    per_page: int = 50


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry] = field(default_factory=list)
    more: bool = False


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


async def record(uows: UnitOfWorkFactory, entry: AuditEntry) -> None:
    """One entry in a transaction of its own (for what changes nothing else: a denial, a
    search). A change is audited inside its own transaction instead."""
    async with uows() as uow:
        await uow.audit.add(entry)
        await uow.commit()


async def audit_page(uows: UnitOfWorkFactory, f: AuditFilter) -> AuditPage:
    async with uows(readonly=True) as uow:
        found = await uow.audit.page(f)
    return AuditPage(entries=found[: f.per_page], more=len(found) > f.per_page)
