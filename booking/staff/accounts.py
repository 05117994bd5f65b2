"""Managing back-office accounts (`guahao staff …`): add, list, reset a password, disable.
Each change is audited in its own transaction; passwords are never written anywhere but as
their hash."""

from __future__ import annotations

from booking.clock import Clock
from booking.errors import InvalidInput, NotFound
from booking.staff import audit
from booking.staff.model import (
    Actor,
    Passwords,
    Role,
    StaffAccount,
    check_password,
    check_role,
    check_username,
    is_locked,
)
from booking.staff.ports import NewStaff, StaffWork
from booking.unit_of_work import UnitOfWorkFactory


async def add_staff(
    uows: UnitOfWorkFactory[StaffWork],
    clock: Clock,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    role: Role,
    department_code: str | None = None,
    actor: Actor,
) -> StaffAccount:
    name = check_username(username)
    check_password(password, name)
    department = check_role(role, department_code)
    password_hash = await passwords.hash(password)
    now = clock.now()
    async with uows() as uow:
        if department is not None:
            catalogue = await uow.catalogue.load()
            if not any(d.code == department for d in catalogue.departments):
                raise InvalidInput(f"no department {department}", field="department")
        account = await uow.staff.add(NewStaff(name, role, department, password_hash), now)
        after = {"role": role.value, "department": department}
        await uow.audit.add(actor.did(now, audit.STAFF_ADD, name, after=after))
        await uow.commit()
    return account


async def list_staff(uows: UnitOfWorkFactory[StaffWork]) -> list[StaffAccount]:
    async with uows(readonly=True) as uow:
        return await uow.staff.everyone()


async def _existing(uow: StaffWork, username: str) -> StaffAccount:
    account = await uow.staff.by_username(username.strip().lower(), lock=True)
    if account is None:
        raise NotFound("no staff account with this username", what="staff")
    return account


async def reset_password(
    uows: UnitOfWorkFactory[StaffWork],
    clock: Clock,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    actor: Actor,
) -> StaffAccount:
    """A new password, the lock lifted, and every session signed out."""
    check_password(password, username.strip().lower())
    password_hash = await passwords.hash(password)
    now = clock.now()
    async with uows() as uow:
        account = await _existing(uow, username)
        await uow.staff.set_password(account.id, password_hash)
        ended = await uow.staff.end_logins_of(account.id)
        before = {"locked": is_locked(account, now), "sessions": ended}
        after = {"locked": False, "sessions": 0}
        entry = actor.did(now, audit.STAFF_NEW_PASSWORD, account.username, before, after)
        await uow.audit.add(entry)
        await uow.commit()
    return account


async def disable_staff(
    uows: UnitOfWorkFactory[StaffWork], clock: Clock, *, username: str, actor: Actor
) -> StaffAccount:
    """No more signing in; the account's sessions end at once. Kept for the audit log."""
    now = clock.now()
    async with uows() as uow:
        account = await _existing(uow, username)
        await uow.staff.disable(account.id)
        ended = await uow.staff.end_logins_of(account.id)
        before = {"disabled": account.disabled, "sessions": ended}
        entry = actor.did(now, audit.STAFF_DISABLE, account.username, before, {"disabled": True})
        await uow.audit.add(entry)
        await uow.commit()
    return account
