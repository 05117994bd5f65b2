"""Appointments in the database, and the booking listings for patients and staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.model import (
    ACTIVE,
    Appointment,
    AppointmentStatus,
    BookingView,
    CancelReason,
    QuotaUse,
)
from booking.appointments.ports import BookingFilter
from booking.catalogue.model import Part
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession
from booking.store.tables.appointments import AppointmentRow, BookingRequestRow
from booking.store.tables.catalogue import (
    ClinicSessionRow,
    DepartmentRow,
    DoctorRow,
    HospitalRow,
    PlaceRow,
)
from booking.store.tables.patients import AccountPatientRow, PatientRow
from booking.store.work_nos import same_work_no

_ACTIVE_VALUES = [s.value for s in ACTIVE]


def _appointment(row: AppointmentRow, department_code: str) -> Appointment:
    return Appointment(
        id=row.id,
        booking_no=row.booking_no,
        patient_id=row.patient_id,
        account_id=row.account_id,
        channel=row.channel,
        session_id=row.session_id,
        department_code=department_code,
        visit_date=row.visit_date,
        queue_no=row.queue_no,
        status=AppointmentStatus(row.status),
        registration_fee_fen=row.registration_fee_fen,
        consultation_fee_fen=row.consultation_fee_fen,
        created_at=row.created_at,
    )


class SqlAppointments:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def made_for(self, request: str) -> str | None:
        return await self.tx.scalar(
            select(AppointmentRow.booking_no)
            .join(BookingRequestRow, BookingRequestRow.appointment_id == AppointmentRow.id)
            .where(BookingRequestRow.request_hash == request)
        )

    async def remember_request(self, request: str, appointment_id: int, now: datetime) -> None:
        self.tx.add(BookingRequestRow(request_hash=request, appointment_id=appointment_id,
                                     made_at=now))  # fmt: skip
        await self.tx.flush()

    async def _department_id(self, session: ClinicSession) -> int:
        found = await self.tx.scalar(
            select(ClinicSessionRow.department_id).where(ClinicSessionRow.id == session.id)
        )
        assert found is not None
        return found

    async def get(self, booking_no: str) -> Appointment | None:
        row = (
            await self.tx.execute(
                select(AppointmentRow, DepartmentRow.code)
                .join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
                .where(AppointmentRow.booking_no == booking_no)
            )
        ).first()
        return _appointment(row[0], row[1]) if row else None

    async def quota_uses(self, patient_id: int, first: date, last: date) -> list[QuotaUse]:
        query = (
            select(
                AppointmentRow.visit_date,
                DepartmentRow.code,
                AppointmentRow.session_id,
                AppointmentRow.id,
            )
            .join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
            .where(
                AppointmentRow.patient_id == patient_id,
                AppointmentRow.visit_date >= first,
                AppointmentRow.visit_date <= last,
                AppointmentRow.status.in_(_ACTIVE_VALUES),
            )
        )
        return [
            QuotaUse(d, code, sid, aid)
            for d, code, sid, aid in (await self.tx.execute(query)).all()
        ]

    async def set_status(
        self,
        appointment_id: int,
        status: AppointmentStatus,
        now: datetime,
        *,
        expected: tuple[AppointmentStatus, ...] = (AppointmentStatus.BOOKED,),
        place: tuple[int, int] | None = None,
        cancel_reason: str | None = None,
        refund_due: bool = False,
    ) -> bool:
        values: dict[str, Any] = {"status": status.value, "updated_at": now}
        if status is AppointmentStatus.CANCELLED:
            values.update(cancelled_at=now, cancel_reason=cancel_reason, refund_due=refund_due)
        where = [
            AppointmentRow.id == appointment_id,
            AppointmentRow.status.in_([s.value for s in expected]),
        ]
        if place is not None:
            # A transfer may have moved the booking since it was read: then its place is
            # another one, and this change must not go through.
            where += [AppointmentRow.session_id == place[0], AppointmentRow.queue_no == place[1]]
        done = (
            await self.tx.execute(
                update(AppointmentRow)
                .where(*where)
                .values(**values)
                .returning(AppointmentRow.id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        return done is not None

    async def move(
        self,
        appointment_id: int,
        from_session_id: int,
        session: ClinicSession,
        place: ClaimedPlace,
        now: datetime,
    ) -> bool:
        done = (
            await self.tx.execute(
                update(AppointmentRow)
                .where(
                    AppointmentRow.id == appointment_id,
                    AppointmentRow.session_id == from_session_id,
                    AppointmentRow.status == AppointmentStatus.BOOKED.value,
                )
                .values(
                    session_id=session.id,
                    department_id=await self._department_id(session),
                    visit_date=session.visit_date,
                    queue_no=place.queue_no,
                    registration_fee_fen=session.registration_fee_fen,
                    consultation_fee_fen=session.consultation_fee_fen,
                    updated_at=now,
                )
                .returning(AppointmentRow.id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        return done is not None

    async def reinstate(
        self, appointment_id: int, session: ClinicSession, place: ClaimedPlace, now: datetime
    ) -> bool:
        done = (
            await self.tx.execute(
                update(AppointmentRow)
                .where(
                    AppointmentRow.id == appointment_id,
                    AppointmentRow.status == AppointmentStatus.CANCELLED.value,
                    AppointmentRow.cancel_reason == CancelReason.HOSPITAL_STOP.value,
                    AppointmentRow.refund_due.is_(True),
                )
                .values(
                    status=AppointmentStatus.BOOKED.value,
                    session_id=session.id,
                    department_id=await self._department_id(session),
                    visit_date=session.visit_date,
                    queue_no=place.queue_no,
                    registration_fee_fen=session.registration_fee_fen,
                    consultation_fee_fen=session.consultation_fee_fen,
                    cancelled_at=None,
                    cancel_reason=None,
                    refund_due=False,
                    updated_at=now,
                )
                .returning(AppointmentRow.id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        return done is not None

    async def holding_places(self, session_id: int) -> list[Appointment]:
        rows = (
            await self.tx.execute(
                select(AppointmentRow, DepartmentRow.code)
                .join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
                .where(
                    AppointmentRow.session_id == session_id,
                    AppointmentRow.status.in_(_ACTIVE_VALUES),
                )
                .order_by(AppointmentRow.queue_no)
            )
        ).all()
        return [_appointment(r[0], r[1]) for r in rows]

    async def unattended(self, ended_before: datetime, limit: int) -> list[str]:
        """Booking numbers still booked in sessions that ended before `ended_before`."""
        found = await self.tx.scalars(
            select(AppointmentRow.booking_no)
            .join(ClinicSessionRow, ClinicSessionRow.id == AppointmentRow.session_id)
            .where(
                AppointmentRow.status == AppointmentStatus.BOOKED.value,
                ClinicSessionRow.ends_at < ended_before,
            )
            .order_by(AppointmentRow.id)
            .limit(limit)
        )
        return list(found.all())

    async def noshows_since(self, patient_id: int, since: date) -> int:
        count = await self.tx.scalar(
            select(func.count()).where(
                AppointmentRow.patient_id == patient_id,
                AppointmentRow.status == AppointmentStatus.NOSHOW.value,
                AppointmentRow.visit_date >= since,
            )
        )
        return int(count or 0)

    async def views(self, f: BookingFilter) -> list[BookingView]:
        query = (
            select(
                AppointmentRow,
                PatientRow.name,
                PatientRow.id_masked,
                PatientRow.phone_masked,
                DoctorRow.work_no,
                DoctorRow.name,
                DoctorRow.title,
                DepartmentRow.code,
                DepartmentRow.name_zh,
                DepartmentRow.name_en,
                HospitalRow.code,
                ClinicSessionRow.part,
                PlaceRow.starts_at,
                PlaceRow.ends_at,
            )
            .join(PatientRow, PatientRow.id == AppointmentRow.patient_id)
            .join(ClinicSessionRow, ClinicSessionRow.id == AppointmentRow.session_id)
            .join(DoctorRow, DoctorRow.id == ClinicSessionRow.doctor_id)
            .join(DepartmentRow, DepartmentRow.id == AppointmentRow.department_id)
            .join(HospitalRow, HospitalRow.id == ClinicSessionRow.hospital_id)
            .join(
                PlaceRow,
                (PlaceRow.session_id == AppointmentRow.session_id)
                & (PlaceRow.queue_no == AppointmentRow.queue_no),
            )
            .order_by(AppointmentRow.visit_date.desc(), PlaceRow.starts_at, AppointmentRow.id)
            .limit(f.limit)
            .offset(f.offset)
        )
        if f.booking_no:
            query = query.where(AppointmentRow.booking_no == f.booking_no)
        if f.account_id is not None:
            query = query.where(
                AppointmentRow.patient_id.in_(
                    select(AccountPatientRow.patient_id).where(
                        AccountPatientRow.account_id == f.account_id
                    )
                )
            )
        if f.patient_id_hash:
            query = query.where(PatientRow.id_hash == f.patient_id_hash)
        if f.phone_hash:
            query = query.where(PatientRow.phone_hash == f.phone_hash)
        if f.patient_name:
            query = query.where(PatientRow.name == f.patient_name)
        if f.doctor_work_no:
            query = query.where(same_work_no(DoctorRow.work_no, f.doctor_work_no))
        if f.department_code:
            query = query.where(DepartmentRow.code == f.department_code)
        if f.hospital_code:
            query = query.where(HospitalRow.code == f.hospital_code)
        if f.visit_date:
            query = query.where(AppointmentRow.visit_date == f.visit_date)
        if f.booked_between:
            start, end = f.booked_between
            query = query.where(AppointmentRow.created_at >= start, AppointmentRow.created_at < end)
        if f.statuses:
            query = query.where(AppointmentRow.status.in_([s.value for s in f.statuses]))
        if f.behind_on is not None:
            query = query.where(
                (AppointmentRow.status != AppointmentStatus.BOOKED.value)
                | (AppointmentRow.visit_date < f.behind_on)
            )
        rows = (await self.tx.execute(query)).all()
        return [
            BookingView(
                booking_no=a.booking_no,
                status=AppointmentStatus(a.status),
                patient_name=r[1],
                patient_id_masked=r[2],
                patient_phone_masked=r[3],
                doctor_work_no=r[4],
                doctor_name=r[5],
                doctor_title=r[6],
                department_code=r[7],
                department_name_zh=r[8],
                department_name_en=r[9],
                hospital_code=r[10],
                visit_date=a.visit_date,
                part=Part(r[11]),
                queue_no=a.queue_no,
                expected_time=r[12],
                window_end=r[13],
                registration_fee_fen=a.registration_fee_fen,
                consultation_fee_fen=a.consultation_fee_fen,
                channel=a.channel,
                created_at=a.created_at,
                session_id=a.session_id,
                cancel_reason=a.cancel_reason,
                refund_due=a.refund_due,
            )
            for r in rows
            for a in [r[0]]
        ]
