"""What the HIS reads through /fhir: doctors (Practitioner), their schedules (Schedule), the
places of their sessions (Slot) and bookings (Appointment), as read models with the names
the FHIR resources carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus, BookingView
from booking.catalogue.model import Catalogue, ClinicType, Department, Doctor, Hospital
from booking.errors import BookingError, InvalidInput
from booking.his.ports import HisWork, Horizon, PlaceFilter, PlaceView
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class DoctorCard:
    """A doctor with the hospital, department and clinic type they work in."""

    doctor: Doctor
    hospital: Hospital
    department: Department
    clinic_type: ClinicType | None


@dataclass(frozen=True)
class ScheduleView:
    """One schedule per doctor: the doctor's sessions from the first to the last visit date."""

    card: DoctorCard
    horizon: Horizon | None


@dataclass(frozen=True)
class SlotView:
    place: PlaceView
    card: DoctorCard


def _cards(catalogue: Catalogue) -> dict[tuple[str, str], DoctorCard]:
    hospitals = {h.code: h for h in catalogue.hospitals}
    departments = {(d.hospital_code, d.code): d for d in catalogue.departments}
    return {
        (d.hospital_code, d.work_no): DoctorCard(
            doctor=d,
            hospital=hospitals[d.hospital_code],
            department=departments[(d.hospital_code, d.department_code)],
            clinic_type=catalogue.clinic_types.get(d.clinic_type),
        )
        for d in catalogue.doctors
    }


async def doctor_cards(
    uows: UnitOfWorkFactory[HisWork], *, work_no: str | None = None, name: str | None = None
) -> list[DoctorCard]:
    """Doctors by work number (as the hospital writes it, in any case) and name (a part of the
    Chinese or English name)."""
    async with uows(readonly=True) as uow:
        cards = _cards(await uow.catalogue.load())
    found = []
    for card in cards.values():
        d = card.doctor
        if work_no is not None and d.work_no.casefold() != work_no.casefold():
            continue
        if name is not None and name.lower() not in f"{d.name} {d.name_en}".lower():
            continue
        found.append(card)
    return sorted(found, key=lambda c: (c.hospital.code, c.doctor.work_no))


async def schedules(
    uows: UnitOfWorkFactory[HisWork],
    *,
    doctor: tuple[str, str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[ScheduleView]:
    """Every doctor's schedule (or one doctor's, by hospital and work number); with dates,
    only schedules with sessions within them."""
    async with uows(readonly=True) as uow:
        cards = _cards(await uow.catalogue.load())
        horizons = {(h.hospital_code, h.doctor_work_no): h for h in await uow.his.horizons()}
    views = []
    for key, card in sorted(cards.items()):
        if doctor is not None and key != doctor:
            continue
        horizon = horizons.get(key)
        if date_from is not None or date_to is not None:
            if horizon is None:
                continue
            if date_from is not None and horizon.last < date_from:
                continue
            if date_to is not None and horizon.first > date_to:
                continue
        views.append(ScheduleView(card, horizon))
    return views


async def slots(uows: UnitOfWorkFactory[HisWork], f: PlaceFilter) -> tuple[list[SlotView], int]:
    """One page of places, and how many match in all."""
    async with uows(readonly=True) as uow:
        places = await uow.his.places(f)
        total = await uow.his.count_places(f)
        cards = _cards(await uow.catalogue.load()) if places else {}
    views = [
        SlotView(p, cards[(p.session.hospital_code, p.session.doctor_work_no)]) for p in places
    ]
    return views, total


# A patient's bookings, or one day's: far fewer than this; if ever more, the search is
# refused rather than answered with some of them (TooMany).
MOST_BOOKINGS = 20_000


class TooMany(BookingError):
    reason = "too_many"


async def appointments(
    uows: UnitOfWorkFactory[HisWork],
    protector: Protector,
    *,
    id_number: str | None = None,
    booking_no: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    statuses: tuple[AppointmentStatus, ...] | None = None,
) -> list[BookingView]:
    """Bookings by the patient's ID number (matched by its keyed hash) or booking number, or
    of one visit day; narrowed by visit dates and statuses. Every match, or TooMany."""
    one_day = date_from if date_from is not None and date_from == date_to else None
    if id_number is None and booking_no is None and one_day is None:
        raise InvalidInput("name the patient, the booking, or one visit day", field="date")
    found = await find_bookings(
        uows,
        protector,
        id_number=id_number,
        booking_no=booking_no,
        visit_date=one_day,
        statuses=statuses,
        limit=MOST_BOOKINGS + 1,
    )
    if len(found) > MOST_BOOKINGS:
        raise TooMany(f"more than {MOST_BOOKINGS} bookings match; narrow the search")
    return [
        v
        for v in found
        if (date_from is None or v.visit_date >= date_from)
        and (date_to is None or v.visit_date <= date_to)
    ]
