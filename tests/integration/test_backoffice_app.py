"""`guahao staff …` run for real (SQLite and PostgreSQL), and the back office as `guahao serve`
serves it: create_app, under /admin, with the first administrator made on the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from backoffice import Argon2Passwords
from booking.store import Database, upgrade
from bot.app import create_app
from bot.cli import app as cli_app
from bot.settings import Settings
from tests.office import audit_rows, log_in
from tests.support import POSTGRES_URL, SECRET, postgres_schema_outside_loop

GUAHAO = Path(sys.executable).parent / "guahao"
ADMIN_PASSWORD = "first-admin-password"
DESK_PASSWORD = "desk-password-2026"


class Staff:
    """Runs `guahao staff …` against one database."""

    def __init__(self, workdir: Path, url: str, schema: str | None = None) -> None:
        self.workdir, self.url, self.schema = workdir, url, schema
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GUAHAO_", "DATA"))}
        self.env.update(DATABASE_URL=url, GUAHAO_SECRET_KEY=SECRET)
        if schema:
            self.env["GUAHAO_DB_SCHEMA"] = schema

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(GUAHAO), "staff", *args],
            cwd=self.workdir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stdout + done.stderr
        for secret in (ADMIN_PASSWORD, DESK_PASSWORD):
            assert secret not in done.stdout + done.stderr
        return done

    def ok(self, *args: str, stdin: str = "") -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def database(self) -> Database:
        return Database(self.url, schema=self.schema)


def staff_story(cli: Staff) -> None:
    added = cli.ok("add", "--username", "Admin", "--role", "admin", "--password-stdin",
                   stdin=ADMIN_PASSWORD + "\n")  # fmt: skip
    assert added.strip() == "added admin: 管理员 administrator"
    cli.ok("add", "--username", "desk", "--role", "registration", "--password-stdin",
           stdin="an-old-password\n")  # fmt: skip
    assert "signed out everywhere" in cli.ok(
        "reset-password", "--username", "desk", "--password-stdin", stdin=DESK_PASSWORD + "\n"
    )
    listed = json.loads(cli.ok("list", "--json"))
    assert [(a["username"], a["role"], a["disabled"]) for a in listed] == [
        ("admin", "admin", False),
        ("desk", "registration", False),
    ]
    assert cli.ok("disable", "--username", "desk").strip() == "desk is disabled"
    table = cli.ok("list")
    assert "disabled" in table.splitlines()[2] and "active" in table.splitlines()[1]

    async def check() -> None:
        db = cli.database()
        try:
            async with db(readonly=True) as uow:
                admin = await uow.staff.by_username("admin")
            assert admin is not None and admin.password_hash.startswith("$argon2id$")
            assert await Argon2Passwords().verify(admin.password_hash, ADMIN_PASSWORD)
            rows = await audit_rows(db)
        finally:
            await db.dispose()
        assert [(r["action"], r["target"], r["address"]) for r in rows] == [
            ("staff.add", "admin", "cli"),
            ("staff.add", "desk", "cli"),
            ("staff.reset_password", "desk", "cli"),
            ("staff.disable", "desk", "cli"),
        ]
        assert "password" not in json.dumps([r["after"] for r in rows])

    asyncio.run(check())


def test_staff_accounts_from_the_command_line_on_sqlite(tmp_path: Path) -> None:
    staff_story(Staff(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"))


@pytest.mark.postgres
def test_staff_accounts_from_the_command_line_on_postgres(tmp_path: Path) -> None:
    with postgres_schema_outside_loop("staff") as schema:
        upgrade(POSTGRES_URL, schema=schema)
        staff_story(Staff(tmp_path, POSTGRES_URL, schema))


def test_the_password_is_typed_twice_at_a_hidden_prompt_and_refusals_are_one_line(
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}",
        "GUAHAO_SECRET_KEY": SECRET,
    }

    def staff(*args: str, typed: str = "") -> Any:
        return CliRunner().invoke(cli_app, ["staff", *args], input=typed, env=env)

    done = staff("add", "--username", "nurse", "--role", "registration",
                 typed=f"{DESK_PASSWORD}\n{DESK_PASSWORD}\n")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "added nurse" in done.output and DESK_PASSWORD not in done.output
    typos = f"{DESK_PASSWORD}\nsomething-else\n{DESK_PASSWORD}\n{DESK_PASSWORD}\n"
    mismatch = staff("reset-password", "--username", "nurse", typed=typos)
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    refusals = {
        "error: username_taken: this username is taken": ("--username", "nurse"),
        "error: invalid_input: complaint staff belong to a department": (
            "--username", "cardio", "--role", "complaints",
        ),
        "error: invalid_input: no department CARD": (  # no hospital loaded in this database
            "--username", "cardio", "--role", "complaints", "--department", "card",
        ),
        "error: invalid_input: admin staff belong to no department": (
            "--username", "boss", "--department", "card",
        ),
    }  # fmt: skip
    for line, args in refusals.items():
        options = ("--role", "admin", *args) if "--role" not in args else args
        refused = staff("add", *options, "--password-stdin", typed=DESK_PASSWORD + "\n")
        assert refused.exit_code == 1 and refused.output.strip() == line
    short = staff(
        "add", "--username", "x1y", "--role", "admin", "--password-stdin", typed="short\n"
    )
    assert short.output.strip() == "error: invalid_input: a password has 10 to 128 characters"
    nobody = staff("disable", "--username", "nobody")
    assert nobody.output.strip() == "error: not_found: no staff account with this username"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Settings]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}"
    upgrade(url)
    Staff(tmp_path, url).ok("add", "--username", "admin", "--role", "admin", "--password-stdin",
                            stdin=ADMIN_PASSWORD + "\n")  # fmt: skip
    yield Settings(
        DATABASE_URL=url,
        GUAHAO_SECRET_KEY=SECRET,
        GUAHAO_NLU_MODELS=tmp_path / "models",
    )  # type: ignore[call-arg]


async def test_guahao_serve_has_the_back_office_under_admin(served: Settings) -> None:
    app = create_app(served)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://h.test") as client:
            assert (await client.get("/admin")).status_code in (303, 307)
            assert (await log_in(client, "admin", "wrong-password-1")).status_code == 401
            answer = await log_in(client, "admin", ADMIN_PASSWORD)
            assert answer.status_code == 303
            home = await client.get("/admin/")
            assert "审计日志" in home.text and "查找预约" in home.text
            log: Any = await client.get("/admin/audit")
            assert "login_failed" in log.text and "staff.add" in log.text
    api = app.openapi()
    documented = [path for path in api["paths"] if path.startswith("/admin")]
    assert documented and all(path.startswith("/admin/api/") for path in documented)  # no pages
