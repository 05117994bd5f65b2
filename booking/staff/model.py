"""Hospital staff in the back office: their roles, what each role may do, the lock-out after
wrong passwords and how long a login lasts. Pure rules: the clock is passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from booking.errors import InvalidInput


class Role(StrEnum):
    ADMIN = "admin"  # 管理员
    REGISTRATION = "registration"  # 挂号员 / 坐席: the registration desk and the call centre
    COMPLAINTS = "complaints"  # 科室投诉专员: one department's complaints


ROLE_NAMES = {
    Role.ADMIN: "管理员 administrator",
    Role.REGISTRATION: "挂号员/坐席 registration staff",
    Role.COMPLAINTS: "科室投诉专员 department complaint staff",
}


class Permission(StrEnum):
    FIND_BOOKINGS = "find_bookings"
    CHANGE_BOOKINGS = "change_bookings"  # cancel, transfer, check in, mark a no-show
    BOOK_FOR_CALLER = "book_for_caller"  # 人工代客挂号: book by phone under the bot's rules
    CANCEL_EXPIRED = "cancel_expired"  # close expired bookings in bulk
    VIEW_PATIENTS = "view_patients"
    EDIT_PATIENTS = "edit_patients"  # change or remove a patient's record
    VIEW_SCHEDULES = "view_schedules"  # sessions and each doctor's bookings per session
    MANAGE_DOCTORS = "manage_doctors"  # doctors, specialties, weekly templates, the roster
    STOP_SESSIONS = "stop_sessions"  # 停诊, with the notices to the patients
    MANAGE_BLACKLIST = "manage_blacklist"  # upload or pull the hospital's list; see the bans
    READ_REPORTS = "read_reports"  # statistics and their CSV/XLSX exports
    READ_LOGS = "read_logs"  # the booking log and the operation-error log
    HANDLE_COMPLAINTS = "handle_complaints"  # only their department's, for complaint staff
    READ_AUDIT = "read_audit"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REGISTRATION: frozenset(
        {
            Permission.FIND_BOOKINGS,
            Permission.CHANGE_BOOKINGS,
            Permission.BOOK_FOR_CALLER,
            Permission.VIEW_PATIENTS,
            Permission.VIEW_SCHEDULES,
        }
    ),
    Role.COMPLAINTS: frozenset({Permission.HANDLE_COMPLAINTS}),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    role: Role
    department_code: str | None  # complaint staff only
    password_hash: str
    disabled: bool
    failures: tuple[datetime, ...]  # wrong passwords since the last lock or success
    locked_until: datetime | None
    created_at: datetime

    def may(self, permission: Permission) -> bool:
        return not self.disabled and may(self.role, permission)


# The lock-out: 5 wrong passwords within 15 minutes lock the account for 15 minutes.
LOCK_AFTER = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKED_FOR = timedelta(minutes=15)


def is_locked(account: StaffAccount, now: datetime) -> bool:
    return account.locked_until is not None and now < account.locked_until


def after_wrong_password(account: StaffAccount, now: datetime) -> StaffAccount:
    """The account after one more wrong password; locked (and its count started afresh)
    when that makes LOCK_AFTER within FAILURE_WINDOW."""
    recent = (*(t for t in account.failures if now - t < FAILURE_WINDOW), now)
    if len(recent) >= LOCK_AFTER:
        return replace(account, failures=(), locked_until=now + LOCKED_FOR)
    return replace(account, failures=recent)


def after_right_password(account: StaffAccount) -> StaffAccount:
    return replace(account, failures=(), locked_until=None)


@dataclass(frozen=True)
class LoginLimits:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    # last_seen_at is written at most this often: not one write per page.
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class StaffLogin:
    """A signed-in browser. Only a hash of its token is kept; the token is the cookie."""

    token_hash: str
    staff_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    def alive(self, now: datetime, limits: LoginLimits) -> bool:
        return now - self.last_seen_at < limits.idle and now - self.created_at < limits.absolute


class Passwords(Protocol):
    """Password hashing (argon2 in the back office): slow on purpose, so asynchronous."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password; with no hash (no such user) as slow as a real check,
        so that the answer's timing does not tell whether a username exists."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 128


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidInput(
            "a username is 3-32 lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter",
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password"
        )
    if password.strip().lower() == username.lower():
        raise InvalidInput("the password must not be the username", field="password")


def check_role(role: Role, department_code: str | None) -> str | None:
    """The department code a role keeps: complaint staff need one, nobody else has one."""
    if role is Role.COMPLAINTS:
        if not department_code or not department_code.strip():
            raise InvalidInput("complaint staff belong to a department", field="department")
        return department_code.strip().upper()
    if department_code:
        raise InvalidInput(f"{role.value} staff belong to no department", field="department")
    return None


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
    times: int = 1  # identical refusals counted in one entry (see record_repeated)


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


PER_PAGE = 50


class LogKind(StrEnum):
    BOOKINGS = "bookings"  # what happened to bookings (booked, cancelled, arrived…)
    ERRORS = "errors"  # operations refused or failed (slot_full, past_deadline…)


@dataclass(frozen=True, slots=True)
class LogFilter:
    kind: LogKind = LogKind.BOOKINGS
    since: datetime | None = None  # [since, until), UTC
    until: datetime | None = None
    event: str | None = None  # the booking event or the operation; a prefix: "waitlist"
    booking_no: str | None = None
    reason: str | None = None  # an error's reason; a booking event's detail "reason"
    page: int = 1  # from 1, newest first
    per_page: int = PER_PAGE

    def used(self) -> list[str]:
        """The kinds of filter set, for the audit log (not what was typed)."""
        kinds = ("since", "until", "event", "booking_no", "reason")
        return [name for name in kinds if getattr(self, name) is not None]


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    at: datetime
    what: str  # the event, or the operation
    booking_no: str | None
    reason: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry] = field(default_factory=list)
    more: bool = False
