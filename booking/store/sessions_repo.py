"""Clinic sessions and their places. A place is taken by one conditional UPDATE: the database,
not Python, decides who gets the last one."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.catalogue.model import Part
from booking.catalogue.ports import ClaimedPlace, SessionAvailability, SessionFilter
from booking.catalogue.schedule import (
    ClinicSession,
    PlaceStatus,
    PlannedSession,
    SessionStatus,
    place_times,
    session_span,
)
from booking.store.catalogue_repo import hospital_of
from booking.store.tables.catalogue import (
    ClinicSessionRow,
    ClinicTypeRow,
    DepartmentRow,
    DoctorRow,
    HospitalRow,
    PlaceRow,
)
from booking.store.work_nos import same_work_no, work_no_in

CLAIM_RETRIES = 5


Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


def session_query() -> Select[ClinicSessionRow, str, str, str]:
    return (
        select(ClinicSessionRow, HospitalRow.code, DepartmentRow.code, DoctorRow.work_no)
        .join(HospitalRow, HospitalRow.id == ClinicSessionRow.hospital_id)
        .join(DepartmentRow, DepartmentRow.id == ClinicSessionRow.department_id)
        .join(DoctorRow, DoctorRow.id == ClinicSessionRow.doctor_id)
    )


def filtered(query: Q, f: SessionFilter) -> Q:
    """``query`` (over session_query()'s joins) narrowed to the sessions ``f`` asks for."""
    if f.hospital_code:
        query = query.where(HospitalRow.code == f.hospital_code)
    if f.department_code:
        query = query.where(DepartmentRow.code == f.department_code)
    if f.doctor_work_nos is not None:
        query = query.where(work_no_in(DoctorRow.work_no, f.doctor_work_nos))
    if f.date_from:
        query = query.where(ClinicSessionRow.visit_date >= f.date_from)
    if f.date_to:
        query = query.where(ClinicSessionRow.visit_date <= f.date_to)
    if f.part:
        query = query.where(ClinicSessionRow.part == f.part.value)
    if f.open_only:
        query = query.where(ClinicSessionRow.status == SessionStatus.OPEN.value)
    return query


def session_of(row: Any) -> ClinicSession:
    s: ClinicSessionRow = row[0]
    return ClinicSession(
        id=s.id,
        hospital_code=row[1],
        department_code=row[2],
        doctor_work_no=row[3],
        visit_date=s.visit_date,
        part=Part(s.part),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        status=SessionStatus(s.status),
        registration_fee_fen=s.registration_fee_fen,
        consultation_fee_fen=s.consultation_fee_fen,
        clinic_type=s.clinic_type,
        stop_reason=s.stop_reason,
    )


class SqlSessions:
    def __init__(self, tx: AsyncSession, *, postgres: bool, freed: set[int]) -> None:
        self.tx = tx
        self.postgres = postgres
        self.freed = freed  # sessions with places freed in this unit of work

    async def ensure(
        self,
        hospital_code: str,
        doctor_work_no: str,
        planned: list[PlannedSession],
        now: datetime,
    ) -> int:
        found = (
            await self.tx.execute(
                select(DoctorRow, HospitalRow, ClinicTypeRow)
                .join(HospitalRow, HospitalRow.id == DoctorRow.hospital_id)
                .join(ClinicTypeRow, ClinicTypeRow.id == DoctorRow.clinic_type_id)
                .where(
                    HospitalRow.code == hospital_code,
                    same_work_no(DoctorRow.work_no, doctor_work_no),
                )
            )
        ).first()
        if found is None or not planned:
            return 0
        doctor, hospital_row, clinic = found
        hospital = hospital_of(hospital_row)
        existing = set(
            (
                await self.tx.execute(
                    select(ClinicSessionRow.visit_date, ClinicSessionRow.part).where(
                        ClinicSessionRow.doctor_id == doctor.id,
                        ClinicSessionRow.visit_date >= min(p.visit_date for p in planned),
                    )
                )
            ).all()
        )
        created = 0
        for plan in planned:
            if (plan.visit_date, plan.part.value) in existing:
                continue
            starts, ends = session_span(
                plan.visit_date, hospital.part_hours[plan.part], hospital.timezone
            )
            row = ClinicSessionRow(
                hospital_id=hospital_row.id,
                department_id=doctor.department_id,
                doctor_id=doctor.id,
                visit_date=plan.visit_date,
                part=plan.part.value,
                starts_at=starts,
                ends_at=ends,
                capacity=plan.capacity,
                status=SessionStatus.OPEN.value,
                clinic_type=clinic.code,
                registration_fee_fen=clinic.registration_fee_fen,
                consultation_fee_fen=clinic.consultation_fee_fen,
                created_at=now,
            )
            self.tx.add(row)
            await self.tx.flush()
            self.tx.add_all(
                PlaceRow(
                    session_id=row.id,
                    queue_no=p.queue_no,
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                    status=PlaceStatus.FREE.value,
                )
                for p in place_times(starts, ends, plan.capacity)
            )
            created += 1
        await self.tx.flush()
        return created

    async def get(self, session_id: int, *, for_booking: bool = False) -> ClinicSession | None:
        query = session_query().where(ClinicSessionRow.id == session_id)
        if for_booking:
            # Bookings share the session row; a stop (停诊) takes it alone, so no booking can
            # slip in between the stop and the cancellation of the session's bookings.
            query = query.with_for_update(read=True, of=ClinicSessionRow)
        row = (await self.tx.execute(query)).first()
        return session_of(row) if row else None

    async def find(
        self, hospital_code: str | None, doctor_work_no: str, visit_date: date, part: Part
    ) -> list[ClinicSession]:
        query = session_query().where(
            same_work_no(DoctorRow.work_no, doctor_work_no),
            ClinicSessionRow.visit_date == visit_date,
            ClinicSessionRow.part == part.value,
        )
        if hospital_code:
            query = query.where(HospitalRow.code == hospital_code)
        return [session_of(r) for r in (await self.tx.execute(query)).all()]

    async def search(self, f: SessionFilter, after: datetime) -> list[SessionAvailability]:
        # Counted per session found (on the places index), not over every place in the hospital.
        free = (
            select(func.count())
            .where(
                PlaceRow.session_id == ClinicSessionRow.id,
                PlaceRow.status == PlaceStatus.FREE.value,
                PlaceRow.starts_at > after,
            )
            .correlate(ClinicSessionRow)
            .scalar_subquery()
        )
        query = (
            session_query()
            .add_columns(free)
            .order_by(ClinicSessionRow.starts_at, DoctorRow.work_no)
        )
        rows = (await self.tx.execute(filtered(query, f))).all()
        return [SessionAvailability(session_of(r), int(r[4])) for r in rows]

    async def free_places(self, session_id: int, after: datetime) -> int:
        count = await self.tx.scalar(
            select(func.count()).where(
                PlaceRow.session_id == session_id,
                PlaceRow.status == PlaceStatus.FREE.value,
                PlaceRow.starts_at > after,
            )
        )
        return int(count or 0)

    async def claim_place(
        self, session_id: int, after: datetime, queue_no: int | None
    ) -> ClaimedPlace | None:
        pick = select(PlaceRow.id).where(
            PlaceRow.session_id == session_id,
            PlaceRow.status == PlaceStatus.FREE.value,
            PlaceRow.starts_at > after,
        )
        if queue_no is not None:
            pick = pick.where(PlaceRow.queue_no == queue_no)
        pick = pick.order_by(PlaceRow.queue_no).limit(1).with_for_update(skip_locked=True)
        claim = (
            update(PlaceRow)
            .where(PlaceRow.id == pick.scalar_subquery(), PlaceRow.status == PlaceStatus.FREE.value)
            .values(status=PlaceStatus.BUSY.value)
            .returning(PlaceRow.id, PlaceRow.queue_no, PlaceRow.starts_at, PlaceRow.ends_at)
            .execution_options(synchronize_session=False)
        )
        for attempt in range(CLAIM_RETRIES):
            row = (await self.tx.execute(claim)).first()
            if row is not None:
                return ClaimedPlace(row[0], row[1], row[2], row[3])
            # On PostgreSQL a free place may be skipped only because another transaction has
            # it locked; if that one rolls back, the place is free again, so look once more.
            if not self.postgres or await self.free_places(session_id, after) == 0:
                return None
            await asyncio.sleep(0.002 * (attempt + 1))
        return None

    async def place_times(self, session_id: int, queue_no: int) -> ClaimedPlace | None:
        row = (
            await self.tx.execute(
                select(PlaceRow.id, PlaceRow.queue_no, PlaceRow.starts_at, PlaceRow.ends_at).where(
                    PlaceRow.session_id == session_id, PlaceRow.queue_no == queue_no
                )
            )
        ).first()
        return ClaimedPlace(row[0], row[1], row[2], row[3]) if row else None

    async def set_place(
        self, session_id: int, queue_no: int, was: PlaceStatus, becomes: PlaceStatus
    ) -> bool:
        if becomes is PlaceStatus.FREE:
            self.freed.add(session_id)
        changed = await self.tx.execute(
            update(PlaceRow)
            .where(
                PlaceRow.session_id == session_id,
                PlaceRow.queue_no == queue_no,
                PlaceRow.status == was.value,
            )
            .values(status=becomes.value)
            .returning(PlaceRow.id)
            .execution_options(synchronize_session=False)
        )
        return changed.first() is not None

    async def hold_free_place(self, session_id: int, after: datetime) -> ClaimedPlace | None:
        pick = (
            select(PlaceRow.id)
            .where(
                PlaceRow.session_id == session_id,
                PlaceRow.status == PlaceStatus.FREE.value,
                PlaceRow.starts_at > after,
            )
            .order_by(PlaceRow.queue_no)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = (
            await self.tx.execute(
                update(PlaceRow)
                .where(
                    PlaceRow.id == pick.scalar_subquery(),
                    PlaceRow.status == PlaceStatus.FREE.value,
                )
                .values(status=PlaceStatus.BUSY_TENTATIVE.value)
                .returning(PlaceRow.id, PlaceRow.queue_no, PlaceRow.starts_at, PlaceRow.ends_at)
                .execution_options(synchronize_session=False)
            )
        ).first()
        return None if row is None else ClaimedPlace(row[0], row[1], row[2], row[3])

    async def stop(self, session_id: int, reason: str) -> bool:
        stopped = (
            await self.tx.execute(
                update(ClinicSessionRow)
                .where(
                    ClinicSessionRow.id == session_id,
                    ClinicSessionRow.status == SessionStatus.OPEN.value,
                )
                .values(status=SessionStatus.STOPPED.value, stop_reason=reason)
                .returning(ClinicSessionRow.id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        return stopped is not None

    async def withdraw_places(self, session_id: int) -> None:
        self.freed.add(session_id)  # so that bookings are told "stopped", not "full"
        await self.tx.execute(
            update(PlaceRow)
            .where(PlaceRow.session_id == session_id)
            .values(status=PlaceStatus.BUSY_UNAVAILABLE.value)
            .execution_options(synchronize_session=False)
        )

    async def busy_places(self, session_id: int) -> int:
        count = await self.tx.scalar(
            select(func.count()).where(
                PlaceRow.session_id == session_id, PlaceRow.status == PlaceStatus.BUSY.value
            )
        )
        return int(count or 0)
