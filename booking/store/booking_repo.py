"""The hot path of booking in as few statements as each database allows.

A booking reads its whole context in one statement (session, hospital, department, free
places, the patient's bans and recent bookings; on PostgreSQL it also takes the patient's row
and holds the session shared), decides in Python, then takes its place: on PostgreSQL one
statement claims the place, inserts the appointment and writes the log; on SQLite, whose
writers are already serialised, three short ones do. The statements are built once
(booking.store.booking_sql); the rows the drivers give are read in booking.store.booking_context.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.ports import BookingContext, TakenPlace
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession, SessionStatus
from booking.errors import BookingNumberTaken, SlotFull, TryAgain
from booking.store.booking_context import (
    PgRow,
    SqliteRow,
    context_of,
    from_sqlite_time,
    sqlite_time,
)
from booking.store.booking_sql import (
    PG_CONTEXT,
    PG_CONTEXT_PARAMS,
    PG_LOCK_PATIENT,
    PG_TAKE_PARAMS,
    PG_TAKES,
    SQLITE_CLAIMS,
    SQLITE_CONTEXT,
    SQLITE_INSERT,
    SQLITE_LOG,
)
from booking.store.hints import SoldOutHints


class SqlBookings:
    def __init__(
        self, tx: AsyncSession, *, postgres: bool, hints: SoldOutHints, freed: set[int]
    ) -> None:
        self.tx = tx
        self.postgres = postgres
        self.hints = hints
        self.freed = freed

    async def context(
        self, session_id: int, patient_id: int, after: datetime, horizon: tuple[date, date]
    ) -> BookingContext | None:
        # A place freed in this very transaction (a waitlist's hold let go) is not in the hints.
        if session_id not in self.freed and self.hints.is_sold_out(session_id):
            raise SlotFull("this session is fully booked", session_id=session_id)
        params: dict[str, Any] = {
            "session_id": session_id,
            "patient_id": patient_id,
            "after": after,
            "first": horizon[0],
            "last": horizon[1],
        }
        row: Any
        if self.postgres:
            connection = await self.tx.connection()
            params["id_hash"] = await connection.scalar(
                PG_LOCK_PATIENT, {"lock_patient": patient_id}
            )
            args = [params[name] for name, _ in PG_CONTEXT_PARAMS]
            async with _driver_errors():
                found = await (await self._driver()).fetchrow(PG_CONTEXT, *args)
            row = PgRow(found) if found is not None else None
        else:
            params.update(
                after=sqlite_time(after), first=horizon[0].isoformat(), last=horizon[1].isoformat()
            )
            async with _driver_errors():
                rows = await (await self._driver()).execute_fetchall(SQLITE_CONTEXT, params)
            row = SqliteRow(rows[0]) if rows else None
        if row is None:
            return None
        context = context_of(row)
        session = context.session
        # Only a session that could take a booking is "full"; a stopped or ended one must
        # keep being told as such.
        if context.free == 0 and session.status is SessionStatus.OPEN and session.ends_at > after:
            self.hints.mark(session_id)
        return context

    async def take(
        self,
        *,
        session: ClinicSession,
        patient_id: int,
        account_id: int | None,
        channel: str,
        after: datetime,
        queue_no: int | None,
        booking_no: str,
        now: datetime,
    ) -> TakenPlace | None:
        params: dict[str, Any] = {
            "session_id": session.id,
            "after": after,
            "booking_no": booking_no,
            "patient_id": patient_id,
            "account_id": account_id,
            "channel": channel,
            "now": now,
            "queue_no": queue_no,
        }
        take = self._take_postgres if self.postgres else self._take_sqlite
        async with _driver_errors():
            taken = await take(await self._driver(), params)
        if taken is None and queue_no is None:
            self.hints.mark(session.id)
        return taken

    async def _driver(self) -> Any:
        connection = await self.tx.connection()
        return (await connection.get_raw_connection()).driver_connection

    @staticmethod
    async def _take_postgres(driver: Any, params: dict[str, Any]) -> TakenPlace | None:
        by_no = params["queue_no"] is not None
        names = PG_TAKE_PARAMS if by_no else PG_TAKE_PARAMS[:-1]
        row = await driver.fetchrow(PG_TAKES[by_no], *(params[name] for name, _ in names))
        if row is None:
            return None
        if row["appointment_id"] is None:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        place = ClaimedPlace(row["id"], row["queue_no"], row["starts_at"], row["ends_at"])
        return TakenPlace(row["appointment_id"], place)

    @staticmethod
    async def _take_sqlite(driver: Any, params: dict[str, Any]) -> TakenPlace | None:
        params = {
            **params,
            "after": sqlite_time(params["after"]),
            "now": sqlite_time(params["now"]),
        }
        claimed = await driver.execute_fetchall(
            SQLITE_CLAIMS[params["queue_no"] is not None], params
        )
        if not claimed:
            return None
        place_id, queue_no, starts_at, ends_at = claimed[0]
        place = ClaimedPlace(
            place_id, queue_no, from_sqlite_time(starts_at), from_sqlite_time(ends_at)
        )
        params["queue_no"] = queue_no
        inserted = await driver.execute_fetchall(SQLITE_INSERT, params)
        if not inserted:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        await driver.execute_fetchall(SQLITE_LOG, params)
        return TakenPlace(inserted[0][0], place)


@contextlib.asynccontextmanager
async def _driver_errors() -> AsyncIterator[None]:
    """Errors of the drivers used directly, told like those that pass through SQLAlchemy."""
    try:
        yield
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise TryAgain("the booking system is busy, please try again") from exc
