"""Signing in to the back office, on SQLite and PostgreSQL: passwords, the lock-out, the
session cookie and its timeouts, logging out, and CSRF tokens on every post."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.clock import FixedClock
from booking.protect import Protector
from booking.staff.accounts import disable_staff
from booking.staff.audit import COMMAND_LINE
from booking.staff.login import REFUSED, token_hash
from booking.staff.model import Role
from booking.store import Database
from bot.app import login_gate
from tests.office import PASSWORD, audit_rows, csrf_of, log_in, office, signed_in_as, staff


@pytest.fixture
async def people(db: Database, clock: FixedClock) -> Database:
    await staff(db, clock, "admin", Role.ADMIN)
    await staff(db, clock, "desk", Role.REGISTRATION)
    return db


async def test_staff_sign_in_and_see_what_their_role_may_do(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        assert (await client.get("/admin/")).headers["location"] == "/admin/login"
        answer = await log_in(client, "Desk")  # usernames are not case-sensitive
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/"
        cookie = answer.headers["set-cookie"]
        assert "guahao_staff=" in cookie and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie and "Path=/admin" in cookie
        assert "Secure" not in cookie
        answer = await client.get("/admin/")
        assert answer.headers["cache-control"] == "no-store"  # it shows patients
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        home = answer.text
        assert "查找预约" in home and "审计日志" not in home
        assert (await client.get("/admin/login")).headers["location"] == "/admin/"
    async with office(people, clock, protector) as client:
        await signed_in_as(client, "admin")
        assert "审计日志" in (await client.get("/admin/")).text
    logins = [r for r in await audit_rows(people) if r["action"] == "login"]
    assert [(r["username"], r["address"]) for r in logins] == [
        ("desk", "10.1.2.3"),
        ("admin", "10.1.2.3"),
    ]


async def test_in_production_the_cookies_go_only_over_https(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector, secure=True) as client:
        form = await client.get("/admin/login")
        assert "Secure" in form.headers["set-cookie"]


async def test_a_wrong_password_and_an_unknown_username_get_the_same_answer(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        wrong = await log_in(client, "desk", "not-the-password")
        unknown = await log_in(client, "nobody", "not-the-password")
        for answer in (wrong, unknown):
            assert answer.status_code == 401
            assert REFUSED in answer.text and "guahao_staff=" not in str(answer.headers)
        assert (await client.get("/admin/")).status_code == 303
    failed = [r for r in await audit_rows(people) if r["action"] == "login_failed"]
    assert [r["username"] for r in failed] == ["desk", None]  # what was typed is not kept
    assert "not-the-password" not in str(failed) and "nobody" not in str(failed)


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        for _ in range(4):
            assert (await log_in(client, "desk", "guessing-wrong")).status_code == 401
            clock.advance(timedelta(minutes=3))
        assert (await log_in(client, "desk", "guessing-wrong")).status_code == 401  # 12 min
        locked = await log_in(client, "desk", PASSWORD)
        assert locked.status_code == 401 and REFUSED in locked.text  # nothing more told
        clock.advance(timedelta(minutes=1))
        for _ in range(30):  # anyone who knows the name may keep trying: counted, not written
            assert (await log_in(client, "desk", "guessing-wrong")).status_code == 401
        clock.advance(timedelta(minutes=13, seconds=59))
        assert (await log_in(client, "desk", PASSWORD)).status_code == 401
        assert (await log_in(client, "admin", PASSWORD)).status_code == 303  # others: fine
    clock.advance(timedelta(seconds=1))
    async with office(people, clock, protector) as client:
        assert (await log_in(client, "desk", PASSWORD)).status_code == 303
    rows = [(r["action"], r["times"]) for r in await audit_rows(people) if r["username"] == "desk"]
    assert rows == [
        *[("login_failed", 1)] * 5,
        ("locked_out", 1),
        ("login_while_locked", 32),
        ("login", 1),
    ]


async def test_wrong_passwords_spread_over_more_than_fifteen_minutes_do_not_lock(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        for _ in range(8):
            assert (await log_in(client, "desk", "guessing-wrong")).status_code == 401
            clock.advance(timedelta(minutes=4))
        assert (await log_in(client, "desk", PASSWORD)).status_code == 303


async def test_logging_out_ends_the_session_on_the_server(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        cookie = client.cookies["guahao_staff"]
        out = await client.post("/admin/logout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/admin/login"
        client.cookies.set("guahao_staff", cookie, domain="office.test", path="/admin")
        assert (await client.get("/admin/")).headers["location"] == "/admin/login"
    async with people(readonly=True) as uow:
        assert await uow.staff.login(token_hash(cookie)) is None
    assert [r["action"] for r in await audit_rows(people) if r["username"] == "desk"] == [
        "login",
        "logout",
    ]


async def test_a_session_ends_after_30_idle_minutes_and_after_12_hours(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        await signed_in_as(client, "desk")
        clock.advance(timedelta(minutes=29))
        assert (await client.get("/admin/")).status_code == 200
        clock.advance(timedelta(minutes=30, seconds=1))
        assert (await client.get("/admin/")).status_code == 303
    async with office(people, clock, protector) as client:
        await signed_in_as(client, "desk")
        for _ in range(12 * 3):  # busy all day, never idle
            clock.advance(timedelta(minutes=20))
            last = await client.get("/admin/")
        assert last.status_code == 303


async def test_a_post_without_the_sessions_csrf_token_is_refused_and_recorded(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert (await client.post("/admin/logout", data={})).status_code == 403
        assert (await client.post("/admin/logout", data={"csrf": "forged"})).status_code == 403
        elsewhere = await client.post("/admin/bookings/26112312345678/cancel", data={})
        assert elsewhere.status_code == 403
        by_header = await client.post("/admin/logout", headers={"X-CSRF-Token": csrf})
        assert by_header.status_code == 303
    denied = [r for r in await audit_rows(people) if r["action"] == "denied"]
    assert [(r["username"], r["after"], r["target"], r["times"]) for r in denied] == [
        ("desk", {"why": "csrf"}, "POST /admin/logout", 2),  # the same refusal, counted
        ("desk", {"why": "csrf"}, "POST /admin/bookings/26112312345678/cancel", 1),
    ]


async def test_the_login_form_carries_its_own_csrf_token(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        form = await client.get("/admin/login")
        token = csrf_of(form.text)
        client.cookies.clear()  # a post from another site's page has no cookie of ours
        data = {"csrf": token, "username": "desk", "password": PASSWORD}
        assert (await client.post("/admin/login", data=data)).status_code == 403
    assert [r["action"] for r in await audit_rows(people)][-1] == "denied"


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(people, clock, protector) as client:
        await signed_in_as(client, "desk")
        await disable_staff(people, clock, username="desk", actor=COMMAND_LINE)
        assert (await client.get("/admin/")).status_code == 303
        assert (await log_in(client, "desk")).status_code == 401


async def test_one_address_trying_many_usernames_is_slowed_down(
    db: Database, clock: FixedClock, protector: Protector
) -> None:
    """Lock-out is per account: one password tried against every username from one address
    is stopped by the address's own limit, the right password included."""
    await staff(db, clock, "desk1", Role.REGISTRATION)
    gate = login_gate("3/15 minutes", "async+memory://")
    async with office(db, clock, protector, login_gate=gate) as client:
        for name in ("ann", "bob", "cat"):
            assert (await log_in(client, name, "guess-1234")).status_code == 401
        refused = await log_in(client, "desk1")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Too many attempts" in refused.text
        assert "guahao_staff" not in refused.cookies  # not signed in


