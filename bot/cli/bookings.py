"""``guahao patients …``, ``book``, ``cancel``, ``transfer`` and ``bookings …``: the
registration desk's commands. ID and phone numbers are read, never printed: every output
shows only their masked forms."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import typer

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.book import book as book_place
from booking.appointments.changes import cancel as cancel_booking
from booking.appointments.changes import transfer as transfer_booking
from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus
from booking.catalogue.model import Part
from booking.errors import InvalidInput
from booking.patients.registration import patient_by_id_number, register_patient
from booking.protect import Protector
from bot.cli.common import (
    DEFAULT_TZ,
    DepartmentOpt,
    HospitalOpt,
    Json,
    load_catalogue,
    parse_day,
    run,
)
from bot.cli.lookup import department_code, hospital_code, one_booking, resolve_session
from bot.cli.output import (
    BOOKING_HEADERS,
    WHAT_TO_BRING,
    booking_dict,
    booking_lines,
    booking_row,
    day_text,
    emit,
    emit_json,
    patient_dict,
    table,
)
from bot.runtime.services import Services

patients_app = typer.Typer(help="Patients (就诊人, real-name registration).", no_args_is_help=True)
bookings_app = typer.Typer(help="Bookings: find them, check patients in.", no_args_is_help=True)

IdNumber = Annotated[str, typer.Option("--id-number", help="18-digit resident ID number.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Visit date, YYYY-MM-DD.")]
PartOpt = Annotated[Part | None, typer.Option(help="Part of the day.")]
SessionOpt = Annotated[int | None, typer.Option("--session", help="A session id.")]
_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")


def _account(text: str | None, protector: Protector) -> tuple[str, str] | None:
    if text is None:
        return None
    channel, sep, user_id = text.partition(":")
    if not sep or not _CHANNEL.match(channel) or not user_id.strip():
        raise InvalidInput("--account should look like CHANNEL:USER_ID, e.g. telegram:12345")
    return protector.account(channel, user_id.strip())


@patients_app.command("add")
def patients_add(
    name: Annotated[str, typer.Option(help="Name as on the ID card.")],
    id_number: IdNumber,
    phone: Annotated[str, typer.Option(help="Mobile number (for text messages).")],
    account: Annotated[
        str | None, typer.Option(help="Link to a chat account: CHANNEL:USER_ID.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Register a patient (real name, resident ID, mobile); running it again updates the phone."""

    async def work(s: Services) -> None:
        patient = await register_patient(
            s.uows,
            s.protector,
            s.clock,
            name=name,
            id_number=id_number,
            phone=phone,
            account=_account(account, s.protector),
            in_person=True,  # the command is for staff, who see the ID card
        )
        if as_json:
            emit_json(patient_dict(patient))
            return
        emit(f"patient {patient.name} {patient.id_masked}, mobile {patient.phone_masked}")

    run(work, operation="register_patient")


def book(
    id_number: IdNumber,
    session: SessionOpt = None,
    doctor: Annotated[str | None, typer.Option(help="Doctor's work number (工号).")] = None,
    date_: DateOpt = None,
    part: PartOpt = None,
    hospital: HospitalOpt = None,
    queue_no: Annotated[int | None, typer.Option(min=1, help="Ask for this number.")] = None,
    channel: Annotated[str, typer.Option(help="Where the booking was made.")] = "desk",
    as_json: Json = False,
) -> None:
    """Book a place: by --session, or by --doctor, --date and --part."""
    if (session is None) == (doctor is None) or (doctor and (date_ is None or part is None)):
        raise typer.BadParameter("give --session ID, or --doctor WORKNO --date DATE --part PART")
    if not _CHANNEL.match(channel):
        raise typer.BadParameter("--channel is a short lower-case name, e.g. desk or phone")

    async def work(s: Services) -> None:
        patient = await patient_by_id_number(s.uows, s.protector, id_number)
        if session is not None:
            session_id = session
        else:
            assert doctor is not None and part is not None
            session_id = (await resolve_session(s, doctor, date_, part, hospital)).session.id
        receipt = await book_place(
            s.uows,
            s.clock,
            patient_id=patient.id,
            session_id=session_id,
            channel=channel,
            queue_no=queue_no,
        )
        view, here = await one_booking(s, receipt.appointment.booking_no)
        if as_json:
            emit_json({**booking_dict(view, here.timezone), "bring": WHAT_TO_BRING})
            return
        emit("Booked.")
        for line in booking_lines(view, here.timezone, here.name_zh):
            emit(line)
        emit(f"  Bring         {WHAT_TO_BRING}")

    run(work, operation="book")


