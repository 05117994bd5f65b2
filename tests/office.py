"""The back office for tests: its router in a bare FastAPI app on the test database, with a
clock the test moves, driven over ASGI by httpx like a browser (cookies kept)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

import backoffice
from backoffice.routes import LoginGate
from booking.clock import FixedClock
from booking.complaints.filing import ACCEPT_WITHIN
from booking.protect import Protector
from booking.staff.accounts import add_staff
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import AuditFilter, Role
from booking.store import Database

# Cheap argon2 for tests: the rules are the same, a check takes a millisecond.
PASSWORDS = backoffice.Argon2Passwords(time_cost=1, memory_cost=1024)
PASSWORD = "correct-horse-battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class OfficeServices:
    uows: Database
    clock: FixedClock
    protector: Protector


@asynccontextmanager
async def office(
    db: Database,
    clock: FixedClock,
    protector: Protector,
    *,
    secure: bool = False,
    login_gate: LoginGate | None = None,
    complaint_within: timedelta = ACCEPT_WITHIN,
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    services = OfficeServices(db, clock, protector)
    app.include_router(
        backoffice.router(
            lambda: services,
            passwords=PASSWORDS,
            secure_cookies=secure,
            login_gate=login_gate,
            complaint_within=complaint_within,
        )
    )
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://office.test") as client:
        yield client


async def staff(
    db: Database, clock: FixedClock, username: str, role: Role, department: str | None = None
) -> None:
    await add_staff(
        db,
        clock,
        PASSWORDS,
        username=username,
        password=PASSWORD,
        role=role,
        department_code=department,
        actor=COMMAND_LINE,
    )


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/admin/login")
    assert form.status_code == 200
    data = {"csrf": csrf_of(form.text), "username": username, "password": password}
    return await client.post("/admin/login", data=data)


async def signed_in_as(client: httpx.AsyncClient, username: str) -> str:
    """Logs in; the session's CSRF token, as the landing page carries it."""
    answer = await log_in(client, username)
    assert answer.status_code == 303, answer.text
    home = await client.get("/admin/")
    assert home.status_code == 200
    return csrf_of(home.text)


async def audit_rows(db: Database) -> list[dict[str, Any]]:
    async with db(readonly=True) as uow:
        page = await uow.audit.page(AuditFilter(per_page=10_000))
    return [
        {
            "action": e.action,
            "username": e.username,
            "staff_id": e.staff_id,
            "target": e.target,
            "before": e.before,
            "after": e.after,
            "address": e.address,
            "times": e.times,
        }
        for e in reversed(page)
    ]


def as_text(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False)


async def searched(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """A back-office search as the page makes it: the form posted (with the session's CSRF
    token), then the page it leads to, named by a sealed token; or the refusal."""
    csrf = csrf_of((await client.get("/admin/")).text)
    posted = await client.post(path, data={"csrf": csrf, **fields})
    if posted.status_code != 303:
        return posted
    where = posted.headers["location"]
    assert where.startswith(f"{path}?s="), where
    return await client.get(where)
