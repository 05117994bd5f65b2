"""Doctors and their weekly templates written one at a time (the back office), and the day
sheet of sessions with the counts of their bookings and places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.model import ACTIVE, AppointmentStatus
from booking.catalogue.model import Doctor, DutyTemplate, Part
from booking.catalogue.ports import SessionFilter
from booking.catalogue.schedule import PlaceStatus
from booking.roster.doctors import WorkNoTaken
from booking.roster.ports import SessionLine
from booking.store.sessions_repo import filtered, session_of, session_query
from booking.store.tables.appointments import AppointmentRow
from booking.store.tables.catalogue import (
    ClinicSessionRow,
    ClinicTypeRow,
    DepartmentRow,
    DoctorRow,
    DutyTemplateRow,
    HospitalRow,
    PlaceRow,
)
from booking.store.work_nos import same_work_no

_ACTIVE_VALUES = [s.value for s in ACTIVE]
_PARTS = list(Part)  # morning, afternoon, evening


class SqlDoctors:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def doctor(
        self, hospital_code: str, work_no: str, *, lock: bool = False
    ) -> Doctor | None:
        return await self._one(hospital_code, work_no, lock=lock)

    async def active_doctor(self, hospital_code: str, work_no: str) -> Doctor | None:
        found = await self._one(hospital_code, work_no, lock=False, share=True)
        return found if found is not None and found.active else None

    async def _one(
        self, hospital_code: str, work_no: str, *, lock: bool, share: bool = False
    ) -> Doctor | None:
        query = (
            select(DoctorRow, HospitalRow.code, DepartmentRow.code, ClinicTypeRow.code)
            .join(HospitalRow, HospitalRow.id == DoctorRow.hospital_id)
            .join(DepartmentRow, DepartmentRow.id == DoctorRow.department_id)
            .join(ClinicTypeRow, ClinicTypeRow.id == DoctorRow.clinic_type_id)
            .where(HospitalRow.code == hospital_code, same_work_no(DoctorRow.work_no, work_no))
        )
        if lock or share:  # SQLite has one writer at a time and ignores this
            query = query.with_for_update(read=share and not lock, of=DoctorRow)
            # the row as locked, not as this unit of work may have read it before
            query = query.execution_options(populate_existing=True)
        row = (await self.tx.execute(query)).first()
        if row is None:
            return None
        doctor, hospital, department, clinic = row
        templates = (
            await self.tx.scalars(
                select(DutyTemplateRow).where(DutyTemplateRow.doctor_id == doctor.id)
            )
        ).all()
        return _doctor(doctor, hospital, department, clinic, templates)

    async def _ids(self, doctor: Doctor) -> tuple[int, int, int] | None:
        """(hospital, department, clinic type) row ids of the doctor's codes."""
        row = (
            await self.tx.execute(
                select(HospitalRow.id, DepartmentRow.id, ClinicTypeRow.id)
                .join(DepartmentRow, DepartmentRow.hospital_id == HospitalRow.id)
                .join(ClinicTypeRow, ClinicTypeRow.hospital_id == HospitalRow.id)
                .where(
                    HospitalRow.code == doctor.hospital_code,
                    DepartmentRow.code == doctor.department_code,
                    ClinicTypeRow.code == doctor.clinic_type,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    async def add(self, doctor: Doctor) -> Doctor | None:
        ids = await self._ids(doctor)
        if ids is None:
            return None
        hospital_id, department_id, clinic_type_id = ids
        # Work numbers are unique in the whole group, which the schema (unique per hospital)
        # cannot say: adds take the hospitals' rows in turn (FOR NO KEY UPDATE, which still
        # lets rows referring to a hospital be written), so the check sees the other's doctor.
        await self.tx.execute(
            select(HospitalRow.id).order_by(HospitalRow.id).with_for_update(key_share=True)
        )
        if await self.tx.scalar(
            select(DoctorRow.id).where(same_work_no(DoctorRow.work_no, doctor.work_no))
        ):
            raise WorkNoTaken("this work number is in use", work_no=doctor.work_no)
        row = DoctorRow(hospital_id=hospital_id, work_no=doctor.work_no)
        _fill(row, doctor, department_id, clinic_type_id)
        try:
            async with self.tx.begin_nested():
                self.tx.add(row)
        except IntegrityError:  # added meanwhile by another administrator
            raise WorkNoTaken("this work number is in use", work_no=doctor.work_no) from None
        for t in doctor.templates:
            self.tx.add(
                DutyTemplateRow(
                    doctor_id=row.id, weekday=t.weekday, part=t.part.value, capacity=t.capacity
                )
            )
        await self.tx.flush()
        return replace(doctor, id=row.id)

    async def update(self, doctor: Doctor) -> bool:
        ids = await self._ids(doctor)
        row = await self.tx.get(DoctorRow, doctor.id)
        if ids is None or row is None:
            return False
        _fill(row, doctor, ids[1], ids[2])
        await self.tx.flush()
        return True

    async def _template(self, doctor_id: int, weekday: int, part: Part) -> DutyTemplateRow | None:
        return await self.tx.scalar(
            select(DutyTemplateRow).where(
                DutyTemplateRow.doctor_id == doctor_id,
                DutyTemplateRow.weekday == weekday,
                DutyTemplateRow.part == part.value,
            )
        )

    async def put_template(self, doctor_id: int, template: DutyTemplate) -> DutyTemplate | None:
        row = await self._template(doctor_id, template.weekday, template.part)
        if row is None:
            self.tx.add(
                DutyTemplateRow(
                    doctor_id=doctor_id,
                    weekday=template.weekday,
                    part=template.part.value,
                    capacity=template.capacity,
                )
            )
            await self.tx.flush()
            return None
        before = DutyTemplate(row.weekday, Part(row.part), row.capacity)
        row.capacity = template.capacity
        await self.tx.flush()
        return before

    async def remove_template(
        self, doctor_id: int, weekday: int, part: Part
    ) -> DutyTemplate | None:
        row = await self._template(doctor_id, weekday, part)
        if row is None:
            return None
        before = DutyTemplate(row.weekday, Part(row.part), row.capacity)
        await self.tx.delete(row)
        await self.tx.flush()
        return before

    async def sheet(self, f: SessionFilter) -> list[SessionLine]:
        query = session_query().order_by(ClinicSessionRow.starts_at, DoctorRow.work_no)
        query = filtered(query, f).limit(1000)
        sessions = [session_of(r) for r in (await self.tx.execute(query)).all()]
        if not sessions:
            return []
        ids = [s.id for s in sessions]
        places: dict[tuple[int, str], int] = {
            (sid, status): n
            for sid, status, n in (
                await self.tx.execute(
                    select(PlaceRow.session_id, PlaceRow.status, func.count())
                    .where(PlaceRow.session_id.in_(ids))
                    .group_by(PlaceRow.session_id, PlaceRow.status)
                )
            ).all()
        }
        bookings: dict[tuple[int, str], int] = {
            (sid, status): n
            for sid, status, n in (
                await self.tx.execute(
                    select(AppointmentRow.session_id, AppointmentRow.status, func.count())
                    .where(AppointmentRow.session_id.in_(ids))
                    .group_by(AppointmentRow.session_id, AppointmentRow.status)
                )
            ).all()
        }
        return [
            SessionLine(
                session=s,
                booked=sum(bookings.get((s.id, v), 0) for v in _ACTIVE_VALUES),
                cancelled=bookings.get((s.id, AppointmentStatus.CANCELLED.value), 0),
                free=places.get((s.id, PlaceStatus.FREE.value), 0),
                held=places.get((s.id, PlaceStatus.BUSY_TENTATIVE.value), 0),
            )
            for s in sessions
        ]


def _fill(row: DoctorRow, doctor: Doctor, department_id: int, clinic_type_id: int) -> None:
    row.department_id = department_id
    row.clinic_type_id = clinic_type_id
    row.name, row.name_en, row.title = doctor.name, doctor.name_en, doctor.title
    row.specialties = list(doctor.specialties)
    row.active = doctor.active


def _doctor(
    row: DoctorRow,
    hospital: str,
    department: str,
    clinic: str,
    templates: Sequence[DutyTemplateRow],
) -> Doctor:
    return Doctor(
        id=row.id,
        hospital_code=hospital,
        department_code=department,
        work_no=row.work_no,
        name=row.name,
        name_en=row.name_en,
        title=row.title,
        clinic_type=clinic,
        specialties=tuple(row.specialties),
        templates=tuple(
            sorted(
                (DutyTemplate(t.weekday, Part(t.part), t.capacity) for t in templates),
                key=lambda t: (t.weekday, _PARTS.index(t.part)),
            )
        ),
        active=row.active,
    )
