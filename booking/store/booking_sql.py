"""The statements of the booking hot path, built once: the context a booking reads (with, on
PostgreSQL, the patient's row taken first) and the taking of a place, one statement on
PostgreSQL and three on SQLite (booking.store.booking_repo runs them)."""

from __future__ import annotations

import re
from typing import cast

from sqlalchemy import Table, bindparam, update

from booking.store.tables.patients import PatientRow

_CONTEXT = """
SELECT s.id, s.visit_date, s.part, s.starts_at, s.ends_at, s.capacity, s.status,
       s.stop_reason, s.clinic_type, s.registration_fee_fen, s.consultation_fee_fen,
       h.id AS h_id, h.code AS h_code, h.name_zh AS h_zh, h.name_en AS h_en, h.timezone,
       h.aliases AS h_aliases, h.policy, h.part_hours,
       d.id AS d_id, d.code AS d_code, d.name_zh AS d_zh, d.name_en AS d_en,
       d.aliases AS d_aliases, d.bookable, d.min_age, d.max_age, doc.work_no,
       (SELECT birth_date FROM patients WHERE id = :patient_id) AS birth_date,
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


def _positional(sql: str, names: list[tuple[str, str]]) -> str:
    """Named parameters to asyncpg's $n, each with a cast (asyncpg cannot always infer)."""
    for n, (name, kind) in enumerate(names, start=1):
        sql = re.sub(rf":{name}\b", f"${n}::{kind}", sql)
    return sql


PG_CONTEXT_PARAMS = [
    ("session_id", "integer"),
    ("patient_id", "integer"),
    ("after", "timestamptz"),
    ("first", "date"),
    ("last", "date"),
    ("id_hash", "varchar"),
]
PG_CONTEXT = _positional(
    _CONTEXT.format(
        patient_hash=":id_hash",
        agg="json_agg",
        array="json_build_array",
        # A stop (停诊) takes the session row alone: no booking slips in between the stop
        # and the cancellation of the session's bookings.
        lock="FOR SHARE OF s",
    ),
    PG_CONTEXT_PARAMS,
)
# Every booking of one patient takes the patient's row first, in a statement of its own:
# the next statement's snapshot then sees the bookings of whoever held the row before (a
# statement's snapshot is taken when it starts, before any lock it waits for). Sent through
# SQLAlchemy, it also opens the transaction, which the asyncpg adapter defers until then.
_patients = cast(Table, PatientRow.__table__)
PG_LOCK_PATIENT = (
    update(_patients)
    .where(_patients.c.id == bindparam("lock_patient"))
    .values(version=_patients.c.version + 1)
    .returning(_patients.c.id_hash)
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


PG_TAKE_PARAMS = [
    ("session_id", "integer"),
    ("after", "timestamptz"),
    ("booking_no", "varchar"),
    ("patient_id", "integer"),
    ("account_id", "integer"),
    ("channel", "varchar"),
    ("now", "timestamptz"),
    ("queue_no", "integer"),
]
PG_TAKES = tuple(
    _positional(_PG_TAKE.format(which="AND queue_no = :queue_no" if by_no else ""), PG_TAKE_PARAMS)
    for by_no in (False, True)
)

# SQLite runs its hot statements on the aiosqlite connection itself: SQLAlchemy's adapter
# makes about four thread hops per statement, the driver one, and SQLite's writers are
# serialised, so hops are what limits bookings per second.
SQLITE_CONTEXT = _CONTEXT.format(
    patient_hash="(SELECT id_hash FROM patients WHERE id = :patient_id)",
    agg="json_group_array",
    array="json_array",
    lock="",
)
_SQLITE_CLAIM = """
UPDATE places SET status = 'busy'
 WHERE id = (SELECT id FROM places
              WHERE session_id = :session_id AND status = 'free' AND starts_at > :after
                    {which}
              ORDER BY queue_no LIMIT 1)
RETURNING id, queue_no, starts_at, ends_at
"""
SQLITE_CLAIMS = (
    _SQLITE_CLAIM.format(which=""),
    _SQLITE_CLAIM.format(which="AND queue_no = :queue_no"),
)
SQLITE_INSERT = """
INSERT INTO appointments (booking_no, patient_id, account_id, channel, session_id,
    department_id, visit_date, queue_no, status, registration_fee_fen, consultation_fee_fen,
    created_at, updated_at, refund_due)
SELECT :booking_no, :patient_id, :account_id, :channel, s.id, s.department_id, s.visit_date,
       :queue_no, 'booked', s.registration_fee_fen, s.consultation_fee_fen, :now, :now, 0
  FROM clinic_sessions s WHERE s.id = :session_id
ON CONFLICT (booking_no) DO NOTHING
RETURNING id
"""
SQLITE_LOG = """
INSERT INTO booking_log (at, event, booking_no, detail)
VALUES (:now, 'booked', :booking_no,
        json_object('session_id', :session_id, 'queue_no', :queue_no, 'channel', :channel))
"""


# The columns of the context statement, in order (SQLite's driver gives bare tuples).
CONTEXT_COLUMNS = [
    "id",
    "visit_date",
    "part",
    "starts_at",
    "ends_at",
    "capacity",
    "status",
    "stop_reason",
    "clinic_type",
    "registration_fee_fen",
    "consultation_fee_fen",
    "h_id",
    "h_code",
    "h_zh",
    "h_en",
    "timezone",
    "h_aliases",
    "policy",
    "part_hours",
    "d_id",
    "d_code",
    "d_zh",
    "d_en",
    "d_aliases",
    "bookable",
    "min_age",
    "max_age",
    "work_no",
    "birth_date",
    "free",
    "id_hash",
    "bans",
    "uses",
]