async def test_a_flood_of_forged_logins_is_held_back_early_and_counted_not_written_each(
    people: Database, clock: FixedClock, protector: Protector
) -> None:
    """Anybody may post the login form: with a wrong CSRF token and no cookie each post was
    audited, at full speed and for three years. The address's limit comes first now, and
    identical refusals are counted on one entry."""
    gate = login_gate("20/15 minutes", "async+memory://")  # the default
    forged = {"csrf": "forged", "username": "admin", "password": "guess-1234"}
    async with office(people, clock, protector, login_gate=gate) as client:
        statuses = [
            (await client.post("/admin/login", data=forged)).status_code for _ in range(300)
        ]
        assert statuses[:20] == [403] * 20
        assert set(statuses[20:]) == {429}
    others = []  # unknown names, counted too; a wrong password for a real account, written
    async with office(people, clock, protector) as client:
        for name in ("nobody", "nobody", "admin"):
            others.append(await log_in(client, name, "guess-1234"))
        assert [a.status_code for a in others] == [401, 401, 401]
        await signed_in_as(client, "admin")
        shown = (await client.get("/admin/audit", params={"action": "denied"})).text
        assert "denied ×20" in shown  # what staff read: one line, how many times
    rows = await audit_rows(people)
    denied = [r for r in rows if r["action"] == "denied"]
    assert [(r["address"], r["after"], r["target"], r["times"]) for r in denied] == [
        ("10.1.2.3", {"why": "csrf"}, "POST /admin/login", 20)
    ]
    unknown = [r for r in rows if r["action"] == "login_failed" and r["username"] is None]
    assert [(r["address"], r["times"]) for r in unknown] == [("10.1.2.3", 2)]
    # The two accounts made, the two counted refusals, the wrong password, the admin's login.
    assert len(rows) <= 2 + 2 + 1 + 1
