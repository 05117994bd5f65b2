"""Finding what a command names: hospitals, departments, a doctor's session by work number,
date and part, a booking by its number; each with a clear refusal when it is not there."""

from __future__ import annotations

from booking.appointments.listing import find_bookings
from booking.appointments.model import BookingView
from booking.catalogue.model import Catalogue, Hospital, Part
from booking.catalogue.schedule import last_released_date, local_now
from booking.catalogue.search import SessionOffer, find_departments, find_hospital
from booking.catalogue.search import search_sessions as find_sessions
from booking.errors import InvalidInput, NotFound, OutsideWindow
from bot.cli.common import load_catalogue, parse_day
from bot.cli.output import day_text, weekly_text
from bot.runtime.services import Services


class PastDate(InvalidInput):
    reason = "past_date"


class AmbiguousDoctor(InvalidInput):
    reason = "ambiguous_doctor"


class UnknownDoctor(NotFound):
    reason = "unknown_doctor"


class UnknownHospital(NotFound):
    reason = "unknown_hospital"


class UnknownDepartment(NotFound):
    reason = "unknown_department"


class NoSession(NotFound):
    reason = "no_session"


def hospital_code(catalogue: Catalogue, text: str | None) -> str | None:
    """The code of the hospital called ``text`` (code, name or alias)."""
    if not text:
        return None
    found = find_hospital(catalogue, text)
    if found is None:
        raise UnknownHospital(f"no hospital is called {text!r}", what="hospital")
    return found.code


def department_code(catalogue: Catalogue, text: str | None) -> str | None:
    """The code of the department called ``text`` (code, name or alias)."""
    if not text:
        return None
    codes = sorted({d.code for d in find_departments(catalogue, text)})
    if not codes:
        raise UnknownDepartment(f"no department is called {text!r}", what="department")
    return codes[0]


def check_places(catalogue: Catalogue, hospital: str | None, department: str | None) -> None:
    """Say so when a hospital or department is unknown, rather than finding nothing."""
    hospital_code(catalogue, hospital)
    department_code(catalogue, department)


async def one_booking(s: Services, booking_no: str) -> tuple[BookingView, Hospital]:
    """A booking as shown to people, with the hospital it is held at (for its time zone)."""
    views = await find_bookings(s.uows, s.protector, booking_no=booking_no)
    if not views:
        raise NotFound("no booking with this number", what="booking")
    hospitals = {h.code: h for h in (await load_catalogue(s)).hospitals}
    return views[0], hospitals[views[0].hospital_code]


async def resolve_session(
    s: Services, work_no: str, visit_date: str | None, part: Part, hospital: str | None
) -> SessionOffer:
    """The session of the doctor with this work number on that day and part, or the reason
    there is none (unknown doctor, past date, no such session, not yet released)."""
    day = parse_day(visit_date, "--date")
    assert day is not None  # the commands require --date with --doctor
    catalogue = await load_catalogue(s)
    typed = work_no.strip().casefold()  # as the hospital writes it, in any case: N0001, n0001
    doctors = [d for d in catalogue.doctors if d.work_no.casefold() == typed]
    if hospital:
        code = hospital_code(catalogue, hospital)
        doctors = [d for d in doctors if d.hospital_code == code]
    if not doctors:
        raise UnknownDoctor(f"no doctor has the work number {work_no!r}", what="doctor")
    if len(doctors) > 1:
        codes = ", ".join(d.hospital_code for d in doctors)
        raise AmbiguousDoctor(f"work number {work_no} is used at {codes}: add --hospital CODE")
    doctor = doctors[0]
    here = hospital_of(catalogue, doctor.hospital_code)
    now = s.clock.now()
    today = local_now(now, here.timezone).date()
    if day < today:
        raise PastDate(f"{day} is in the past (today is {today})", visit_date=day.isoformat())
    offers = [
        o
        for o in await find_sessions(
            s.uows,
            s.clock,
            doctor=doctor.work_no,
            hospital=here.code,
            date_from=day,
            date_to=day,
            part=part,
            include_closed=True,
        )
        if o.doctor.work_no == doctor.work_no
    ]
    if offers:
        return offers[0]
    last = last_released_date(now, here.policy, here.timezone)
    works_then = any(t.weekday == day.isoweekday() and t.part is part for t in doctor.templates)
    if works_then and day > last:
        raise OutsideWindow(
            f"bookings for {day} are not open yet (open until {last}; a new day opens at "
            f"{here.policy.release_time:%H:%M})",
            last_open_date=last.isoformat(),
        )
    raise NoSession(
        f"{doctor.name} ({doctor.work_no}) holds no {part.value} session on {day_text(day)}; "
        f"weekly: {weekly_text(doctor) or 'none'}",
        what="session",
    )


def hospital_of(catalogue: Catalogue, code: str) -> Hospital:
    return next(h for h in catalogue.hospitals if h.code == code)
