"""The statistics' SQL: GROUP BY over appointments (with their sessions, departments, doctors
and clinic types) and over the audit log. Counting and summing happen in the database; the
fees are integers in fen, so the sums are exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause

from booking.reports.statistics import (
    EXPIRED,
    HOSPITAL_STOP,
    STOPPED,
    Basis,
    Grouping,
    HospitalChoice,
    Period,
    Refund,
    Tally,
    Workload,
)
from booking.store.tables.appointments import AppointmentRow
from booking.store.tables.catalogue import (
    ClinicSessionRow,
    ClinicTypeRow,
    DepartmentRow,
    DoctorRow,
    HospitalRow,
)
from booking.store.tables.logs import AuditRow

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
# Inline, not bound parameters: PostgreSQL needs the same expression in SELECT and GROUP BY.
_CANCELLED: ColumnClause[str] = literal_column("'cancelled'")
_EXPIRED: ColumnClause[str] = literal_column(f"'{EXPIRED}'")
_HOSPITAL_STOP: ColumnClause[str] = literal_column(f"'{HOSPITAL_STOP}'")
_STOPPED: ColumnClause[str] = literal_column(f"'{STOPPED}'")
# A booking the desk closed unattended (booking.appointments.desk.close_expired) is stored as
# cancelled, but nobody returned it and nothing is refunded: the reports count it apart, fees kept.
# One the hospital stopped (停诊, booking.appointments.changes.stop_session) is refunded, but no
# patient chose it: counted apart too, out of the cancellation rate.
_STATUS = case(
    (and_(AppointmentRow.status == _CANCELLED, AppointmentRow.cancel_reason == _EXPIRED), _EXPIRED),
    (
        and_(AppointmentRow.status == _CANCELLED, AppointmentRow.cancel_reason == _HOSPITAL_STOP),
        _STOPPED,
    ),
    else_=AppointmentRow.status,
)


def _in_period(query: Query, period: Period, zone: ZoneInfo) -> Query:
    """Bookings (joined to their sessions) of the period, at its hospital."""
    query = query.join(HospitalRow, HospitalRow.id == ClinicSessionRow.hospital_id)
    if period.basis is Basis.BOOKED:
        start, end = period.between(zone)
        query = query.where(AppointmentRow.created_at >= start, AppointmentRow.created_at < end)
    else:
        query = query.where(AppointmentRow.visit_date.between(period.first, period.last))
    if period.hospital_code is not None:
        query = query.where(HospitalRow.code == period.hospital_code)
    return query


def _named(period: Period, name: Any) -> Any:
    """Over every hospital, a department or doctor is named with its hospital's code: two
    hospitals may each have a 儿科, and work numbers are unique within a hospital only."""
    return name if period.hospital_code else HospitalRow.code + " " + name


class SqlReports:
    def __init__(self, tx: AsyncSession, *, postgres: bool) -> None:
        self.tx = tx
        self.postgres = postgres

    def _booked_on(self, period: Period, zone: ZoneInfo) -> Any:
        """The day, in the hospital's calendar, a booking was made."""
        if self.postgres:
            # The zone inline, not a parameter: the same expression must be in GROUP BY.
            local = func.timezone(
                literal(zone.key, literal_execute=True), AppointmentRow.created_at
            )
            return cast(local, Date)
        # SQLite keeps UTC without a zone and knows no zones: the offset on the period's first
        # day, exact for China's (no summer time since 1991).
        start, _ = period.between(zone)
        offset = start.utcoffset()
        seconds = int(offset.total_seconds()) if offset else 0
        return func.date(AppointmentRow.created_at, f"{seconds:+d} seconds")

    async def one_snapshot(self) -> None:
        """The reports of a page add up only if every query sees the same moment: PostgreSQL's
        default (READ COMMITTED) gives each query its own. First in the transaction."""
        if self.postgres:
            await self.tx.execute(
                text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            )

    async def hospitals(self) -> list[HospitalChoice]:
        rows = await self.tx.execute(
            select(HospitalRow.code, HospitalRow.name_zh, HospitalRow.timezone).order_by(
                HospitalRow.code
            )
        )
        return [HospitalChoice(code, name, zone) for code, name, zone in rows]

    async def tallies(self, period: Period, zone: ZoneInfo, by: Grouping) -> list[Tally]:
        key: Any
        label: Any
        query = select().select_from(AppointmentRow)
        query = query.join(ClinicSessionRow, ClinicSessionRow.id == AppointmentRow.session_id)
        if by is Grouping.CLINIC_TYPE:
            key = ClinicSessionRow.clinic_type
            # Each hospital names its own clinic types; the same code, the same row here.
            label = func.coalesce(func.min(ClinicTypeRow.name_zh), ClinicSessionRow.clinic_type)
            query = query.outerjoin(
                ClinicTypeRow,
                and_(
                    ClinicTypeRow.hospital_id == ClinicSessionRow.hospital_id,
                    ClinicTypeRow.code == ClinicSessionRow.clinic_type,
                ),
            )
            groups = [key]
        elif by is Grouping.DEPARTMENT:
            query = query.join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
            key, label = DepartmentRow.id, _named(period, DepartmentRow.name_zh)
            groups = [key, HospitalRow.code, DepartmentRow.name_zh]
        elif by is Grouping.DOCTOR:
            query = query.join(DoctorRow, DoctorRow.id == ClinicSessionRow.doctor_id)
            key = DoctorRow.id
            label = _named(period, DoctorRow.name + " (" + DoctorRow.work_no + ")")
            groups = [key, HospitalRow.code, DoctorRow.name, DoctorRow.work_no]
        elif by is Grouping.CHANNEL:
            key = label = AppointmentRow.channel
            groups = [key]
        else:  # by day: the day the period counts by
            booked = period.basis is Basis.BOOKED
            key = label = self._booked_on(period, zone) if booked else AppointmentRow.visit_date
            groups = [key]
        query = _in_period(query, period, zone).add_columns(
            key,
            label,
            _STATUS,
            func.count(AppointmentRow.id),
            func.coalesce(func.sum(AppointmentRow.registration_fee_fen), 0),
            func.coalesce(func.sum(AppointmentRow.consultation_fee_fen), 0),
        )
        rows = await self.tx.execute(query.group_by(*groups, _STATUS))
        return [
            Tally(
                key=k.isoformat() if isinstance(k, date) else str(k),
                label=lb.isoformat() if isinstance(lb, date) else str(lb),
                status=status,
                bookings=int(n),
                registration_fen=int(reg),
                consultation_fen=int(cons),
            )
            for k, lb, status, n, reg, cons in rows
        ]

    async def refunds(self, period: Period, zone: ZoneInfo, limit: int) -> list[Refund]:
        query = (
            select(
                AppointmentRow.booking_no,
                AppointmentRow.cancelled_at,
                AppointmentRow.visit_date,
                DepartmentRow.name_zh,
                DoctorRow.name,
                AppointmentRow.cancel_reason,
                AppointmentRow.refund_due,
                AppointmentRow.registration_fee_fen,
                AppointmentRow.consultation_fee_fen,
            )
            .join(ClinicSessionRow, ClinicSessionRow.id == AppointmentRow.session_id)
            .join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
            .join(DoctorRow, DoctorRow.id == ClinicSessionRow.doctor_id)
            .where(AppointmentRow.status == "cancelled")
            # Closed unattended: not returned, nothing owed; hundreds a day would bury refunds.
            .where(AppointmentRow.cancel_reason.is_distinct_from(EXPIRED))
        )
        query = _in_period(query, period, zone)
        rows = await self.tx.execute(
            query.order_by(AppointmentRow.cancelled_at, AppointmentRow.id).limit(limit)
        )
        return [Refund(*row) for row in rows]

    async def workload(self, start: datetime, end: datetime) -> list[Workload]:
        count = func.count(AuditRow.id)
        rows = await self.tx.execute(
            select(AuditRow.username, AuditRow.action, count)
            .where(AuditRow.staff_id.is_not(None), AuditRow.at >= start, AuditRow.at < end)
            .group_by(AuditRow.staff_id, AuditRow.username, AuditRow.action)
            .order_by(AuditRow.username, AuditRow.action)
        )
        return [Workload(username or "", action, int(n)) for username, action, n in rows]
