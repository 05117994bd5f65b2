"""The log pages (B8) on SQLite and PostgreSQL: administrators search the booking log and the
operation-error log by period, event or operation, booking number and reason, newest first, a
page at a time; each search is audited by the kinds of filter (not their values); other roles
are refused (403, audited).

The clock stands at Monday 23 November 2026, 09:00 in Shanghai (01:00 UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking.clock import FixedClock
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from tests.office import as_text, audit_rows, office, signed_in_as, staff

SAT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # Saturday 10:00 in Shanghai
SUN = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
MON = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # Monday 08:30 in Shanghai


@pytest.fixture
async def logged(demo: Database, clock: FixedClock) -> Database:
    db = demo
    await staff(db, clock, "admin", Role.ADMIN)
    await staff(db, clock, "desk", Role.REGISTRATION)
    await staff(db, clock, "cardio", Role.COMPLAINTS, "CARD")
    async with db() as uow:
        await uow.logs.booking_event(SAT, "booked", "20261121000001", {"session_id": 1})
        await uow.logs.booking_event(
            SUN, "cancelled", "20261121000001", {"session_id": 1, "reason": "patient"}
        )
        await uow.logs.booking_event(SUN, "booked", "20261122000002", {"session_id": 2})
        await uow.logs.booking_event(MON, "waitlist_joined", None, {"session_id": 3})
        await uow.logs.booking_event(
            MON, "cancelled", "20261122000002", {"session_id": 2, "reason": "session_stopped"}
        )
        await uow.logs.operation_error(SAT, "book", "slot_full", {"session_id": 1})
        await uow.logs.operation_error(SUN, "cancel", "past_deadline", {})
        await uow.logs.operation_error(MON, "book", "outside_window", {})
        await uow.commit()
    return db


def numbers(page: str) -> list[str]:
    """The booking numbers in the table, in order."""
    return re.findall(r"<td>(2026\d{10})</td>", page)


def events(page: str) -> list[str]:
    return re.findall(r"<tr><td>[\d: -]+</td><td>([a-z_]+)</td>", page)


async def logs(client: httpx.AsyncClient, **query: str) -> str:
    answer = await client.get("/admin/logs", params=query)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_the_booking_log_newest_first_and_its_filters(
    logged: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(logged, clock, protector) as client:
        await signed_in_as(client, "admin")
        everything = await logs(client)
        assert events(everything) == [
            "cancelled", "waitlist_joined", "booked", "cancelled", "booked",
        ]  # fmt: skip
        assert "session_stopped" in everything

        cancelled = await logs(client, event="cancel")
        assert events(cancelled) == ["cancelled", "cancelled"]
        one = await logs(client, booking_no="20261121000001")
        assert events(one) == ["cancelled", "booked"]
        assert set(numbers(one)) == {"20261121000001"}
        why = await logs(client, reason="session_stopped")
        assert numbers(why) == ["20261122000002"]
        sunday = await logs(client, **{"from": "2026-11-22", "to": "2026-11-22"})
        assert events(sunday) == ["booked", "cancelled"]
        weekend = await logs(client, **{"to": "2026-11-22", "event": "booked"})
        assert numbers(weekend) == ["20261122000002", "20261121000001"]
        assert "无记录" in await logs(client, event="transferred")


async def test_the_error_log_by_operation_reason_and_period(
    logged: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(logged, clock, protector) as client:
        await signed_in_as(client, "admin")
        every = await logs(client, log="errors")
        assert events(every) == ["book", "cancel", "book"]
        assert "outside_window" in every and "slot_full" in every
        assert events(await logs(client, log="errors", event="book")) == ["book", "book"]
        late = await logs(client, log="errors", reason="past_deadline")
        assert events(late) == ["cancel"]
        monday = await logs(client, log="errors", **{"from": "2026-11-23"})
        assert events(monday) == ["book"] and "outside_window" in monday


async def test_pages_of_fifty_newest_first(
    db: Database, clock: FixedClock, protector: Protector
) -> None:
    await staff(db, clock, "admin", Role.ADMIN)
    async with db() as uow:
        for n in range(51):
            at = SAT + timedelta(minutes=n)
            await uow.logs.booking_event(at, "booked", f"2026112100{n:04d}", {"n": n})
        await uow.commit()
    async with office(db, clock, protector) as client:
        await signed_in_as(client, "admin")
        first = await logs(client)
        assert len(numbers(first)) == 50 and numbers(first)[0] == "20261121000050"
        assert "page=2" in first and "page=0" not in first
        second = await logs(client, page="2")
        assert numbers(second) == ["20261121000000"]
        assert "page=1" in second and "page=3" not in second


async def test_a_search_is_audited_by_its_filter_kinds_not_what_was_typed(
    logged: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(logged, clock, protector) as client:
        await signed_in_as(client, "admin")
        await logs(client, booking_no="20261121000001", reason="patient")
        await logs(client, log="errors", event="book", **{"from": "2026-11-21"})
    searches = [r for r in await audit_rows(logged) if r["action"] == "logs.search"]
    assert [r["after"] for r in searches] == [
        {"log": "bookings", "filters": ["booking_no", "reason"], "page": 1},
        {"log": "errors", "filters": ["since", "event"], "page": 1},
    ]
    assert all(r["username"] == "admin" for r in searches)
    assert "20261121000001" not in as_text(searches)


async def test_a_bad_date_is_a_polite_400(
    logged: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(logged, clock, protector) as client:
        await signed_in_as(client, "admin")
        answer = await client.get("/admin/logs", params={"from": "2026-13-40"})
        assert answer.status_code == 400 and "YYYY-MM-DD" in answer.text
        backwards = {"from": "2026-11-23", "to": "2026-11-21"}
        answer = await client.get("/admin/logs", params=backwards)
        assert answer.status_code == 400 and "ends before it starts" in answer.text
        for far in ({"to": "9999-12-31"}, {"from": "0001-01-01"}):  # were 500s (OverflowError)
            answer = await client.get("/admin/logs", params=far)
            assert answer.status_code == 400 and "YYYY-MM-DD" in answer.text


@pytest.mark.parametrize("username", ["desk", "cardio"])
async def test_only_administrators_read_the_logs(
    logged: Database, clock: FixedClock, protector: Protector, username: str
) -> None:
    async with office(logged, clock, protector) as client:
        home = await client.get("/admin/")  # not signed in: to the login page
        assert home.status_code == 303
        await signed_in_as(client, username)
        answer = await client.get("/admin/logs", params={"log": "errors"})
        assert answer.status_code == 403
        assert "slot_full" not in answer.text
        assert 'href="/admin/logs"' not in (await client.get("/admin/")).text
    [denied] = [r for r in await audit_rows(logged) if r["action"] == "denied"]
    assert denied["username"] == username
    assert denied["target"] == "GET /admin/logs" and denied["after"] == {"why": "read_logs"}
    assert not [r for r in await audit_rows(logged) if r["action"] == "logs.search"]
