"""Booking a place (预约挂号). The database has the last word on capacity: a place is claimed
by a conditional update inside the booking transaction, never by a read-then-write here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from booking.appointments.model import (
    Appointment,
    AppointmentStatus,
    QuotaUse,
    check_quotas,
    new_booking_no,
    quota_horizon,
)
from booking.appointments.notices import reminders
from booking.appointments.ports import AppointmentWork
from booking.catalogue.model import Department, Hospital
from booking.catalogue.policy import MAX_PERIOD_DAYS
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import (
    ClinicSession,
    SessionStatus,
    last_released_date,
    local_now,
    release_moment,
)
from booking.clock import Clock
from booking.errors import (
    AlreadyBooked,
    Blacklisted,
    BookingNumberTaken,
    NotBookable,
    NotFound,
    NotYourBooking,
    OutsideAgeRange,
    OutsideWindow,
    PlaceTaken,
    SessionStopped,
    SlotFull,
    TryAgain,
)
from booking.patients.identity import age_on
from booking.patients.model import BlacklistEntry
from booking.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class BookingReceipt:
    appointment: Appointment
    session: ClinicSession
    place: ClaimedPlace
    department: Department
    hospital: Hospital


async def where_held(uow: AppointmentWork, session: ClinicSession) -> tuple[Hospital, Department]:
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
        raise OutsideWindow("this session is over", session_id=session.id, over=True)
    last = last_released_date(now, hospital.policy, hospital.timezone)
    if session.visit_date > last:
        raise OutsideWindow(
            f"bookings open {hospital.policy.window_days} days ahead at "
            f"{hospital.policy.release_time:%H:%M}",
            last_open_date=last.isoformat(),
            window_days=hospital.policy.window_days,
            opens_at=release_moment(
                session.visit_date, hospital.policy, hospital.timezone
            ).isoformat(),
        )


def check_patient(
    hospital: Hospital,
    bans: list[BlacklistEntry],
    uses: list[QuotaUse],
    session: ClinicSession,
    now: datetime,
    excluding: int | None = None,
) -> None:
    """Blacklist, double booking and quotas, over the patient's bans and bookings."""
    today = local_now(now, hospital.timezone).date()
    for entry in bans:
        if entry.blocks(today):
            raise Blacklisted(
                "this patient may not book at the moment",
                source=entry.source.value,
                until=entry.until.isoformat() if entry.until else None,
            )
    uses = [u for u in uses if u.appointment_id != excluding]
    if any(u.session_id == session.id for u in uses):
        raise AlreadyBooked("this patient already has a place in this session")
    check_quotas(hospital.policy, uses, session.visit_date, session.department_code)


def check_age(department: Department, birth_date: date | None, visit_date: date) -> None:
    """A department that sees only some ages (儿科) checks the patient's, from the ID number."""
    if birth_date is None or (department.min_age is None and department.max_age is None):
        return
    age = age_on(birth_date, visit_date)
    if not department.admits(age):
        raise OutsideAgeRange(
            f"{department.code} sees patients aged {department.min_age}-{department.max_age}",
            department=department.code,
            min_age=department.min_age,
            max_age=department.max_age,
            age=age,
        )


async def check_patient_may_book(
    uow: AppointmentWork,
    hospital: Hospital,
    department: Department,
    patient_id: int,
    session: ClinicSession,
    now: datetime,
    excluding: int | None = None,
) -> None:
    """check_patient and the age, reading the bans and bookings; takes the patient's lock."""
    patient = await uow.patients.get(patient_id, lock=True)
    if patient is None:
        raise NotFound("no such patient", what="patient")
    check_age(department, patient.birth_date, session.visit_date)
    first, last = quota_horizon(session.visit_date)
    check_patient(
        hospital,
        await uow.blacklist.entries(patient.id_hash),
        await uow.appointments.quota_uses(patient_id, first, last),
        session,
        now,
        excluding,
    )


async def book(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    *,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str] | None = None,
    queue_no: int | None = None,
    not_before: datetime | None = None,
    address: str | None = None,
    request: str | None = None,
) -> BookingReceipt:
    """Book a place in a session for a patient; with ``account``, the patient must be one of
    that account's patients. ``queue_no`` asks for a particular place, else the first free
    (starting at ``not_before`` or later, when given: the SMS quick command names a time).
    ``address``: where notices reach the account (sealed by the caller), kept with it.
    ``request``: what asked for it (a message, by keyed hash), remembered with the booking: the
    same request made again gets this booking's receipt (see book_in)."""
    for _ in range(3):
        try:
            return await _book(
                uows, clock, patient_id, session_id, channel, account, queue_no, not_before,
                address, request,
            )  # fmt: skip
        except BookingNumberTaken:
            continue  # a fresh random number next time; nothing was saved
    raise TryAgain("the booking system is busy, please try again")


