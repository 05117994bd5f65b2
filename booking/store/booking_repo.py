"""The hot path of booking in as few statements as each database allows.

A booking reads its whole context in one statement (session, hospital, department, free
places, the patient's bans and recent bookings; on PostgreSQL it also takes the patient's row
and holds the session shared), decides in Python, then takes its place: on PostgreSQL one
statement claims the place, inserts the appointment and writes the log; on SQLite, whose
writers are already serialised, three short ones do. The statements are built once.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments import AppointmentStatus, QuotaUse
from booking.catalogue import Department, Hospital, Part
from booking.errors import BookingNumberTaken, SlotFull
from booking.patients import BlacklistEntry, BlacklistSource
from booking.ports import BookingContext, ClaimedPlace, TakenPlace
from booking.schedule import ClinicSession, PlaceStatus, SessionStatus
from booking.store.catalogue_repo import hospital_of
from booking.store.hints import SoldOutHints
from booking.store.tables import (
    AppointmentRow,
    BookingLogRow,
    ClinicSessionRow,
    HospitalRow,
    PlaceRow,
    UtcDateTime,
)

_CONTEXT = """
{with_patient}
SELECT s.id, s.visit_date, s.part, s.starts_at, s.ends_at, s.capacity, s.status,
       s.stop_reason, s.clinic_type, s.registration_fee_fen, s.consultation_fee_fen,
       h.id AS h_id, h.code AS h_code, h.name_zh AS h_zh, h.name_en AS h_en, h.timezone,
       h.aliases AS h_aliases, h.policy, h.part_hours,
       d.id AS d_id, d.code AS d_code, d.name_zh AS d_zh, d.name_en AS d_en,
       d.aliases AS d_aliases, d.bookable, doc.work_no,
       (SELECT count(*) FROM places p
         WHERE p.session_id = s.id AND p.status = 'free' AND p.starts_at > :after) AS free,
       {patient_hash} AS id_hash,
       (SELECT {agg}({array}(b.source, b.reason, b.starts_on, b.until)) FROM blacklist b
         WHERE b.id_hash = {patient_hash}) AS bans,
       (SELECT {agg}({array}(a.visit_date, ad.code, a.session_id, a.id))
          FROM appointments a JOIN departments ad ON ad.id = a.department_id
         WHERE a.patient_id = :patient_id AND a.visit_date >= :first
           AND a.visit_date <= :last AND a.status <> 'cancelled') AS uses
