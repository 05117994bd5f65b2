"""``guahao staff …``: back-office accounts, for whoever runs the server (the first
administrator is made here). Passwords are typed at a hidden prompt or piped in with
``--password-stdin``, never given as an argument (which other users of the machine can see)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from backoffice import Argon2Passwords
from booking.staff.accounts import add_staff, disable_staff, list_staff, reset_password
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import ROLE_NAMES, Role, StaffAccount, is_locked
from bot.cli.common import Json, fail, run
from bot.cli.output import emit, emit_json, table
from bot.runtime.services import Services

staff_app = typer.Typer(help="Back-office staff accounts (/admin).", no_args_is_help=True)

Username = Annotated[str, typer.Option("--username", help="The login name, e.g. wang.li")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("invalid_input", "no password on standard input")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _staff_dict(account: StaffAccount, services: Services) -> dict[str, object]:
    return {
        "username": account.username,
        "role": account.role.value,
        "department_code": account.department_code,
        "disabled": account.disabled,
        "locked": is_locked(account, services.clock.now()),
        "created_at": account.created_at.isoformat(),
    }


@staff_app.command("add")
def staff_add(
    username: Username,
    role: Annotated[Role, typer.Option(help="admin, registration or complaints.")],
    department: Annotated[
        str | None, typer.Option(help="Complaint staff: their department's code, e.g. CARD.")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a member of staff (the first administrator too)."""
    password = _password(password_stdin)

    async def work(s: Services) -> None:
        account = await add_staff(
            s.uows,
            s.clock,
            Argon2Passwords(),
            username=username,
            password=password,
            role=role,
            department_code=department,
            actor=COMMAND_LINE,
        )
        where = f", department {account.department_code}" if account.department_code else ""
        emit(f"added {account.username}: {ROLE_NAMES[account.role]}{where}")

    run(work, migrate_first=True)


@staff_app.command("list")
def staff_list(as_json: Json = False) -> None:
    """Every account, with its role, department and whether it is locked or disabled."""

    async def work(s: Services) -> None:
        accounts = [_staff_dict(a, s) for a in await list_staff(s.uows)]
        if as_json:
            emit_json(accounts)
            return
        headers = ["username", "role", "department", "state", "created"]
        rows = [
            [
                a["username"],
                a["role"],
                a["department_code"] or "",
                "disabled" if a["disabled"] else "locked" if a["locked"] else "active",
                str(a["created_at"])[:10],
            ]
            for a in accounts
        ]
        emit(table(headers, rows) if rows else "no staff accounts: add one with `guahao staff add`")

    run(work)


@staff_app.command("reset-password")
def staff_reset_password(username: Username, password_stdin: PasswordStdin = False) -> None:
    """A new password; lifts a lock-out and signs the account out everywhere."""
    password = _password(password_stdin)

    async def work(s: Services) -> None:
        account = await reset_password(
            s.uows,
            s.clock,
            Argon2Passwords(),
            username=username,
            password=password,
            actor=COMMAND_LINE,
        )
        emit(f"new password for {account.username}; signed out everywhere")

    run(work)


@staff_app.command("disable")
def staff_disable(username: Username) -> None:
    """No more signing in; the account's sessions end at once (kept for the audit log)."""

    async def work(s: Services) -> None:
        account = await disable_staff(s.uows, s.clock, username=username, actor=COMMAND_LINE)
        emit(f"{account.username} is disabled")

    run(work)
