"""Booking a place (预约挂号). The database has the last word on capacity: a place is claimed
by a conditional update inside the booking transaction, never by a read-then-write here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking.appointments import Appointment, check_quotas, quota_range
from booking.catalogue import Department, Hospital
from booking.clock import Clock
from booking.errors import (
    AlreadyBooked,
    Blacklisted,
    NotBookable,
    NotFound,
    NotYourBooking,
    OutsideWindow,
    PlaceTaken,
    SessionStopped,
    SlotFull,
)
from booking.ports import ClaimedPlace, UnitOfWork, UnitOfWorkFactory
from booking.schedule import ClinicSession, SessionStatus, last_released_date, local_now


@dataclass(frozen=True)
class BookingReceipt:
    appointment: Appointment
    session: ClinicSession
    place: ClaimedPlace
    department: Department
    hospital: Hospital


async def where_held(uow: UnitOfWork, session: ClinicSession) -> tuple[Hospital, Department]:
    """The hospital (with its policy) and department a session belongs to."""
    found = await uow.catalogue.hospital_and_department(
        session.hospital_code, session.department_code
    )
    assert found is not None  # sessions always belong to a department of a hospital
    return found


def check_bookable(
    session: ClinicSession, hospital: Hospital, department: Department, now: datetime
) -> None:
    """Raise the reason a session cannot take bookings now, if there is one."""
    if not department.bookable:
        raise NotBookable("this department does not take bookings", department=department.code)
    if session.status is SessionStatus.STOPPED:
        raise SessionStopped("the doctor has stopped this session", session_id=session.id)
    if session.ends_at <= now:
        raise OutsideWindow("this session is over", session_id=session.id)
    last = last_released_date(now, hospital.policy, hospital.timezone)
    if session.visit_date > last:
        raise OutsideWindow(
            f"bookings open {hospital.policy.window_days} days ahead at "
            f"{hospital.policy.release_time:%H:%M}",
            last_open_date=last.isoformat(),
            window_days=hospital.policy.window_days,
        )


async def check_patient_may_book(
    uow: UnitOfWork,
    hospital: Hospital,
    patient_id: int,
    visit_date: date,
    department_code: str,
    session_id: int,
    now: datetime,
    excluding: int | None = None,
) -> None:
    """Blacklist, double booking and quotas. The caller holds the patient's lock."""
    patient = await uow.patients.get(patient_id, lock=True)
    if patient is None:
        raise NotFound("no such patient", what="patient")
    today = local_now(now, hospital.timezone).date()
    for entry in await uow.blacklist.entries(patient.id_hash):
        if entry.blocks(today):
            raise Blacklisted(
                "this patient may not book at the moment",
                source=entry.source.value,
                until=entry.until.isoformat() if entry.until else None,
            )
    if await uow.appointments.holds_place(patient_id, session_id):
        raise AlreadyBooked("this patient already has a place in this session")
    first, last = quota_range(hospital.policy, visit_date)
    uses = await uow.appointments.quota_uses(patient_id, first, last, excluding=excluding)
    check_quotas(hospital.policy, uses, visit_date, department_code)


async def book(
    uows: UnitOfWorkFactory,
    clock: Clock,
    *,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str] | None = None,
    queue_no: int | None = None,
) -> BookingReceipt:
    """Book a place in a session for a patient; with ``account``, the patient must be one of
    that account's patients. ``queue_no`` asks for a particular place, else the first free."""
    now = clock.now()
    # A read outside the writers' queue turns most attempts on a full session away cheaply;
    # the conditional claim below still decides.
    async with uows(readonly=True) as uow:
        session = await uow.sessions.get(session_id)
        if session is None:
            raise NotFound("no such session", what="session")
        hospital, department = await where_held(uow, session)
        check_bookable(session, hospital, department, now)
        if await uow.sessions.free_places(session_id, now) == 0:
            raise SlotFull("this session is fully booked", session_id=session_id)

    async with uows() as uow:
        session = await uow.sessions.get(session_id, for_booking=True)
        if session is None:
            raise NotFound("no such session", what="session")
        check_bookable(session, hospital, department, now)
        account_id = None
        if account is not None:
            acct = await uow.patients.account(account[0], account[1], now)
            if not await uow.patients.is_linked(acct.id, patient_id):
                raise NotYourBooking("this patient is not registered on this account")
            account_id = acct.id
        await check_patient_may_book(
            uow, hospital, patient_id, session.visit_date, session.department_code, session.id, now
        )
        place = await uow.sessions.claim_place(session_id, now, queue_no)
        if place is None and queue_no is not None:
            raise PlaceTaken(
                f"queue number {queue_no} is not free; choose another place",
                session_id=session_id,
                queue_no=queue_no,
            )
        if place is None:
            raise SlotFull("this session is fully booked", session_id=session_id)
        appointment = await uow.appointments.add(
            patient_id=patient_id,
            account_id=account_id,
            channel=channel,
            session=session,
            place=place,
            now=now,
        )
        await uow.logs.booking_event(
            now,
            "booked",
            appointment.booking_no,
            {"session_id": session.id, "queue_no": place.queue_no, "channel": channel},
        )
        await uow.commit()
    return BookingReceipt(appointment, session, place, department, hospital)
