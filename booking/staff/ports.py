"""The staff's port: back-office accounts and their sign-ins, the audit log, the booking and
error logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from booking.catalogue.ports import CatalogueWork
from booking.staff.model import (
    AuditEntry,
    AuditFilter,
    LogEntry,
    LogFilter,
    Role,
    StaffAccount,
    StaffLogin,
)


class LogRepository(Protocol):
    async def booking_event(
        self, now: datetime, event: str, booking_no: str | None, detail: dict[str, Any]
    ) -> None: ...
    async def operation_error(
        self, now: datetime, operation: str, reason: str, detail: dict[str, Any]
    ) -> None: ...
    async def purge(self, before: datetime) -> tuple[int, int]: ...
    async def purge_audit(self, before: datetime) -> int:
        """Audit rows older than `before`: kept longer than the logs (booking.staff.retention)."""
        ...

    async def search(self, f: LogFilter) -> list[LogEntry]:
        """Newest first: the filter's page, and one entry more when there is a next page."""
        ...


@dataclass(frozen=True, slots=True)
class NewStaff:
    username: str
    role: Role
    department_code: str | None
    password_hash: str


class StaffRepository(Protocol):
    """Back-office accounts and their logins (each known by a hash of its token)."""

    async def add(self, new: NewStaff, now: datetime) -> StaffAccount:
        """Raises UsernameTaken when the username is in use."""
        ...

    async def get(self, staff_id: int) -> StaffAccount | None: ...
    async def by_username(self, username: str, *, lock: bool = False) -> StaffAccount | None: ...
    async def everyone(self) -> list[StaffAccount]: ...
    async def save_sign_in_state(
        self, staff_id: int, failures: tuple[datetime, ...], locked_until: datetime | None
    ) -> None: ...
    async def set_password(self, staff_id: int, password_hash: str) -> None: ...
    async def disable(self, staff_id: int) -> None: ...
    async def open_login(self, login: StaffLogin) -> None: ...
    async def login(self, token_hash: str) -> StaffLogin | None: ...
    async def touch_login(self, token_hash: str, now: datetime) -> None: ...
    async def end_login(self, token_hash: str) -> bool: ...
    async def end_logins_of(self, staff_id: int) -> int: ...
    async def purge_logins(self, created_before: datetime, seen_before: datetime) -> int: ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def add_or_count(self, entry: AuditEntry, since: datetime) -> None:
        """One more on the newest identical entry written at `since` or later (same action,
        staff, username, address, target, before and after), or the entry added."""
        ...

    async def page(self, f: AuditFilter) -> list[AuditEntry]:
        """Newest first: the filter's page, and one entry more when there is a next page."""
        ...


class StaffWork(CatalogueWork, Protocol):
    """What staff use cases work with: accounts and sign-ins, the audit log and the logs."""

    staff: StaffRepository
    audit: AuditRepository
    logs: LogRepository
