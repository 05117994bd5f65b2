"""Finding bookings: a patient's own list, and the registration desk's search by the caller's
phone number, ID number, booking number, name, doctor, department or dates (seed §3.4, §3.7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.appointments.model import AppointmentStatus, BookingView
from booking.appointments.ports import AppointmentWork, BookingFilter
from booking.patients.identity import parse_id_number, parse_mobile
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory


async def find_bookings(
    uows: UnitOfWorkFactory[AppointmentWork],
    protector: Protector,
    *,
    id_number: str | None = None,
    phone: str | None = None,
    booking_no: str | None = None,
    patient_name: str | None = None,
    doctor_work_no: str | None = None,
    department_code: str | None = None,
    hospital_code: str | None = None,
    booked_on: date | None = None,
    visit_date: date | None = None,
    statuses: tuple[AppointmentStatus, ...] | None = None,
    limit: int = 500,
    timezone: str = "Asia/Shanghai",
) -> list[BookingView]:
    booked_between = None
    if booked_on is not None:
        start = datetime.combine(booked_on, time(0), ZoneInfo(timezone))
        booked_between = (start, start + timedelta(days=1))
    f = BookingFilter(
        booking_no=booking_no.strip() if booking_no else None,
        patient_id_hash=(
            protector.lookup_hash("id", parse_id_number(id_number).number) if id_number else None
        ),
        phone_hash=protector.lookup_hash("phone", parse_mobile(phone)) if phone else None,
        patient_name=patient_name.strip() if patient_name else None,
        doctor_work_no=doctor_work_no,
        department_code=department_code.upper() if department_code else None,
        hospital_code=hospital_code.upper() if hospital_code else None,
        booked_between=booked_between,
        visit_date=visit_date,
        statuses=statuses,
        limit=limit,
    )
    async with uows(readonly=True) as uow:
        return await uow.appointments.views(f)


@dataclass(frozen=True)
class HistoryPage:
    views: list[BookingView]
    more: bool  # there are older ones


async def booking_history(
    uows: UnitOfWorkFactory[AppointmentWork],
    channel: str,
    user_id: str,
    *,
    today: date,
    page: int,
    per_page: int,
) -> HistoryPage:
    """One page (from 1) of the bookings no longer ahead of the patients this chat account
    manages (visits, no-shows, cancellations by the patient or the hospital), newest first."""
    async with uows(readonly=True) as uow:
        account = await uow.patients.find_account(channel, user_id)
        if account is None:
            return HistoryPage([], more=False)
        views = await uow.appointments.views(
            BookingFilter(
                account_id=account.id,
                behind_on=today,
                limit=per_page + 1,
                offset=(max(page, 1) - 1) * per_page,
            )
        )
    return HistoryPage(views[:per_page], more=len(views) > per_page)


async def my_bookings(
    uows: UnitOfWorkFactory[AppointmentWork], channel: str, user_id: str
) -> list[BookingView]:
    """Every booking of the patients this chat account manages, newest visit first."""
    async with uows(readonly=True) as uow:
        account = await uow.patients.find_account(channel, user_id)
        if account is None:
            return []
        return await uow.appointments.views(BookingFilter(account_id=account.id))
