"""The ``guahao`` command line: the command tree, and the database, the demo hospital,
doctors, sessions and logs. Each other command group has its module here: the duty roster in
``bot.cli.roster``, patients and bookings in ``bot.cli.bookings``, back-office accounts in
``bot.cli.staff``, printing in ``bot.cli.output``; how every command runs in ``bot.cli.common``.

Every command runs in its own event loop and prints exactly one ``error: reason: message``
line on stderr (exit code 1) when it is refused; ``--json`` prints JSON for scripts.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from booking.appointments.changes import stop_session
from booking.catalogue.model import Part
from booking.catalogue.search import search_doctors
from booking.catalogue.search import search_sessions as find_sessions
from booking.roster.duty import generate_sessions, import_catalogue
from booking.staff.audit import COMMAND_LINE
from booking.staff.retention import LOG_DAYS, Retention, purge_old_records
from bot.cli import blacklist, bookings, chat, demo, his, roster, staff
from bot.cli.common import (
    DepartmentOpt,
    HospitalOpt,
    InvalidDate,
    Json,
    configure_logging,
    fail,
    load_catalogue,
    load_settings,
    parse_day,
    run,
)
from bot.cli.lookup import check_places
from bot.cli.nlu import nlu_app
from bot.cli.output import doctor_dict, emit, emit_json, offer_dict, offer_row, table, weekly_text
from bot.runtime.catalogue import read_catalogue
from bot.runtime.services import Services, migrate

app = typer.Typer(
    name="guahao",
    help="Hospital outpatient booking (预约挂号): schedule, patients and bookings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo hospital.", no_args_is_help=True)
doctors_app = typer.Typer(help="Doctors.", no_args_is_help=True)
sessions_app = typer.Typer(help="Clinic sessions (出诊).", no_args_is_help=True)
logs_app = typer.Typer(help="The booking and error logs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(doctors_app, name="doctors")
app.add_typer(sessions_app, name="sessions")
app.add_typer(bookings.patients_app, name="patients")
app.add_typer(bookings.bookings_app, name="bookings")
app.add_typer(logs_app, name="logs")
app.add_typer(nlu_app, name="nlu")
app.add_typer(staff.staff_app, name="staff")
app.add_typer(his.his_app, name="his")
app.add_typer(blacklist.blacklist_app, name="blacklist")
app.command("roster")(roster.roster)
app.command("book")(bookings.book)
app.command("cancel")(bookings.cancel)
app.command("transfer")(bookings.transfer)
app.command("chat")(chat.chat)
demo_app.command("fill")(demo.fill)

SpecialtyOpt = Annotated[str | None, typer.Option(help="A specialty, e.g. 高血压 (fuzzy).")]


def main() -> None:
    app()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or update the database schema (Alembic migrations)."""

    async def work(s: Services) -> None:
        emit(f"database schema is up to date ({s.db.dialect})")

    run(work, migrate_first=True)


