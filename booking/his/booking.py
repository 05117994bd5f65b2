"""Booking, cancelling and checking in from the HIS, under exactly the bot's rules: the
patient is registered by real name (实名制) and the place is taken by booking.appointments.book."""

from __future__ import annotations

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.book import BookingReceipt, book_in
from booking.appointments.changes import cancel
from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus, BookingView, CancelReason
from booking.clock import Clock
from booking.errors import BookingNumberTaken, InvalidInput, TryAgain
from booking.his.ports import HisWork
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

HIS_CHANNEL = "his"


async def book_from_his(
    uows: UnitOfWorkFactory[HisWork],
    protector: Protector,
    clock: Clock,
    by: Actor,
    *,
    name: str,
    id_number: str,
    phone: str,
    session_id: int,
    queue_no: int | None,
) -> BookingReceipt:
    """The HIS is the hospital's own record of who the patient is, as trusted as the desk
    that saw the ID card: the patient is registered (or found, the name must match)."""
    patient = await register_patient(
        uows, protector, clock, name=name, id_number=id_number, phone=phone, in_person=True
    )
    for _ in range(3):
        try:
            return await _book(uows, clock, by, patient.id, session_id, queue_no)
        except BookingNumberTaken:
            continue  # a fresh random number next time; nothing was saved
    raise TryAgain("the booking system is busy, please try again")


async def _book(
    uows: UnitOfWorkFactory[HisWork],
    clock: Clock,
    by: Actor,
    patient_id: int,
    session_id: int,
    queue_no: int | None,
) -> BookingReceipt:
    """The booking and its audit row in one transaction: neither is saved without the other."""
    now = clock.now()
    async with uows() as uow:
        receipt = await book_in(
            uow, now, patient_id=patient_id, session_id=session_id, channel=HIS_CHANNEL,
            account=None, queue_no=queue_no,
        )  # fmt: skip
        number = receipt.appointment.booking_no
        after = {"status": "booked", "session_id": session_id, "queue_no": receipt.place.queue_no}
        await uow.audit.add(by.did(now, audit.HIS_BOOK, number, None, after))
        await uow.commit()
    return receipt


async def booked_already(
    uows: UnitOfWorkFactory[HisWork],
    protector: Protector,
    id_number: str,
    session_id: int,
    queue_no: int,
) -> BookingView | None:
    """The patient's booking of this very place, if they hold it: a HIS that sends the same
    booking again (its answer lost on the way) is given the booking it made."""
    held = await find_bookings(
        uows, protector, id_number=id_number, statuses=(AppointmentStatus.BOOKED,)
    )
    return next((v for v in held if (v.session_id, v.queue_no) == (session_id, queue_no)), None)


async def change_status_from_his(
    uows: UnitOfWorkFactory[HisWork],
    clock: Clock,
    by: Actor,
    booking_no: str,
    status: AppointmentStatus,
) -> None:
    """The HIS tells of a change: cancelled (退号 at the hospital), arrived (checked in at the
    hospital: the no-show rule leaves the booking alone), or noshow."""
    if status is AppointmentStatus.CANCELLED:
        await cancel(uows, clock, booking_no, reason=CancelReason.STAFF, by=by)
    elif status is AppointmentStatus.ARRIVED:
        await mark_arrived(uows, clock, booking_no, by=by)
    elif status is AppointmentStatus.NOSHOW:
        await mark_noshow(uows, clock, booking_no, by=by)
    else:
        raise InvalidInput(
            "the HIS may set a booking's status to cancelled, arrived or noshow only",
            status=status.value,
        )