FROM clinic_sessions s
JOIN hospitals h ON h.id = s.hospital_id
JOIN departments d ON d.id = s.department_id
JOIN doctors doc ON doc.id = s.doctor_id
WHERE s.id = :session_id
{lock}
"""

_CONTEXT_TYPES: dict[str, Any] = {
    "visit_date": Date(),
    "starts_at": UtcDateTime(),
    "ends_at": UtcDateTime(),
}


def _context_statement(postgres: bool) -> Any:
    sql = _CONTEXT.format(
        # On PostgreSQL every booking of one patient writes the patient's row first, so they
        # queue up there and each sees the bookings of the one before when checking quotas.
        with_patient=(
            "WITH pat AS (UPDATE patients SET version = version + 1"
            " WHERE id = :patient_id RETURNING id_hash)"
            if postgres
            else ""
        ),
        patient_hash=(
            "(SELECT id_hash FROM pat)"
            if postgres
            else "(SELECT id_hash FROM patients WHERE id = :patient_id)"
        ),
        agg="json_agg" if postgres else "json_group_array",
        array="json_build_array" if postgres else "json_array",
        # A stop (停诊) takes the session row alone: no booking slips in between the stop
        # and the cancellation of the session's bookings.
        lock="FOR SHARE OF s" if postgres else "",
    )
    return (
        text(sql)
        .bindparams(
            bindparam("after", type_=UtcDateTime()),
            bindparam("first", type_=Date()),
            bindparam("last", type_=Date()),
            bindparam("patient_id", type_=Integer()),
            bindparam("session_id", type_=Integer()),
        )
        .columns(**_CONTEXT_TYPES)
    )


_PG_TAKE = """
WITH claimed AS (
    UPDATE places SET status = 'busy'
     WHERE id = (SELECT id FROM places
                  WHERE session_id = :session_id AND status = 'free' AND starts_at > :after
                        {which}
                  ORDER BY queue_no LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, queue_no, starts_at, ends_at
), booked AS (
    INSERT INTO appointments (booking_no, patient_id, account_id, channel, session_id,
        department_id, visit_date, queue_no, status, registration_fee_fen,
        consultation_fee_fen, created_at, updated_at, refund_due)
    SELECT :booking_no, :patient_id, :account_id, :channel, s.id, s.department_id,
           s.visit_date, c.queue_no, 'booked', s.registration_fee_fen,
           s.consultation_fee_fen, :now, :now, false
      FROM claimed c JOIN clinic_sessions s ON s.id = :session_id
    ON CONFLICT (booking_no) DO NOTHING
    RETURNING id, queue_no
), logged AS (
    INSERT INTO booking_log (at, event, booking_no, detail)
    SELECT :now, 'booked', :booking_no,
           json_build_object('session_id', :session_id, 'queue_no', b.queue_no,
                             'channel', :channel)
      FROM booked b
    RETURNING id
)
SELECT c.id, c.queue_no, c.starts_at, c.ends_at, (SELECT id FROM booked) AS appointment_id,
       (SELECT count(*) FROM logged) AS logged
  FROM claimed c
"""


def _pg_take_statement(by_queue_no: bool) -> Any:
    sql = _PG_TAKE.format(which="AND queue_no = :queue_no" if by_queue_no else "")
    params: list[BindParameter[Any]] = [
        bindparam("session_id", type_=Integer()),
        bindparam("after", type_=UtcDateTime()),
        bindparam("booking_no", type_=String()),
        bindparam("patient_id", type_=Integer()),
        bindparam("account_id", type_=Integer()),
        bindparam("channel", type_=String()),
        bindparam("now", type_=UtcDateTime()),
    ]
    if by_queue_no:
        params.append(bindparam("queue_no", type_=Integer()))
    return text(sql).bindparams(*params).columns(starts_at=UtcDateTime(), ends_at=UtcDateTime())


places = cast(Table, PlaceRow.__table__)
_free_place = (
    select(places.c.id)
    .where(
        places.c.session_id == bindparam("claim_session"),
        places.c.status == PlaceStatus.FREE.value,
        places.c.starts_at > bindparam("claim_after", type_=UtcDateTime()),
    )
    .order_by(places.c.queue_no)
    .limit(1)
)


def _sqlite_claim_statement(by_queue_no: bool) -> Any:
    pick = (
        _free_place.where(places.c.queue_no == bindparam("claim_queue_no"))
        if by_queue_no
        else _free_place
    )
    return (
        update(places)
        .where(places.c.id == pick.scalar_subquery())
        .values(status=PlaceStatus.BUSY.value)
        .returning(places.c.id, places.c.queue_no, places.c.starts_at, places.c.ends_at)
    )


sessions_t = cast(Table, ClinicSessionRow.__table__)
appointments_t = cast(Table, AppointmentRow.__table__)
_SQLITE_INSERT = (
    sqlite_insert(appointments_t)
    .values(
        department_id=select(sessions_t.c.department_id)
        .where(sessions_t.c.id == bindparam("for_session"))
        .scalar_subquery(),
        status=AppointmentStatus.BOOKED.value,
        refund_due=False,
    )
    .on_conflict_do_nothing(index_elements=["booking_no"])
    .returning(appointments_t.c.id)
)
_LOG_INSERT = insert(cast(Table, BookingLogRow.__table__))
_STATEMENTS = {
    postgres: (_context_statement(postgres), _pg_take_statement(False), _pg_take_statement(True))
    for postgres in (True, False)
}
_SQLITE_CLAIM = (_sqlite_claim_statement(False), _sqlite_claim_statement(True))


def _raw(value: Any) -> str:
    """JSON as stored: text (it is the cache key), whatever the driver returns."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


@functools.lru_cache(maxsize=256)
def _hospital(
    hospital_id: int,
    code: str,
    name_zh: str,
    name_en: str,
    timezone: str,
    aliases: str,
    policy: str,
    part_hours: str,
) -> Hospital:
    # Cached on the stored values themselves, so an edited hospital is read afresh.
    return hospital_of(
        HospitalRow(
            id=hospital_id,
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            timezone=timezone,
            aliases=json.loads(aliases),
            policy=json.loads(policy),
            part_hours=json.loads(part_hours),
        )
    )


@functools.lru_cache(maxsize=1024)
def _department(
    department_id: int,
    hospital_code: str,
    code: str,
    name_zh: str,
    name_en: str,
    aliases: str,
    bookable: bool,
) -> Department:
    return Department(
        id=department_id,
        hospital_code=hospital_code,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        aliases=tuple(json.loads(aliases)),
        bookable=bookable,
    )


def _context_of(row: Any) -> BookingContext:
    hospital = _hospital(
        row.h_id,
        row.h_code,
        row.h_zh,
        row.h_en,
        row.timezone,
        _raw(row.h_aliases),
        _raw(row.policy),
        _raw(row.part_hours),
    )
    department = _department(
        row.d_id,
        row.h_code,
        row.d_code,
        row.d_zh,
        row.d_en,
        _raw(row.d_aliases),
        bool(row.bookable),
    )
    session = ClinicSession(
        id=row.id,
        hospital_code=row.h_code,
        department_code=row.d_code,
        doctor_work_no=row.work_no,
        visit_date=row.visit_date,
        part=Part(row.part),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        status=SessionStatus(row.status),
        registration_fee_fen=row.registration_fee_fen,
        consultation_fee_fen=row.consultation_fee_fen,
        clinic_type=row.clinic_type,
        stop_reason=row.stop_reason,
    )
    bans = [
        BlacklistEntry(
            id_hash=row.id_hash,
            source=BlacklistSource(source),
            reason=reason,
            starts_on=date.fromisoformat(starts),
            until=date.fromisoformat(until) if until else None,
        )
        for source, reason, starts, until in _json_list(row.bans)
    ]
    uses = [
        QuotaUse(date.fromisoformat(day), code, session_id, appointment_id)
        for day, code, session_id, appointment_id in _json_list(row.uses)
    ]
    return BookingContext(
        session=session,
        hospital=hospital,
        department=department,
        free=int(row.free),
        patient_found=row.id_hash is not None,
        bans=bans,
        uses=uses,
    )


class SqlBookings:
    def __init__(self, session: AsyncSession, *, postgres: bool, hints: SoldOutHints) -> None:
        self.s = session
        self.postgres = postgres
        self.hints = hints

    async def context(
        self, session_id: int, patient_id: int, after: datetime, horizon: tuple[date, date]
    ) -> BookingContext | None:
        if self.hints.is_sold_out(session_id):
            raise SlotFull("this session is fully booked", session_id=session_id)
        statement = _STATEMENTS[self.postgres][0]
        connection = await self.s.connection()
        row = (
            await connection.execute(
                statement,
                {
                    "session_id": session_id,
                    "patient_id": patient_id,
                    "after": after,
                    "first": horizon[0],
                    "last": horizon[1],
                },
            )
        ).first()
        if row is None:
            return None
        context = _context_of(row)
        if context.free == 0:
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
        if self.postgres:
            taken = await self._take_postgres(
                session, patient_id, account_id, channel, after, queue_no, booking_no, now
            )
        else:
            taken = await self._take_sqlite(
                session, patient_id, account_id, channel, after, queue_no, booking_no, now
            )
        if taken is None and queue_no is None:
            self.hints.mark(session.id)
        return taken

    async def _take_postgres(
        self,
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
        }
        if queue_no is not None:
            params["queue_no"] = queue_no
        statement = _STATEMENTS[True][2 if queue_no is not None else 1]
        connection = await self.s.connection()
        row = (await connection.execute(statement, params)).first()
        if row is None:
            return None
        if row.appointment_id is None:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        return TakenPlace(
            row.appointment_id, ClaimedPlace(row.id, row.queue_no, row.starts_at, row.ends_at)
        )

    async def _take_sqlite(
        self,
        session: ClinicSession,
        patient_id: int,
        account_id: int | None,
        channel: str,
        after: datetime,
        queue_no: int | None,
        booking_no: str,
        now: datetime,
    ) -> TakenPlace | None:
        claim_params: dict[str, Any] = {"claim_session": session.id, "claim_after": after}
        if queue_no is not None:
            claim_params["claim_queue_no"] = queue_no
        connection = await self.s.connection()
        claimed = (
            await connection.execute(_SQLITE_CLAIM[queue_no is not None], claim_params)
        ).first()
        if claimed is None:
            return None
        place = ClaimedPlace(claimed[0], claimed[1], claimed[2], claimed[3])
        appointment_id = await connection.scalar(
            _SQLITE_INSERT,
            {
                "for_session": session.id,
                "session_id": session.id,
                "booking_no": booking_no,
                "patient_id": patient_id,
                "account_id": account_id,
                "channel": channel,
                "visit_date": session.visit_date,
                "queue_no": place.queue_no,
                "registration_fee_fen": session.registration_fee_fen,
                "consultation_fee_fen": session.consultation_fee_fen,
                "created_at": now,
                "updated_at": now,
            },
        )
        if appointment_id is None:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        await connection.execute(
            _LOG_INSERT,
            {
                "at": now,
                "event": "booked",
                "booking_no": booking_no,
                "detail": {
                    "session_id": session.id,
                    "queue_no": place.queue_no,
                    "channel": channel,
                },
            },
        )
        return TakenPlace(appointment_id, place)
