"""Changes to a booking: the patient cancels (退号) or transfers (转号), the hospital stops a
session (停诊)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from booking.appointments.book import (
    BookingReceipt,
    check_bookable,
    check_patient_may_book,
    where_held,
)
from booking.appointments.model import Appointment, AppointmentStatus, CancelReason
from booking.appointments.notices import REMINDERS, NoticeKind, change_notice, reminders, stop_alert
from booking.appointments.ports import AppointmentWork
from booking.appointments.waitlist_offers import close_for_stop, pass_on_place
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession, local_now
from booking.clock import Clock
from booking.errors import (
    DifferentDepartment,
    InvalidInput,
    NotFound,
    PastDeadline,
    SlotFull,
    WrongStatus,
)
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory


async def _owned_appointment(
    uow: AppointmentWork, booking_no: str, account: tuple[str, str] | None, clock: Clock
) -> tuple[Appointment, ClinicSession]:
    appointment = await uow.appointments.get(booking_no)
    if appointment is None:
        raise NotFound("no booking with this number", what="booking")
    if account is not None:
        acct = await uow.patients.account(account[0], account[1], clock.now())
        if not await uow.patients.is_linked(acct.id, appointment.patient_id):
            # Told as "not found" so that booking numbers cannot be probed from another account.
            raise NotFound("no booking with this number", what="booking")
    session = await uow.sessions.get(appointment.session_id)
    assert session is not None  # an appointment always belongs to a session
    if appointment.status is not AppointmentStatus.BOOKED:
        raise WrongStatus(
            f"this booking is {appointment.status.value}", status=appointment.status.value
        )
    return appointment, session


async def cancel(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    *,
    account: tuple[str, str] | None = None,
    reason: CancelReason = CancelReason.PATIENT,
    by: Actor | None = None,
) -> Appointment:
    """退号: allowed until the session starts; the place is free again at once. ``by``:
    the member of staff who cancels, audited in the same transaction."""
    now = clock.now()
    async with uows() as uow:
        appointment, session = await _owned_appointment(uow, booking_no, account, clock)
        if now >= session.starts_at:
            raise PastDeadline(
                "a booking can be cancelled only until the session starts",
                deadline=session.starts_at.isoformat(),
            )
        if not await uow.appointments.set_status(
            appointment.id,
            AppointmentStatus.CANCELLED,
            now,
            place=(session.id, appointment.queue_no),
            cancel_reason=reason.value,
            refund_due=True,
        ):
            raise WrongStatus("this booking was changed meanwhile", status="changed")
        hospital, _ = await where_held(uow, session)
        await pass_on_place(uow, session, hospital, appointment.queue_no, now, held=False)
        await uow.notices.withdraw(appointment.id, REMINDERS)
        if account is None:  # not the patient's own doing: they are told
            await uow.notices.add(
                change_notice(
                    NoticeKind.CANCELLED, appointment, session.starts_at, hospital.timezone, now
                ),
                now,
            )
        await uow.logs.booking_event(
            now, "cancelled", booking_no, {"session_id": session.id, "reason": reason.value}
        )
        if by is not None:
            after = {"status": "cancelled", "reason": reason.value, "refund_due": True}
            entry = by.did(now, audit.CANCEL, booking_no, {"status": "booked"}, after)
            await uow.audit.add(entry)
        await uow.commit()
    return appointment


@dataclass(frozen=True)
class TransferReceipt:
    appointment: Appointment
    from_session: ClinicSession
    to_session: ClinicSession
    place: ClaimedPlace


async def transfer(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    to_session_id: int,
    *,
    account: tuple[str, str] | None = None,
    address: str | None = None,
    by: Actor | None = None,
) -> TransferReceipt:
    """转号: move a booking to another session of the same department, until the end of the
    day before the visit; on the visit day a booking can only be cancelled. ``by``: the
    member of staff who moves it, audited in the same transaction."""
    now = clock.now()
    async with uows() as uow:
        appointment, current = await _owned_appointment(uow, booking_no, account, clock)
        if address is not None and appointment.account_id is not None:
            await uow.patients.set_address(appointment.account_id, address)
        target = await uow.sessions.get(to_session_id, for_booking=True)
        if target is None:
            raise NotFound("no such session", what="session")
        if (target.hospital_code, target.department_code) != (
            current.hospital_code,
            current.department_code,
        ):
            raise DifferentDepartment("a booking can move only within its department")
        if target.id == current.id:
            raise WrongStatus("the booking is already in this session", status="same_session")
        hospital, department = await where_held(uow, target)
        today = local_now(now, hospital.timezone).date()
        last_day = current.visit_date - timedelta(days=hospital.policy.transfer_days_before)
        if today > last_day:
            raise PastDeadline(
                "a booking can be moved only until the day before the visit",
                deadline=last_day.isoformat(),
            )
        check_bookable(target, hospital, department, now)
        await check_patient_may_book(
            uow, hospital, department, appointment.patient_id, target, now,
            excluding=appointment.id,
        )  # fmt: skip
        place = await uow.sessions.claim_place(target.id, now, None)
        if place is None:
            raise SlotFull("that session is fully booked", session_id=target.id)
        if not await uow.appointments.move(appointment.id, current.id, target, place, now):
            raise WrongStatus("this booking was changed meanwhile", status="changed")
        await pass_on_place(uow, current, hospital, appointment.queue_no, now, held=False)
        moved = replace(
            appointment, session_id=target.id, visit_date=target.visit_date,
            queue_no=place.queue_no,
        )  # fmt: skip
        await uow.notices.withdraw(appointment.id, REMINDERS)
        news = reminders(moved, target, place.starts_at, hospital.timezone, now)
        if account is None:  # moved by staff: the patient is told
            news += change_notice(
                NoticeKind.TRANSFERRED, moved, place.starts_at, hospital.timezone, now
            )
        await uow.notices.add(news, now)
        await uow.logs.booking_event(
            now,
            "transferred",
            booking_no,
            {"from_session_id": current.id, "to_session_id": target.id, "queue_no": place.queue_no},
        )
        if by is not None:
            before = {"session_id": current.id, "queue_no": appointment.queue_no}
            after = {"session_id": target.id, "queue_no": place.queue_no}
            await uow.audit.add(by.did(now, audit.TRANSFER, booking_no, before, after))
        await uow.commit()
    return TransferReceipt(appointment, current, target, place)


async def transfer_stopped(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    to_session_id: int,
    *,
    account: tuple[str, str],
    address: str | None = None,
) -> BookingReceipt:
    """停诊's one-press transfer: a booking the hospital stopped is booked again, under its own
    number, in another session of its department (every rule of booking applies). The fee
    moves with it, so it is no longer due for refund; once moved, it cannot move this way
    again."""
    now = clock.now()
    async with uows() as uow:
        appointment = await uow.appointments.get(booking_no)
        acct = await uow.patients.account(account[0], account[1], now)
        if appointment is None or not await uow.patients.is_linked(acct.id, appointment.patient_id):
            raise NotFound("no booking with this number", what="booking")
        target = await uow.sessions.get(to_session_id, for_booking=True)
        stopped = await uow.sessions.get(appointment.session_id)
        if target is None or stopped is None:
            raise NotFound("no such session", what="session")
        if (target.hospital_code, target.department_code) != (
            stopped.hospital_code,
            stopped.department_code,
        ):
            raise DifferentDepartment("a booking can move only within its department")
        if stopped.doctor_work_no != target.doctor_work_no and (
            stopped.clinic_type != target.clinic_type
        ):
            raise DifferentDepartment(
                "a stopped booking moves to the same doctor or one of the same level",
                level=stopped.clinic_type,
            )
        hospital, department = await where_held(uow, target)
        check_bookable(target, hospital, department, now)
        await check_patient_may_book(uow, hospital, department, appointment.patient_id, target, now)
        place = await uow.sessions.claim_place(target.id, now, None)
        if place is None:
            raise SlotFull("that session is fully booked", session_id=target.id)
        if not await uow.appointments.reinstate(appointment.id, target, place, now):
            raise WrongStatus("this booking was not stopped, or has moved already", status="moved")
        if address is not None:
            await uow.patients.set_address(acct.id, address)
        moved = replace(
            appointment, session_id=target.id, visit_date=target.visit_date,
            queue_no=place.queue_no,
            status=AppointmentStatus.BOOKED,
            registration_fee_fen=target.registration_fee_fen,
            consultation_fee_fen=target.consultation_fee_fen,
        )  # fmt: skip
        news = reminders(moved, target, place.starts_at, hospital.timezone, now)
        await uow.notices.add(news, now)
        await uow.logs.booking_event(
            now, "transferred_after_stop", booking_no,
            {"to_session_id": target.id, "queue_no": place.queue_no},
        )  # fmt: skip
        await uow.commit()
    return BookingReceipt(moved, target, place, department, hospital)


async def stop_session(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    session_id: int,
    reason: str,
    *,
    by: Actor | None = None,
) -> list[Appointment]:
    """停诊: the hospital stops a session; every booking on it is cancelled with the reason and
    its registration fee is marked for refund. Returns the bookings cancelled. ``by``: the
    member of staff who stops it, audited in the same transaction (the reason is not kept
    there: it is free text)."""
    now = clock.now()
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise InvalidInput("a stop needs a reason to tell the patients", field="reason")
    async with uows() as uow:
        session = await uow.sessions.get(session_id)
        if session is None:
            raise NotFound("no such session", what="session")
        if not await uow.sessions.stop(session_id, reason):
            raise WrongStatus("this session is already stopped", status="stopped")
        hospital, _ = await where_held(uow, session)
        cancelled = []
        for appointment in await uow.appointments.holding_places(session_id):
            if await uow.appointments.set_status(
                appointment.id,
                AppointmentStatus.CANCELLED,
                now,
                expected=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
                place=(session_id, appointment.queue_no),
                cancel_reason=CancelReason.HOSPITAL_STOP.value,
                refund_due=True,
            ):
                cancelled.append(appointment)
                await uow.notices.withdraw(appointment.id, REMINDERS)
                await uow.notices.add(
                    change_notice(
                        NoticeKind.STOPPED, appointment, session.starts_at, hospital.timezone,
                        now, reason=reason,
                    ),
                    now,
                )  # fmt: skip
                await uow.logs.booking_event(
                    now,
                    "cancelled",
                    appointment.booking_no,
                    {"session_id": session_id, "reason": CancelReason.HOSPITAL_STOP.value},
                )
        # The lines, then the places last: every change takes an appointment's row (or a
        # waitlist entry's) before its place's row, so that a stop, a cancellation, a
        # transfer and a waitlist round on PostgreSQL never wait on each other in a circle.
        await close_for_stop(uow, session, hospital, reason, now)
        await uow.sessions.withdraw_places(session_id)
        await uow.notices.add([stop_alert(session, reason, len(cancelled), now)], now)
        await uow.logs.booking_event(
            now, "session_stopped", None, {"session_id": session_id, "cancelled": len(cancelled)}
        )
        if by is not None:
            after = {"status": "stopped", "cancelled": len(cancelled)}
            entry = by.did(now, audit.SESSION_STOP, str(session_id), {"status": "open"}, after)
            await uow.audit.add(entry)
        await uow.commit()
    return cancelled