def cancel(
    booking_no: Annotated[str, typer.Argument(help="The booking number.")],
    as_json: Json = False,
) -> None:
    """退号: cancel a booking (until the session starts); it is marked for refund."""

    async def work(s: Services) -> None:
        await cancel_booking(s.uows, s.clock, booking_no.strip())
        view, here = await one_booking(s, booking_no.strip())
        if as_json:
            emit_json(booking_dict(view, here.timezone))
            return
        emit("Cancelled.")
        for line in booking_lines(view, here.timezone, here.name_zh):
            emit(line)

    run(work, operation="cancel")


def transfer(
    booking_no: Annotated[str, typer.Argument(help="The booking number.")],
    session: SessionOpt = None,
    date_: DateOpt = None,
    part: PartOpt = None,
    doctor: Annotated[
        str | None, typer.Option(help="Work number (default: the same doctor).")
    ] = None,
    as_json: Json = False,
) -> None:
    """转号: move a booking to another session of the same department (until the day before)."""
    if (session is None) == (date_ is None) or (date_ is not None and part is None):
        raise typer.BadParameter("give --session ID, or --date DATE --part PART [--doctor WORKNO]")

    async def work(s: Services) -> None:
        number = booking_no.strip()
        current, _ = await one_booking(s, number)
        if session is not None:
            target = session
        else:
            assert part is not None
            work_no = doctor or current.doctor_work_no
            offer = await resolve_session(s, work_no, date_, part, current.hospital_code)
            target = offer.session.id
        await transfer_booking(s.uows, s.clock, number, target)
        view, here = await one_booking(s, number)
        if as_json:
            emit_json(
                {
                    **booking_dict(view, here.timezone),
                    "from_session_id": current.session_id,
                    "from_queue_no": current.queue_no,
                }
            )
            return
        emit(
            f"Transferred from {day_text(current.visit_date)} {current.part.value} "
            f"(queue number {current.queue_no}, {current.doctor_name}) to:"
        )
        for line in booking_lines(view, here.timezone, here.name_zh):
            emit(line)

    run(work, operation="transfer")


@bookings_app.command("list")
def bookings_list(
    id_number: Annotated[str | None, typer.Option("--id-number", help="Patient's ID.")] = None,
    phone: Annotated[str | None, typer.Option(help="Patient's mobile number.")] = None,
    doctor: Annotated[str | None, typer.Option(help="Doctor's work number.")] = None,
    booking_no: Annotated[str | None, typer.Option("--booking-no")] = None,
    name: Annotated[str | None, typer.Option(help="Patient's name (exact).")] = None,
    department: DepartmentOpt = None,
    hospital: HospitalOpt = None,
    booked_on: Annotated[str | None, typer.Option(help="Day booked, YYYY-MM-DD.")] = None,
    visit_date: Annotated[str | None, typer.Option(help="Visit date, YYYY-MM-DD.")] = None,
    status: Annotated[
        list[AppointmentStatus] | None, typer.Option(help="Only these (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 500,
    as_json: Json = False,
) -> None:
    """Find bookings by patient, phone, doctor, booking number, department or dates."""

    async def work(s: Services) -> None:
        booked: date | None = parse_day(booked_on, "--booked-on")
        visit = parse_day(visit_date, "--visit-date")
        catalogue = await load_catalogue(s)
        views = await find_bookings(
            s.uows,
            s.protector,
            id_number=id_number,
            phone=phone,
            booking_no=booking_no,
            patient_name=name,
            doctor_work_no=doctor.strip() if doctor else None,
            department_code=department_code(catalogue, department),
            hospital_code=hospital_code(catalogue, hospital),
            booked_on=booked,
            visit_date=visit,
            statuses=tuple(status) if status else None,
            limit=limit,
        )
        zones = {h.code: h.timezone for h in catalogue.hospitals}
        if as_json:
            emit_json([booking_dict(v, zones.get(v.hospital_code, DEFAULT_TZ)) for v in views])
            return
        rows = [booking_row(v, zones.get(v.hospital_code, DEFAULT_TZ)) for v in views]
        emit(table(BOOKING_HEADERS, rows) if rows else "no bookings found")

    run(work)


@bookings_app.command("arrive")
def bookings_arrive(booking_no: Annotated[str, typer.Argument()]) -> None:
    """Check a patient in (on the visit day)."""

    async def work(s: Services) -> None:
        await mark_arrived(s.uows, s.clock, booking_no.strip())
        emit(f"booking {booking_no.strip()}: arrived")

    run(work, operation="mark_arrived")


@bookings_app.command("noshow")
def bookings_noshow(booking_no: Annotated[str, typer.Argument()]) -> None:
    """Mark a booking as not attended (once its session has begun); may ban the patient."""

    async def work(s: Services) -> None:
        ban = await mark_noshow(s.uows, s.clock, booking_no.strip())
        emit(f"booking {booking_no.strip()}: no-show")
        if ban is not None:
            emit(f"the patient may not book until {ban.until} ({ban.reason})")

    run(work, operation="mark_noshow")
