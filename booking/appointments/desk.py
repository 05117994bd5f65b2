"""The registration desk's own work: booking for a caller on the phone (人工代客挂号, seed
§3.4/§3.7) under exactly the bot's rules, the sessions a booking may move to, and closing the
bookings left "booked" after their session ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.appointments.attendance import CHECK_IN_GRACE
from booking.appointments.book import BookingReceipt, book_in
from booking.appointments.model import AppointmentStatus, BookingView
from booking.appointments.ports import AppointmentWork, BookingFilter
from booking.catalogue.schedule import PlaceStatus
from booking.catalogue.search import SessionOffer, search_sessions
from booking.clock import Clock
from booking.errors import BookingError, BookingNumberTaken, NotFound, TryAgain
from booking.patients.identity import parse_id_number
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

DESK_CHANNEL = "desk"
ZONE = ZoneInfo("Asia/Shanghai")  # the demo hospitals'; cut-off days are counted there
# Closed bulk bookings are cancelled with this reason (see close_expired).
EXPIRED = "expired"
CLOSE_AT_ONCE = 1000  # one press closes at most this many; the page then shows what is left


async def book_for_caller(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    protector: Protector,
    *,
    name: str,
    id_number: str,
    phone: str,
    session_id: int,
    by: Actor,
) -> BookingReceipt:
    """Register the caller (real name, ID number, mobile) or find them again, and book the
    session for them with booking.appointments.book's own rules. An ID number registered
    already needs the same name and the registered phone, as the bot does: a stranger who only knows
    someone's ID number cannot act for them; the desk changes nobody's phone on a call.
    Audited (ids only), and so is a refusal, with its reason."""
    try:
        resident = parse_id_number(id_number)
        async with uows(readonly=True) as uow:
            known = await uow.patients.by_id_hash(protector.lookup_hash("id", resident.number))
        patient = await register_patient(
            uows, protector, clock, name=name, id_number=id_number, phone=phone,
            phone_proven=True,  # the caller named the registered phone; no account is linked
        )  # fmt: skip
        for _ in range(3):
            try:
                return await _book(uows, clock, patient.id, session_id, by, known is None)
            except BookingNumberTaken:
                continue  # a fresh random number next time; nothing was saved
        raise TryAgain("the booking system is busy, please try again")
    except BookingError as error:
        after = {"action": "book_for_caller", "reason": error.reason, "session_id": session_id}
        await audit.record(uows, by.did(clock.now(), audit.REFUSED, after=after))
        raise


async def _book(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    patient_id: int,
    session_id: int,
    by: Actor,
    new: bool,
) -> BookingReceipt:
    now = clock.now()
    async with uows() as uow:
        receipt = await book_in(
            uow, now, patient_id=patient_id, session_id=session_id, channel=DESK_CHANNEL,
            account=None,
        )  # fmt: skip
        # The patient was found before this transaction; book_in has locked them since, so
        # a removal (patient_records.remove_patient) either came first, seen here, or waits.
        record = await uow.patient_records.record(patient_id)
        if record is None or record.removed_at is not None:
            raise NotFound("no such patient", what="patient")
        number = receipt.appointment.booking_no
        after = {
            "booking_no": number,
            "session_id": session_id,
            "queue_no": receipt.place.queue_no,
            "patient_id": patient_id,
            "new_patient": new,
        }
        await uow.audit.add(by.did(now, audit.BOOK_FOR_CALLER, number, after=after))
        await uow.commit()
    return receipt


async def bookable_sessions(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    *,
    hospital: str,
    department: str,
    doctor: str | None = None,
) -> list[SessionOffer]:
    """Sessions of the department (or one doctor) with places free to book now."""
    offers = await search_sessions(
        uows, clock, hospital=hospital, department=department, doctor=doctor
    )
    return [o for o in offers if o.bookable and o.department.code == department]


async def booking_view(uows: UnitOfWorkFactory[AppointmentWork], booking_no: str) -> BookingView:
    async with uows(readonly=True) as uow:
        found = await uow.appointments.views(BookingFilter(booking_no=booking_no, limit=1))
    if not found:
        raise NotFound("no booking with this number", what="booking")
    return found[0]


async def transfer_choices(
    uows: UnitOfWorkFactory[AppointmentWork], clock: Clock, booking_no: str
) -> tuple[BookingView, list[SessionOffer]]:
    """The booking, and the other sessions of its department it could move to now."""
    view = await booking_view(uows, booking_no)
    offers = await bookable_sessions(
        uows, clock, hospital=view.hospital_code, department=view.department_code
    )
    return view, [o for o in offers if o.session.id != view.session_id]


def expiry_cutoff(now: datetime, through: date) -> datetime:
    """Sessions ended before this are over: the end of the ``through`` day, and never later
    than an hour ago (a patient may still be checked in that long after a session)."""
    latest = now - CHECK_IN_GRACE
    if through >= latest.astimezone(ZONE).date():  # also keeps 9999-12-31 from overflowing
        return latest
    day_after = datetime.combine(through + timedelta(days=1), time(0), ZONE)
    return min(day_after, latest)


@dataclass(frozen=True)
class Expired:
    cutoff: datetime
    count: int  # at most CLOSE_AT_ONCE + 1: "more than CLOSE_AT_ONCE"


async def expired_bookings(
    uows: UnitOfWorkFactory[AppointmentWork], clock: Clock, through: date
) -> Expired:
    cutoff = expiry_cutoff(clock.now(), through)
    async with uows(readonly=True) as uow:
        found = await uow.appointments.unattended(cutoff, CLOSE_AT_ONCE + 1)
    return Expired(cutoff, len(found))


async def close_expired(
    uows: UnitOfWorkFactory[AppointmentWork], clock: Clock, through: date, by: Actor
) -> int:
    """Close the bookings still "booked" whose session ended before the cut-off; how many.

    They are cancelled (reason "expired", nothing to refund: the place was held to the end),
    not marked as no-shows. No-shows are the automatic rule (attendance.mark_noshows, an hour
    after each session), which bans after repeated ones and tells the patient; what is left
    for the desk to close in bulk is what that rule did not reach (the background rounds were
    off, or arrivals were not recorded), and a bulk press on records the desk knows to be
    incomplete must not ban anybody. Their places are free again, so that a past session's
    busy places are those of bookings that still hold them."""
    now = clock.now()
    cutoff = expiry_cutoff(now, through)
    closed = 0
    async with uows() as uow:
        for booking_no in await uow.appointments.unattended(cutoff, CLOSE_AT_ONCE):
            appointment = await uow.appointments.get(booking_no)
            if appointment is None:
                continue
            place = (appointment.session_id, appointment.queue_no)
            if not await uow.appointments.set_status(
                appointment.id, AppointmentStatus.CANCELLED, now, place=place,
                cancel_reason=EXPIRED, refund_due=False,
            ):  # fmt: skip
                continue  # checked in or marked meanwhile
            await uow.sessions.set_place(*place, PlaceStatus.BUSY, PlaceStatus.FREE)
            await uow.logs.booking_event(
                now, "expired", booking_no, {"session_id": appointment.session_id}
            )
            closed += 1
        after = {"closed": closed, "ended_before": cutoff.isoformat()}
        await uow.audit.add(by.did(now, audit.CLOSE_EXPIRED, after=after))
        await uow.commit()
    return closed