@demo_app.command("load")
def demo_load(
    file: Annotated[
        Path | None, typer.Option(help="Catalogue YAML (default: GUAHAO_DEMO_FILE).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Load the demo hospital and generate its sessions; safe to run again."""

    async def work(s: Services) -> None:
        path = file or s.settings.demo_file
        report = await import_catalogue(s.uows, read_catalogue(path))
        created = await generate_sessions(s.uows, s.clock)
        counts = {
            "hospitals": report.hospitals,
            "departments": report.departments,
            "doctors": report.doctors,
            "templates": report.templates,
            "sessions_created": created,
        }
        if as_json:
            emit_json({"file": str(path), **counts})
            return
        emit(
            f"loaded {path.name}: {report.hospitals} hospitals, {report.departments} departments, "
            f"{report.doctors} doctors, {report.templates} weekly duties; "
            f"{created} new sessions"
        )

    run(work, migrate_first=True)


@doctors_app.command("search")
def doctors_search(
    name: Annotated[str | None, typer.Option(help="Doctor's name or work number (工号).")] = None,
    department: DepartmentOpt = None,
    specialty: SpecialtyOpt = None,
    hospital: HospitalOpt = None,
    as_json: Json = False,
) -> None:
    """Find doctors by name or work number, department, specialty and hospital."""

    async def work(s: Services) -> None:
        catalogue = await load_catalogue(s)
        check_places(catalogue, hospital, department)
        found = search_doctors(
            catalogue,
            name_or_work_no=name,
            department=department,
            specialty=specialty,
            hospital=hospital,
        )
        if as_json:
            emit_json([doctor_dict(d, catalogue) for d in found])
            return
        rows = []
        for d in found:
            info = doctor_dict(d, catalogue)
            rows.append(
                [
                    d.work_no,
                    d.name,
                    d.title,
                    f"{d.hospital_code} {info['department_name_zh']}",
                    info["clinic_type_name_zh"],
                    f"{info['registration_fee']}+{info['consultation_fee']}",
                    weekly_text(d),
                    "、".join(d.specialties),
                ]
            )
        headers = ["work no", "name", "title", "department", "clinic", "fees", "weekly", "spec."]
        emit(table(headers, rows) if rows else "no doctor found")

    run(work)


@sessions_app.command("list")
def sessions_list(
    doctor: Annotated[str | None, typer.Option(help="Doctor's name or work number.")] = None,
    department: DepartmentOpt = None,
    specialty: SpecialtyOpt = None,
    hospital: HospitalOpt = None,
    date_: Annotated[str | None, typer.Option("--date", help="One day, YYYY-MM-DD.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day.")] = None,
    part: Annotated[Part | None, typer.Option(help="Part of the day.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also stopped and past sessions.")
    ] = False,
    as_json: Json = False,
) -> None:
    """List clinic sessions with their free places and fees."""

    async def work(s: Services) -> None:
        day = parse_day(date_, "--date")
        first = parse_day(date_from, "--from") or day
        last = parse_day(date_to, "--to") or day
        if day and (date_from or date_to):
            raise InvalidDate("give either --date or --from/--to", option="--date")
        catalogue = await load_catalogue(s)
        check_places(catalogue, hospital, department)
        offers = await find_sessions(
            s.uows,
            s.clock,
            doctor=doctor,
            department=department,
            specialty=specialty,
            hospital=hospital,
            date_from=first,
            date_to=last,
            part=part,
            include_closed=show_all,
        )
        now = s.clock.now()
        if as_json:
            emit_json([offer_dict(o, now) for o in offers])
            return
        headers = [
            "id",
            "date",
            "part",
            "time",
            "doctor",
            "title",
            "clinic",
            "fees",
            "free",
            "state",
        ]
        rows = [offer_row(o, now) for o in offers]
        emit(table(headers, rows) if rows else "no sessions found")

    run(work)


@sessions_app.command("generate")
def sessions_generate(
    extra_days: Annotated[
        int, typer.Option(min=0, max=365, help="Days beyond the booking window.")
    ] = 0,
) -> None:
    """Create the sessions of the duty templates for the booking window (and more)."""

    async def work(s: Services) -> None:
        emit(f"{await generate_sessions(s.uows, s.clock, extra_days)} new sessions")

    run(work)


@sessions_app.command("stop")
def sessions_stop(
    session_id: Annotated[int, typer.Argument(help="The session's id.")],
    reason: Annotated[str, typer.Option(help="Told to the patients, e.g. 医生临时出差.")],
    as_json: Json = False,
) -> None:
    """停诊: stop a session; every booking on it is cancelled and marked for refund."""

    async def work(s: Services) -> None:
        cancelled = await stop_session(s.uows, s.clock, session_id, reason, by=COMMAND_LINE)
        numbers = [a.booking_no for a in cancelled]
        if as_json:
            emit_json(
                {
                    "session_id": session_id,
                    "status": "stopped",
                    "cancelled": len(numbers),
                    "cancelled_bookings": numbers,
                }
            )
            return
        emit(
            f"session {session_id} stopped; {len(numbers)} booking(s) cancelled, marked for refund"
        )
        for number in numbers:
            emit(f"  {number}")

    run(work, operation="stop_session")


@logs_app.command("purge")
def logs_purge(
    days: Annotated[
        int | None,
        typer.Option(
            min=LOG_DAYS,
            help="Keep this many days of logs (default GUAHAO_LOG_RETENTION_DAYS, 365).",
        ),
    ] = None,
) -> None:
    """Delete booking and error log entries past their retention (a year), and audit log
    entries past theirs (GUAHAO_AUDIT_RETENTION_DAYS, three years); the purge is audited.
    `guahao serve` does this once a day by itself."""

    async def work(s: Services) -> None:
        kept = s.settings.retention
        if days is not None:
            kept = Retention(days, max(kept.audit_days, days))
        purged = await purge_old_records(s.uows, s.clock, kept, by=COMMAND_LINE)
        emit(
            f"purged {purged.booking_log} booking log and {purged.operation_errors} error log "
            f"entries older than {kept.log_days} days, {purged.audit_log} audit log entries "
            f"older than {kept.audit_days} days"
        )

    run(work)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web chat (http://HOST:PORT/) and its JSON API (/docs) until stopped."""
    import uvicorn

    from bot.app import create_app, server_config

    settings = load_settings()
    configure_logging(settings)
    migrate(settings)
    docs = " (API docs: /docs)" if settings.api_docs_served else ""
    emit(f"web chat on http://{host}:{port}/, back office on /admin{docs}; Ctrl-C stops")
    uvicorn.Server(server_config(create_app(settings), host, port, "warning")).run()


@demo_app.command("forward")
def demo_forward(
    to: Annotated[
        str,
        typer.Option(help="The moment to jump to, with its offset: 2026-11-24T20:00:00+08:00."),
    ],
) -> None:
    """Do now what the background would do at TO: reminders and notices then due are sent
    (a web chat shows them within 15 s), no-shows marked. For trying the demo; refused in
    production."""
    import asyncio

    from bot.runtime.lifecycle import run_round

    settings = load_settings()
    configure_logging(settings)
    if settings.env == "production":
        fail("settings", "the clock is not moved in production")
    try:
        moment = datetime.fromisoformat(to)
    except ValueError:
        fail("input", "--to should look like 2026-11-24T20:00:00+08:00")
    if moment.tzinfo is None:
        fail("input", "--to needs an offset, e.g. 2026-11-24T20:00:00+08:00")
    migrate(settings)
    marked, sent = asyncio.run(run_round(settings.model_copy(update={"fixed_now": moment})))
    emit(f"at {moment.isoformat()}: {sent} notices sent, {marked} bookings marked as no-shows")


@app.command()
def worker() -> None:
    """Send reminders and notices, and look after complaints, without serving chats: run
    one or more beside `guahao serve` (each notice goes out once); Ctrl-C stops."""
    import asyncio

    from bot.runtime.lifecycle import run_worker

    settings = load_settings()
    configure_logging(settings)
    migrate(settings)
    emit("sending reminders and notices; Ctrl-C stops")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
