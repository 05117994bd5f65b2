"""How every ``guahao`` command runs: settings, one event loop per command, the services, and
every refusal turned into one line on stderr with a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from booking.catalogue import search
from booking.catalogue.model import Catalogue
from booking.errors import BookingError, InvalidInput
from booking.staff.retention import record_operation_error
from bot.runtime.services import Services, build, migrate
from bot.settings import Settings

T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
HospitalOpt = Annotated[str | None, typer.Option(help="Hospital code, name or alias.")]
DepartmentOpt = Annotated[str | None, typer.Option(help="Department code, name or alias.")]
# "Today" for commands that take no hospital: the demo hospitals' zone.
DEFAULT_TZ = "Asia/Shanghai"
log = logging.getLogger("bot.cli")


# Refusals found by the command line itself (here and in bot.cli.lookup) are BookingErrors, so
# that they are reported and logged exactly like the domain's own.
class InvalidDate(InvalidInput):
    reason = "invalid_date"


def fail(reason: str, message: str) -> NoReturn:
    typer.echo(f"error: {reason}: {message}", err=True)
    raise typer.Exit(1)


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate(
            f"{option} {text!r} is not a date like 2026-11-25", option=option
        ) from None


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(part) for part in e["loc"])
            message = str(e["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        fail("settings", "; ".join(problems))


def configure_logging(settings: Settings) -> None:
    # Libraries stay quiet (Alembic would otherwise narrate every upgrade); our own modules
    # log at the configured level. Nothing here ever logs an ID or phone number.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bot", "booking", "channels"):
        logging.getLogger(name).setLevel(settings.log_level)
    # httpx logs each request's URL at INFO, and a Bot API URL holds the bot's token; the
    # Telegram library logs whole updates (what patients type) at DEBUG.
    for name in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(
    work: Callable[[Services], Awaitable[T]],
    *,
    operation: str | None = None,
    migrate_first: bool = False,
) -> T:
    """Run one command: ``work`` gets the services inside a fresh event loop. With
    ``operation``, a refusal is also written to the operation-error log (reason only)."""
    settings = load_settings()
    configure_logging(settings)
    try:
        if migrate_first:
            migrate(settings)
        return asyncio.run(_run(settings, work, operation))
    except BookingError as exc:
        fail(exc.reason, exc.message)
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except BrokenPipeError:
        # The reader went away (`guahao … | head`): nothing left to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted: stopped by the user", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        # Tracebacks only on request: messages of storage errors may quote what was stored.
        log.debug("unexpected error", exc_info=True)
        fail("internal_error", describe_unexpected(exc))


def describe_unexpected(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = (lines[0] if lines else "")[:300]
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    lowered = first.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        text += " (has the database been set up? run `guahao db upgrade`)"
    return text


async def _run(
    settings: Settings, work: Callable[[Services], Awaitable[T]], operation: str | None
) -> T:
    services = build(settings)
    try:
        try:
            return await work(services)
        except BookingError as exc:
            if operation is not None:
                await _record_refusal(services, operation, exc.reason)
            raise
    finally:
        await services.close()


async def _record_refusal(services: Services, operation: str, reason: str) -> None:
    try:
        await record_operation_error(services.uows, services.clock, operation, reason, {})
    except Exception:
        # The refusal itself is what the user must see; a log that cannot be written (say,
        # the database was never set up) must not hide it.
        log.debug("could not record the refused %s operation", operation, exc_info=True)


async def load_catalogue(services: Services) -> Catalogue:
    return await search.load_catalogue(services.uows)
