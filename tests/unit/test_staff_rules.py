"""The back office's rules, without a database: roles, the lock-out, session timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.errors import InvalidInput
from booking.staff.model import (
    PERMISSIONS,
    LoginLimits,
    Permission,
    Role,
    StaffAccount,
    StaffLogin,
    after_right_password,
    after_wrong_password,
    check_password,
    check_role,
    check_username,
    is_locked,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def account(**changes: object) -> StaffAccount:
    fields: dict[str, object] = {
        "id": 1,
        "username": "desk",
        "role": Role.REGISTRATION,
        "department_code": None,
        "password_hash": "x",
        "disabled": False,
        "failures": (),
        "locked_until": None,
        "created_at": T0,
    }
    return StaffAccount(**{**fields, **changes})  # type: ignore[arg-type]


def test_what_each_role_may_do() -> None:
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    desk, complaints = account(), account(role=Role.COMPLAINTS, department_code="CARD")
    assert desk.may(Permission.CHANGE_BOOKINGS) and not desk.may(Permission.READ_AUDIT)
    assert complaints.may(Permission.HANDLE_COMPLAINTS)
    assert not complaints.may(Permission.FIND_BOOKINGS)
    assert not account(role=Role.ADMIN, disabled=True).may(Permission.READ_AUDIT)


def test_five_wrong_passwords_within_fifteen_minutes_lock_for_fifteen() -> None:
    a = account()
    for minute in (0, 1, 2, 3):
        a = after_wrong_password(a, T0 + timedelta(minutes=minute))
        assert not is_locked(a, T0 + timedelta(minutes=minute))
    fifth = T0 + timedelta(minutes=14, seconds=59)
    a = after_wrong_password(a, fifth)
    assert is_locked(a, fifth) and is_locked(a, fifth + timedelta(minutes=14, seconds=59))
    assert not is_locked(a, fifth + timedelta(minutes=15))
    assert a.failures == ()  # a fresh count after the lock


def test_the_window_slides() -> None:
    a = account()
    for minute in (0, 14, 16, 17, 18):
        a = after_wrong_password(a, T0 + timedelta(minutes=minute))
    assert a.locked_until is None and len(a.failures) == 4  # the one at 0 fell out
    a = after_wrong_password(a, T0 + timedelta(minutes=19))
    assert a.locked_until == T0 + timedelta(minutes=34)


def test_the_right_password_clears_the_count() -> None:
    a = after_wrong_password(after_wrong_password(account(), T0), T0)
    assert after_right_password(a).failures == ()


def test_sessions_end_when_idle_or_old() -> None:
    limits = LoginLimits()
    s = StaffLogin("h", 1, "c", created_at=T0, last_seen_at=T0 + timedelta(hours=11, minutes=50))
    assert s.alive(T0 + timedelta(hours=11, minutes=59), limits)
    assert not s.alive(T0 + timedelta(hours=12), limits)
    assert not s.alive(T0 + timedelta(hours=11, minutes=50) + limits.idle, limits)


@pytest.mark.parametrize("name", ["ab", "1abc", "a b", "x" * 33, "张三"])
def test_usernames_are_plain(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_username(name)


def test_passwords_and_departments() -> None:
    assert check_username(" Wang.Li ") == "wang.li"
    with pytest.raises(InvalidInput):
        check_password("too-short", "desk")
    with pytest.raises(InvalidInput):
        check_password("Desk.Clerk", "desk.clerk")
    check_password("a-long-enough-one", "desk")
    assert check_role(Role.COMPLAINTS, " card ") == "CARD"
    with pytest.raises(InvalidInput):
        check_role(Role.REGISTRATION, "CARD")
