"""``guahao blacklist …``: sync the hospital's blacklist from a file or from its server.

    guahao blacklist import list.xlsx          # CSV or XLSX; header: see booking.files.blacklist
    guahao blacklist import --confirm-removal list.xlsx   # even if it lifts many bans
    guahao blacklist pull                      # from GUAHAO_BLACKLIST_URL
    guahao blacklist pull https://his.example/blacklist.csv

A copy with bad rows, or a server answer that is no list, changes nothing: the command says
which rows are wrong and why, and exits 1. So does a file that would lift more than
GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE of the bans (a header alone, a cut-off export), unless
--confirm-removal says it is meant. Every sync is kept as a report (seen at
/admin/blacklist) and audited as done from the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backoffice.blacklist_pages import failure_text, problem_text
from booking.files.blacklist import MAX_ROWS, read_list
from booking.patients.blacklist import pull, sync_file
from booking.patients.model import ListFile, SyncOrigin, SyncReport, SyncStatus
from booking.staff.audit import COMMAND_LINE
from bot.blacklist_pull import http_list
from bot.cli.common import Json, fail, run
from bot.cli.output import emit, emit_json
from bot.runtime.services import Services

blacklist_app = typer.Typer(help="The hospital's blacklist (黑名单).", no_args_is_help=True)
MAX_FILE = 8 * 1024 * 1024


def _report_dict(r: SyncReport) -> dict[str, object]:
    return {
        **r.counts(),
        "id": r.id,
        "at": r.at.isoformat(),
        "problems": [
            {"row": p.row, "column": p.column, "problem": p.problem, "other_row": p.other_row}
            for p in r.problems
        ],
    }


def _show(report: SyncReport, as_json: bool) -> None:
    if as_json:
        emit_json(_report_dict(report))
    else:
        emit(
            f"{report.status.value}: {report.rows} rows, {report.added} added, "
            f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
            f"{report.rejected} rejected"
        )
        for p in report.problems:
            emit(f"  {problem_text(p)}")
    if report.status is SyncStatus.HELD:
        fail(
            "removal_unconfirmed",
            f"this list would remove {report.removed} of the hospital's "
            f"{report.removed + report.updated + report.unchanged} entries: nothing was "
            "changed; if it is the whole list, run again with --confirm-removal",
        )
    if report.status is SyncStatus.REJECTED:
        fail("list_rejected", f"{report.rejected} rows are wrong: nothing was changed")
    if report.status is SyncStatus.FAILED:
        fail("list_failed", f"{failure_text(report.failure or '')}: nothing was changed")


@blacklist_app.command("import")
def import_list(
    file: Annotated[Path, typer.Argument(help="The hospital's list: a .csv or .xlsx file.")],
    confirm_removal: Annotated[
        bool,
        typer.Option(
            "--confirm-removal",
            help="Apply it even if it lifts more than GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE "
            "of the bans (or all of them).",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Make this file the hospital's blacklist (no-show bans are kept)."""
    try:
        if file.stat().st_size > MAX_FILE:
            fail("too_large", f"{file} is larger than {MAX_FILE // (1024 * 1024)} MB")
        data = file.read_bytes()
    except OSError as error:
        fail("unreadable", f"{file}: {error.strerror or type(error).__name__}")

    async def work(s: Services) -> SyncReport:
        return await sync_file(
            s.uows, s.clock, s.protector, ListFile(data), origin=SyncOrigin.IMPORT,
            read=read_list, actor=COMMAND_LINE, removal_share=s.blacklist_removal_share,
            removals_confirmed=MAX_ROWS if confirm_removal else 0,
        )  # fmt: skip

    _show(run(work), as_json)


@blacklist_app.command("pull")
def pull_list(
    url: Annotated[
        str | None, typer.Argument(help="Where to fetch it; default: GUAHAO_BLACKLIST_URL.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Fetch the hospital's blacklist from its server and sync it now."""
    if url is not None and not url.startswith(("http://", "https://")):
        fail("invalid_url", "the URL must start with http:// or https://")

    async def work(s: Services) -> SyncReport:
        # The configured token is for the configured server only, not for any URL given.
        fetch = http_list(url) if url is not None else s.blacklist_pull
        if fetch is None:
            fail("no_url", "give a URL or set GUAHAO_BLACKLIST_URL")
        return await pull(
            s.uows, s.clock, s.protector, fetch, read=read_list, actor=COMMAND_LINE,
            removal_share=s.blacklist_removal_share,
        )  # fmt: skip

    _show(run(work), as_json)
