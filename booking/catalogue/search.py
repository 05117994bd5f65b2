"""Finding doctors and sessions (seed §3.1, §3.9): by name or work number, department,
fuzzy specialty, visit date and part of day, hospital, and department + date range."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from booking.catalogue.model import Catalogue, Department, Doctor, Hospital, Part
from booking.catalogue.ports import CatalogueWork, SessionFilter
from booking.catalogue.schedule import ClinicSession, SessionStatus, is_released
from booking.clock import Clock
from booking.unit_of_work import UnitOfWorkFactory

SPECIALTY_MATCH = 80


async def load_catalogue(uows: UnitOfWorkFactory[CatalogueWork]) -> Catalogue:
    """The whole catalogue: hospitals, departments, doctors with their weekly duties."""
    async with uows(readonly=True) as uow:
        return await uow.catalogue.load()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def find_hospital(catalogue: Catalogue, text: str) -> Hospital | None:
    key = _norm(text)
    for h in catalogue.hospitals:
        if key in {_norm(n) for n in (h.code, h.name_zh, h.name_en, *h.aliases)}:
            return h
    return None


def find_departments(catalogue: Catalogue, text: str) -> list[Department]:
    key = _norm(text)
    return [
        d
        for d in catalogue.departments
        if key in {_norm(n) for n in (d.code, d.name_zh, d.name_en, *d.aliases)}
    ]


def specialty_matches(doctor: Doctor, text: str) -> bool:
    key = _norm(text)
    return any(
        key in _norm(s) or fuzz.partial_ratio(key, _norm(s)) >= SPECIALTY_MATCH
        for s in doctor.specialties
    )


def search_doctors(
    catalogue: Catalogue,
    *,
    name_or_work_no: str | None = None,
    department: str | None = None,
    specialty: str | None = None,
    hospital: str | None = None,
) -> list[Doctor]:
    doctors = [d for d in catalogue.doctors if d.active]
    if hospital:
        h = find_hospital(catalogue, hospital)
        doctors = [d for d in doctors if h and d.hospital_code == h.code]
    if department:
        wanted = {(d.hospital_code, d.code) for d in find_departments(catalogue, department)}
        doctors = [d for d in doctors if (d.hospital_code, d.department_code) in wanted]
    if name_or_work_no:
        key = _norm(name_or_work_no)
        doctors = [
            d
            for d in doctors
            if key == _norm(d.work_no)
            or key in _norm(d.name)
            or (d.name_en and key in _norm(d.name_en))
        ]
    if specialty:
        doctors = [d for d in doctors if specialty_matches(d, specialty)]
    return doctors


@dataclass(frozen=True)
class SessionOffer:
    """A session as offered to a patient: who, where, when, what it costs, places left."""

    session: ClinicSession
    free: int
    bookable: bool
    doctor: Doctor
    department: Department
    hospital: Hospital
    taking_bookings: bool = False  # open, released, not over: bookable but for its places

    @property
    def waitable(self) -> bool:
        """Full, and a place that comes free could be booked (候补)."""
        return self.free == 0 and self.taking_bookings


async def search_sessions(
    uows: UnitOfWorkFactory[CatalogueWork],
    clock: Clock,
    *,
    doctor: str | None = None,
    department: str | None = None,
    specialty: str | None = None,
    hospital: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    part: Part | None = None,
    include_closed: bool = False,
    catalogue: Catalogue | None = None,
) -> list[SessionOffer]:
    """Open sessions matching the filters; pass `catalogue` when it is at hand already."""
    now = clock.now()
    async with uows(readonly=True) as uow:
        catalogue = catalogue or await uow.catalogue.load()
        doctors = search_doctors(
            catalogue,
            name_or_work_no=doctor,
            department=department,
            specialty=specialty,
            hospital=hospital,
        )
        if not doctors:
            return []
        h = find_hospital(catalogue, hospital) if hospital else None
        found = await uow.sessions.search(
            SessionFilter(
                hospital_code=h.code if h else None,
                doctor_work_nos=tuple(sorted({d.work_no for d in doctors})),
                date_from=date_from,
                date_to=date_to,
                part=part,
                open_only=not include_closed,
            ),
            after=now,
        )
    by_doctor = {(d.hospital_code, d.work_no): d for d in doctors}
    departments = {(d.hospital_code, d.code): d for d in catalogue.departments}
    hospitals = {x.code: x for x in catalogue.hospitals}
    offers = []
    for item in found:
        s = item.session
        key = (s.hospital_code, s.doctor_work_no)
        if key not in by_doctor:
            continue
        hosp = hospitals[s.hospital_code]
        dept = departments[(s.hospital_code, s.department_code)]
        taking = (
            dept.bookable
            and s.status is SessionStatus.OPEN
            and s.ends_at > now
            and is_released(s.visit_date, now, hosp.policy, hosp.timezone)
        )
        if include_closed or s.ends_at > now:
            offers.append(
                SessionOffer(
                    s, item.free, item.free > 0 and taking, by_doctor[key], dept, hosp, taking
                )
            )
    return offers
