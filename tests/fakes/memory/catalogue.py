"""The catalogue's repositories in memory: hospitals, departments, doctors, sessions and their
places. A place is claimed only while it is free, as the SQL's conditional update does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from booking.catalogue.model import Catalogue, Department, Doctor, Hospital, Part
from booking.catalogue.ports import ClaimedPlace, ImportReport, SessionAvailability, SessionFilter
from booking.catalogue.schedule import (
    ClinicSession,
    PlaceStatus,
    PlannedSession,
    SessionStatus,
    place_times,
    session_span,
)
from tests.fakes.memory.state import Place, State, Unfinished


def _claimed(place: Place) -> ClaimedPlace:
    return ClaimedPlace(place.id, place.queue_no, place.starts_at, place.ends_at)


class MemoryCatalogue:
    def __init__(self, state: State) -> None:
        self.state = state

    async def load(self) -> Catalogue:
        s = self.state
        return Catalogue(
            clinic_types={t.code: t for t in s.clinic_types.values()},
            hospitals=tuple(s.hospitals.values()),
            departments=tuple(s.departments.values()),
            doctors=tuple(sorted(s.doctors.values(), key=lambda d: d.work_no)),
        )

    async def hospital_and_department(
        self, hospital_code: str, department_code: str
    ) -> tuple[Hospital, Department] | None:
        hospital = self.state.hospitals.get(hospital_code)
        department = self.state.departments.get((hospital_code, department_code))
        return None if hospital is None or department is None else (hospital, department)

    async def upsert(self, catalogue: Catalogue) -> ImportReport:
        s = self.state
        for h in catalogue.hospitals:
            known = s.hospitals.get(h.code)
            s.hospitals[h.code] = replace(h, id=known.id if known else s.new_id())
            for t in catalogue.clinic_types.values():
                s.clinic_types[(h.code, t.code)] = t
        for d in catalogue.departments:
            known_d = s.departments.get((d.hospital_code, d.code))
            s.departments[(d.hospital_code, d.code)] = replace(
                d, id=known_d.id if known_d else s.new_id()
            )
        templates = 0
        for doc in catalogue.doctors:
            key = (doc.hospital_code, doc.work_no.lower())
            known_doc = s.doctors.get(key)
            s.doctors[key] = replace(
                doc,
                work_no=known_doc.work_no if known_doc else doc.work_no,
                id=known_doc.id if known_doc else s.new_id(),
            )
            templates += len({(t.weekday, t.part) for t in doc.templates})
        return ImportReport(
            hospitals=len(catalogue.hospitals),
            departments=len(catalogue.departments),
            doctors=len(catalogue.doctors),
            templates=templates,
        )


class MemoryDoctors(Unfinished):
    """Only what generating sessions reads (booking.roster.duty)."""

    def __init__(self, state: State) -> None:
        self.state = state

    async def doctor(
        self, hospital_code: str, work_no: str, *, lock: bool = False
    ) -> Doctor | None:
        return self.state.doctors.get((hospital_code, work_no.lower()))

    async def active_doctor(self, hospital_code: str, work_no: str) -> Doctor | None:
        doctor = await self.doctor(hospital_code, work_no)
        return doctor if doctor is not None and doctor.active else None


class MemorySessions:
    def __init__(self, state: State, freed: set[int]) -> None:
        self.state = state
        self.freed = freed

    async def ensure(
        self,
        hospital_code: str,
        doctor_work_no: str,
        planned: list[PlannedSession],
        now: datetime,
    ) -> int:
        s = self.state
        doctor = s.doctors.get((hospital_code, doctor_work_no.lower()))
        if doctor is None or not planned:
            return 0
        hospital = s.hospitals[hospital_code]
        clinic = s.clinic_types[(hospital_code, doctor.clinic_type)]
        existing = {
            (x.visit_date, x.part)
            for x in s.sessions.values()
            if x.hospital_code == hospital_code and x.doctor_work_no == doctor.work_no
        }
        created = 0
        for plan in planned:
            if (plan.visit_date, plan.part) in existing:
                continue
            starts, ends = session_span(
                plan.visit_date, hospital.part_hours[plan.part], hospital.timezone
            )
            session = ClinicSession(
                id=s.new_id(),
                hospital_code=hospital_code,
                department_code=doctor.department_code,
                doctor_work_no=doctor.work_no,
                visit_date=plan.visit_date,
                part=plan.part,
                starts_at=starts,
                ends_at=ends,
                capacity=plan.capacity,
                status=SessionStatus.OPEN,
                registration_fee_fen=clinic.registration_fee_fen,
                consultation_fee_fen=clinic.consultation_fee_fen,
                clinic_type=clinic.code,
            )
            s.sessions[session.id] = session
            s.places[session.id] = [
                Place(s.new_id(), session.id, p.queue_no, p.starts_at, p.ends_at)
                for p in place_times(starts, ends, plan.capacity)
            ]
            created += 1
        return created

    async def get(self, session_id: int, *, for_booking: bool = False) -> ClinicSession | None:
        return self.state.sessions.get(session_id)

    async def find(
        self, hospital_code: str | None, doctor_work_no: str, visit_date: date, part: Part
    ) -> list[ClinicSession]:
        return [
            x
            for x in self.state.sessions.values()
            if x.doctor_work_no.lower() == doctor_work_no.lower()
            and (x.visit_date, x.part) == (visit_date, part)
            and (not hospital_code or x.hospital_code == hospital_code)
        ]

    async def search(self, f: SessionFilter, after: datetime) -> list[SessionAvailability]:
        found = [
            SessionAvailability(x, self._free(x.id, after))
            for x in self.state.sessions.values()
            if _matches(x, f)
        ]
        return sorted(found, key=lambda a: (a.session.starts_at, a.session.doctor_work_no))

    async def free_places(self, session_id: int, after: datetime) -> int:
        return self._free(session_id, after)

    def _free(self, session_id: int, after: datetime) -> int:
        return len(self._free_list(session_id, after))

    def _free_list(self, session_id: int, after: datetime) -> list[Place]:
        return [
            p
            for p in self.state.places.get(session_id, [])
            if p.status is PlaceStatus.FREE and p.starts_at > after
        ]

    async def claim_place(
        self, session_id: int, after: datetime, queue_no: int | None
    ) -> ClaimedPlace | None:
        return self.take_free(session_id, after, queue_no, PlaceStatus.BUSY)

    def take_free(
        self, session_id: int, after: datetime, queue_no: int | None, becomes: PlaceStatus
    ) -> ClaimedPlace | None:
        free = [
            p
            for p in self._free_list(session_id, after)
            if queue_no is None or p.queue_no == queue_no
        ]
        if not free:
            return None
        place = min(free, key=lambda p: p.queue_no)
        self._put(place, becomes)
        return _claimed(place)

    def _put(self, place: Place, status: PlaceStatus) -> None:
        places = self.state.places[place.session_id]
        places[places.index(place)] = replace(place, status=status)

    async def place_times(self, session_id: int, queue_no: int) -> ClaimedPlace | None:
        for place in self.state.places.get(session_id, []):
            if place.queue_no == queue_no:
                return _claimed(place)
        return None

    async def set_place(
        self, session_id: int, queue_no: int, was: PlaceStatus, becomes: PlaceStatus
    ) -> bool:
        if becomes is PlaceStatus.FREE:
            self.freed.add(session_id)
        for place in self.state.places.get(session_id, []):
            if place.queue_no == queue_no and place.status is was:
                self._put(place, becomes)
                return True
        return False

    async def hold_free_place(self, session_id: int, after: datetime) -> ClaimedPlace | None:
        return self.take_free(session_id, after, None, PlaceStatus.BUSY_TENTATIVE)

    async def stop(self, session_id: int, reason: str) -> bool:
        session = self.state.sessions.get(session_id)
        if session is None or session.status is not SessionStatus.OPEN:
            return False
        self.state.sessions[session_id] = replace(
            session, status=SessionStatus.STOPPED, stop_reason=reason
        )
        return True

    async def withdraw_places(self, session_id: int) -> None:
        self.freed.add(session_id)
        places = self.state.places.get(session_id, [])
        places[:] = [replace(p, status=PlaceStatus.BUSY_UNAVAILABLE) for p in places]

    async def busy_places(self, session_id: int) -> int:
        places = self.state.places.get(session_id, [])
        return sum(p.status is PlaceStatus.BUSY for p in places)


def _matches(x: ClinicSession, f: SessionFilter) -> bool:
    wanted = None if f.doctor_work_nos is None else {w.lower() for w in f.doctor_work_nos}
    return (
        (not f.hospital_code or x.hospital_code == f.hospital_code)
        and (not f.department_code or x.department_code == f.department_code)
        and (wanted is None or x.doctor_work_no.lower() in wanted)
        and (not f.date_from or x.visit_date >= f.date_from)
        and (not f.date_to or x.visit_date <= f.date_to)
        and (not f.part or x.part == f.part)
        and (not f.open_only or x.status is SessionStatus.OPEN)
    )
