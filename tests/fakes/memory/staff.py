"""The staff's repositories in memory: accounts and logins, the audit log, the booking and
error logs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from booking.errors import UsernameTaken
from booking.staff.model import AuditEntry, AuditFilter, StaffAccount, StaffLogin
from booking.staff.ports import NewStaff
from tests.fakes.memory.state import LogLine, State, Unfinished


class MemoryLogs(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def booking_event(
        self, now: datetime, event: str, booking_no: str | None, detail: dict[str, Any]
    ) -> None:
        self.state.booking_log.append(LogLine(now, event, booking_no, dict(detail)))

    async def operation_error(
        self, now: datetime, operation: str, reason: str, detail: dict[str, Any]
    ) -> None:
        self.state.errors.append(LogLine(now, operation, None, {"reason": reason, **detail}))

    async def purge(self, before: datetime) -> tuple[int, int]:
        s = self.state
        kept_log = [x for x in s.booking_log if x.at >= before]
        kept_errors = [x for x in s.errors if x.at >= before]
        gone = (len(s.booking_log) - len(kept_log), len(s.errors) - len(kept_errors))
        s.booking_log, s.errors = kept_log, kept_errors
        return gone

    async def purge_audit(self, before: datetime) -> int:
        kept = [a for a in self.state.audit if a.at >= before]
        gone = len(self.state.audit) - len(kept)
        self.state.audit = kept
        return gone


class MemoryStaff(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, new: NewStaff, now: datetime) -> StaffAccount:
        if await self.by_username(new.username) is not None:
            raise UsernameTaken("this username is taken")
        account = StaffAccount(
            id=self.state.new_id(),
            username=new.username,
            role=new.role,
            department_code=new.department_code,
            password_hash=new.password_hash,
            disabled=False,
            failures=(),
            locked_until=None,
            created_at=now,
        )
        self.state.staff[account.id] = account
        return account

    async def get(self, staff_id: int) -> StaffAccount | None:
        return self.state.staff.get(staff_id)

    async def by_username(self, username: str, *, lock: bool = False) -> StaffAccount | None:
        return next((a for a in self.state.staff.values() if a.username == username), None)

    async def everyone(self) -> list[StaffAccount]:
        return sorted(self.state.staff.values(), key=lambda a: a.username)

    async def disable(self, staff_id: int) -> None:
        self.state.staff[staff_id] = replace(self.state.staff[staff_id], disabled=True)

    async def open_login(self, login: StaffLogin) -> None:
        self.state.logins[login.token_hash] = login

    async def login(self, token_hash: str) -> StaffLogin | None:
        return self.state.logins.get(token_hash)

    async def end_login(self, token_hash: str) -> bool:
        return self.state.logins.pop(token_hash, None) is not None


class MemoryAudit(Unfinished):
    def __init__(self, state: State) -> None:
        self.state = state

    async def add(self, entry: AuditEntry) -> None:
        self.state.audit.append(replace(entry, id=self.state.new_id()))

    async def add_or_count(self, entry: AuditEntry, since: datetime) -> None:
        def same(a: AuditEntry) -> bool:
            return a.at >= since and replace(a, at=entry.at, id=None, times=1) == entry

        for n in range(len(self.state.audit) - 1, -1, -1):
            old = self.state.audit[n]
            if same(old):
                self.state.audit[n] = replace(old, times=old.times + 1)
                return
        await self.add(entry)

    async def page(self, f: AuditFilter) -> list[AuditEntry]:
        found = [
            a
            for a in reversed(self.state.audit)
            if (not f.username or a.username == f.username)
            and (not f.action or a.action == f.action)
        ]
        first = (max(f.page, 1) - 1) * f.per_page
        return found[first : first + f.per_page + 1]
