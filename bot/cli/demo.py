"""``guahao demo fill``: books every place left in a demo session by walk-in patients at the
desk, so that a newcomer can see a full session, join its waitlist (候补) in the web chat and
watch the offer arrive when one walk-in's booking is cancelled. Refused in production."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from stdnum.cn import ric

from booking.appointments.book import book
from booking.catalogue.model import Part
from booking.errors import AlreadyBooked, NotFound, SlotFull
from booking.patients.registration import patient_by_id_number, register_patient
from bot.cli.bookings import DateOpt, PartOpt, SessionOpt
from bot.cli.common import HospitalOpt, Json, fail, load_settings, run
from bot.cli.lookup import resolve_session
from bot.cli.output import emit, emit_json
from bot.runtime.services import Services

WALK_IN = "演示患者"
DESK_PHONE = "13800000000"


def fill(
    session: SessionOpt = None,
    doctor: Annotated[str | None, typer.Option(help="Doctor's work number (工号).")] = None,
    date_: DateOpt = None,
    part: PartOpt = None,
    hospital: HospitalOpt = None,
    as_json: Json = False,
) -> None:
    """Book every place left in a session (by --session, or --doctor, --date and --part) by
    demo walk-ins, and print a booking number to cancel to free one."""
    if (session is None) == (doctor is None) or (doctor and (date_ is None or part is None)):
        raise typer.BadParameter("give --session ID, or --doctor WORKNO --date DATE --part PART")
    if load_settings().env == "production":
        fail("settings", "demo walk-ins are not booked in production")

    async def work(s: Services) -> None:
        if session is not None:
            session_id = session
        else:
            assert doctor is not None and part is not None
            session_id = (await resolve_session(s, doctor, date_, Part(part), hospital)).session.id
        booked: list[str] = []
        for n in range(1000):
            patient = await _walk_in(s, session_id, n)
            try:
                receipt = await book(
                    s.uows, s.clock, patient_id=patient, session_id=session_id, channel="desk"
                )
            except AlreadyBooked:  # filled by an earlier run: the next walk-in
                continue
            except SlotFull:
                break
            booked.append(receipt.appointment.booking_no)
        if as_json:
            emit_json({"session_id": session_id, "booked": booked})
            return
        emit(f"session {session_id} is full: {len(booked)} places booked by demo walk-ins")
        if booked:
            emit(
                f"free one (its place goes to the first on the waitlist): guahao cancel {booked[0]}"
            )

    run(work, operation="demo fill")


async def _walk_in(s: Services, session_id: int, n: int) -> int:
    """The n-th walk-in of a session: a valid ID number of its own, registered once."""
    born = date(1950, 1, 1) + timedelta(days=session_id % 15000)
    body = f"110105{born:%Y%m%d}{n:03d}"
    number = body + ric.calc_check_digit(body + "0")
    try:
        return (await patient_by_id_number(s.uows, s.protector, number)).id
    except NotFound:
        patient = await register_patient(
            s.uows, s.protector, s.clock, name=WALK_IN, id_number=number, phone=DESK_PHONE,
            in_person=True,
        )  # fmt: skip
        return patient.id
