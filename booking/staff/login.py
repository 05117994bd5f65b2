"""Signing staff in and out of the back office, and finding whose login a browser holds.

A password is checked outside any transaction (argon2 takes a while, and SQLite's writers
queue), then the outcome is written on the account as it is by then, row locked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from booking.clock import Clock
from booking.errors import LoginRefused
from booking.staff import audit
from booking.staff.model import (
    Actor,
    LoginLimits,
    Passwords,
    StaffAccount,
    StaffLogin,
    after_right_password,
    after_wrong_password,
    is_locked,
)
from booking.staff.ports import StaffWork
from booking.unit_of_work import UnitOfWorkFactory

# One answer to every refusal: it tells nobody whether a username exists or is locked.
REFUSED = (
    "用户名或密码不正确，或账户已被暂时锁定（15分钟内输错5次密码将锁定15分钟）。"
    "Wrong username or password, or the account is locked for now "
    "(5 wrong passwords within 15 minutes lock it for 15 minutes)."
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; only its hash is kept
    account: StaffAccount
    login: StaffLogin


async def log_in(
    uows: UnitOfWorkFactory[StaffWork],
    clock: Clock,
    passwords: Passwords,
    username: str,
    password: str,
    *,
    address: str | None,
    limits: LoginLimits,
) -> SignedIn:
    """Raises LoginRefused (one message whatever went wrong) and audits every attempt. An
    unknown username is not written down: people type their password there by mistake."""
    name = username.strip().lower()[:64]
    async with uows(readonly=True) as uow:
        found = await uow.staff.by_username(name) if name else None
    usable = found is not None and not found.disabled and not is_locked(found, clock.now())
    # Always one slow check, so that the time taken tells nothing either.
    right = await passwords.verify(found.password_hash if usable and found else None, password)
    new_hash = None
    if right and found is not None and passwords.needs_rehash(found.password_hash):
        new_hash = await passwords.hash(password)
    now = clock.now()
    nobody = Actor(staff_id=None, username=None, address=address)
    async with uows() as uow:
        account = await uow.staff.by_username(name, lock=True) if found else None
        if account is None or found is None:  # counted: anybody may try names
            entry = nobody.did(now, audit.LOGIN_FAILED)
            await uow.audit.add_or_count(entry, now - audit.REPEAT_WINDOW)
            await uow.commit()
            raise LoginRefused(REFUSED)
        who = Actor(staff_id=account.id, username=account.username, address=address)
        # Refused whatever the password, again and again by anyone who knows the name:
        # counted, as the unknown names are.
        if account.disabled:
            entry = who.did(now, audit.LOGIN_FAILED, after={"disabled": True})
            await uow.audit.add_or_count(entry, now - audit.REPEAT_WINDOW)
            await uow.commit()
            raise LoginRefused(REFUSED)
        if is_locked(account, now):
            until = account.locked_until.isoformat() if account.locked_until else None
            entry = who.did(now, audit.LOGIN_WHILE_LOCKED, after={"until": until})
            await uow.audit.add_or_count(entry, now - audit.REPEAT_WINDOW)
            await uow.commit()
            raise LoginRefused(REFUSED)
        # A password reset meanwhile makes the check against the old hash worthless.
        if not right or account.password_hash != found.password_hash:
            changed = after_wrong_password(account, now)
            await uow.staff.save_sign_in_state(account.id, changed.failures, changed.locked_until)
            await uow.audit.add(who.did(now, audit.LOGIN_FAILED))
            if changed.locked_until is not None:
                locked = {"until": changed.locked_until.isoformat()}
                await uow.audit.add(who.did(now, audit.LOCKED_OUT, after=locked))
            await uow.commit()
            raise LoginRefused(REFUSED)
        account = after_right_password(account)
        await uow.staff.save_sign_in_state(account.id, account.failures, None)
        if new_hash is not None:
            await uow.staff.set_password(account.id, new_hash)
        await uow.staff.purge_logins(now - limits.absolute, now - limits.idle)
        token = secrets.token_urlsafe(32)
        login = StaffLogin(
            token_hash=token_hash(token),
            staff_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
        )
        await uow.staff.open_login(login)
        await uow.audit.add(who.did(now, audit.LOGIN))
        await uow.commit()
    return SignedIn(token=token, account=account, login=login)


async def signed_in(
    uows: UnitOfWorkFactory[StaffWork], clock: Clock, token: str, limits: LoginLimits
) -> tuple[StaffAccount, StaffLogin] | None:
    """The member of staff behind a login's token, while the login is alive and the account
    enabled; the login counts as used now."""
    now = clock.now()
    hashed = token_hash(token)
    async with uows(readonly=True) as uow:
        login = await uow.staff.login(hashed)
        account = await uow.staff.get(login.staff_id) if login else None
    if login is None or account is None or account.disabled or not login.alive(now, limits):
        return None
    if now - login.last_seen_at >= limits.touch_every:
        async with uows() as uow:
            await uow.staff.touch_login(hashed, now)
            await uow.commit()
    return account, login


async def log_out(
    uows: UnitOfWorkFactory[StaffWork], clock: Clock, token: str, actor: Actor
) -> None:
    async with uows() as uow:
        if await uow.staff.end_login(token_hash(token)):
            await uow.audit.add(actor.did(clock.now(), audit.LOGOUT))
        await uow.commit()
