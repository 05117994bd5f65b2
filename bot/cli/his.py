"""``guahao his …``: the hospital information system's access to /fhir (bearer tokens per
client, shown once and kept only as hashes) and the import of its doctors and sessions."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Annotated

import typer

from booking.his.clients import add_client, list_clients, revoke_client
from booking.staff.audit import COMMAND_LINE
from bot.cli.common import Json, fail, run
from bot.cli.output import emit, emit_json, table
from bot.fhir_sync import SyncFailed, sync
from bot.runtime.services import Services

his_app = typer.Typer(help="The HIS (hospital information system) over FHIR.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The client's name, e.g. his-main.")]


@his_app.command("add-client")
def his_add_client(name: Name) -> None:
    """A new client of /fhir; its bearer token is printed this once."""

    async def work(s: Services) -> None:
        client, token = await add_client(s.uows, s.clock, name)
        emit(f"added HIS client {client.name}; its bearer token (shown only now):")
        emit(token)

    run(work)


@his_app.command("list-clients")
def his_list_clients(as_json: Json = False) -> None:
    """Every client, active or revoked (tokens are not kept, so not shown)."""

    async def work(s: Services) -> None:
        clients = await list_clients(s.uows)
        rows = [
            {
                "name": c.name,
                "created_at": c.created_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in clients
        ]
        if as_json:
            emit_json(rows)
            return
        lines = [[r["name"], str(r["created_at"])[:16], r["revoked_at"] or "active"] for r in rows]
        emit(table(["name", "created", "state"], lines) if lines else "no HIS clients")

    run(work)


@his_app.command("revoke")
def his_revoke(name: Name) -> None:
    """The client's token stops working at once."""

    async def work(s: Services) -> None:
        await revoke_client(s.uows, s.clock, name)
        emit(f"{name} revoked")

    run(work)


def _private_or_tls(url: str) -> bool:
    """https, or http to this machine (a tunnel, a test)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    return scheme.lower() == "https" or host in ("127.0.0.1", "localhost", "::1")


@his_app.command("sync")
def his_sync(
    from_url: Annotated[
        str, typer.Option("--from", help="The HIS's FHIR base URL, e.g. https://his/fhir")
    ],
    token: Annotated[
        str | None,
        typer.Option(help="Its bearer token (or GUAHAO_HIS_TOKEN, which others cannot see)."),
    ] = None,
    hospital: Annotated[
        str | None, typer.Option(help="Hospital code for schedules that do not name one.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Doctors and sessions from the HIS; existing sessions and bookings are left alone."""
    bearer = token or os.environ.get("GUAHAO_HIS_TOKEN")
    if bearer and not _private_or_tls(from_url):
        typer.echo("warning: the token goes unencrypted (http) to another host", err=True)

    async def work(s: Services) -> None:
        try:
            report = await sync(
                s.uows, s.clock, from_url, bearer, COMMAND_LINE, default_hospital=hospital
            )
        except SyncFailed as error:
            fail("his_unreachable", str(error))
        if as_json:
            emit_json(asdict(report))
            return
        emit(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in asdict(report).items()))

    run(work, operation="his_sync")