async def _book(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str] | None,
    queue_no: int | None,
    not_before: datetime | None,
    address: str | None,
    request: str | None,
) -> BookingReceipt:
    now = clock.now()
    async with uows() as uow:
        receipt = await book_in(
            uow, now, patient_id=patient_id, session_id=session_id, channel=channel,
            account=account, queue_no=queue_no, not_before=not_before, address=address,
            request=request,
        )  # fmt: skip
        await uow.commit()
    return receipt


async def book_in(
    uow: AppointmentWork,
    now: datetime,
    *,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str] | None,
    queue_no: int | None = None,
    not_before: datetime | None = None,
    address: str | None = None,
    request: str | None = None,
) -> BookingReceipt:
    """The booking itself, inside the caller's transaction (which commits it): a place taken
    from a waitlist's hold is booked under exactly the same rules as any other.

    With ``request``, the booking is remembered as made by it, in this transaction. When the
    same request comes again (the process died after the booking was committed, before the
    patient's answer was stored), the patient holds that place already: the answer is the
    receipt of the booking it made, not "already booked" or "full"."""
    try:
        return await _book_in(
            uow, now, patient_id, session_id, channel, account, queue_no, not_before, address,
            request,
        )  # fmt: skip
    except (AlreadyBooked, SlotFull):
        made = await made_by(uow, request, patient_id, session_id) if request else None
        if made is None:
            raise
        return made


async def made_by(
    uow: AppointmentWork, request: str, patient_id: int, session_id: int
) -> BookingReceipt | None:
    """The receipt of the booking this request made, if it still holds its place."""
    booking_no = await uow.appointments.made_for(request)
    appointment = await uow.appointments.get(booking_no) if booking_no else None
    if (
        appointment is None
        or appointment.status is not AppointmentStatus.BOOKED
        or (appointment.patient_id, appointment.session_id) != (patient_id, session_id)
    ):
        return None
    session = await uow.sessions.get(session_id)
    place = await uow.sessions.place_times(session_id, appointment.queue_no)
    if session is None or place is None:
        return None
    hospital, department = await where_held(uow, session)
    return BookingReceipt(appointment, session, place, department, hospital)


async def _book_in(
    uow: AppointmentWork,
    now: datetime,
    patient_id: int,
    session_id: int,
    channel: str,
    account: tuple[str, str] | None,
    queue_no: int | None,
    not_before: datetime | None,
    address: str | None,
    request: str | None,
) -> BookingReceipt:
    # Places start on whole minutes: a second earlier lets the one starting then count.
    after = now if not_before is None else max(now, not_before - timedelta(seconds=1))
    # The visit date is not known before this read: take every booking from a quota
    # period before today on (only those can matter for a visit today or later).
    horizon = (now.date() - timedelta(days=MAX_PERIOD_DAYS + 1), date.max)
    context = await uow.bookings.context(session_id, patient_id, now, horizon)
    if context is None:
        raise NotFound("no such session", what="session")
    session, hospital = context.session, context.hospital
    check_bookable(session, hospital, context.department, now)
    if not context.patient_found:
        raise NotFound("no such patient", what="patient")
    account_id = None
    if account is not None:
        acct = await uow.patients.account(account[0], account[1], now)
        if not await uow.patients.is_linked(acct.id, patient_id):
            raise NotYourBooking("this patient is not registered on this account")
        account_id = acct.id
        if address is not None:  # in this transaction: its reminders need it
            await uow.patients.set_address(acct.id, address)
    check_age(context.department, context.patient_born, session.visit_date)
    check_patient(hospital, context.bans, context.uses, session, now)
    # After the patient's own bookings: one who asks again, their answer lost, is told they
    # hold a place here rather than that the session is full.
    if context.free == 0:
        raise SlotFull("this session is fully booked", session_id=session_id)
    booking_no = new_booking_no(session.visit_date)
    taken = await uow.bookings.take(
        session=session,
        patient_id=patient_id,
        account_id=account_id,
        channel=channel,
        after=after,
        queue_no=queue_no,
        booking_no=booking_no,
        now=now,
    )
    if taken is None and queue_no is not None:
        raise PlaceTaken(
            f"queue number {queue_no} is not free; choose another place",
            session_id=session_id,
            queue_no=queue_no,
        )
    if taken is None:
        raise SlotFull("this session is fully booked", session_id=session_id)
    appointment = Appointment(
        id=taken.appointment_id,
        booking_no=booking_no,
        patient_id=patient_id,
        account_id=account_id,
        channel=channel,
        session_id=session.id,
        department_code=session.department_code,
        visit_date=session.visit_date,
        queue_no=taken.place.queue_no,
        status=AppointmentStatus.BOOKED,
        registration_fee_fen=session.registration_fee_fen,
        consultation_fee_fen=session.consultation_fee_fen,
        created_at=now,
    )
    # With the booking, in its transaction: reminders cannot be lost in between.
    expected = taken.place.starts_at
    await uow.notices.add(reminders(appointment, session, expected, hospital.timezone, now), now)
    if request is not None:
        await uow.appointments.remember_request(request, appointment.id, now)
    return BookingReceipt(appointment, session, taken.place, context.department, hospital)
