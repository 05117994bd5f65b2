"""Import from the HIS (guahao his sync): its doctors and the places of their sessions update
the catalogue and the schedule. Bookings are never touched: a session that exists already
(the same doctor, day and part) is left exactly as it is, with its places and bookings; only
sessions the schedule lacks are created."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from booking.catalogue.model import Catalogue, ClinicType, Department, Doctor, Hospital, Part
from booking.catalogue.schedule import PlannedSession, local_now
from booking.clock import Clock
from booking.errors import InvalidInput
from booking.his.ports import HisWork
from booking.roster.doctors import MAX_CAPACITY
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True)
class HisDoctor:
    hospital_code: str
    work_no: str
    name: str
    name_en: str
    title: str
    department_code: str
    department_name: str
    clinic_type: str
    clinic_type_name: str
    active: bool = True


@dataclass(frozen=True)
class HisPlace:
    """One place (a FHIR Slot) of a doctor's session, with its fees in fen."""

    hospital_code: str
    work_no: str
    starts_at: datetime
    registration_fee_fen: int | None = None
    consultation_fee_fen: int | None = None


@dataclass(frozen=True)
class SyncReport:
    doctors_added: int = 0
    doctors_updated: int = 0
    departments_added: int = 0
    clinic_types_added: int = 0
    sessions_created: int = 0
    sessions_kept: int = 0  # existing already: left as they are, with their bookings
    skipped: int = 0  # doctors or places of a hospital, doctor or part of day not known here
    # Removed by staff here (booking.roster.doctors): never brought back by a sync, nor their
    # sessions; staff add them again in /admin if the removal was a mistake.
    doctors_removed_here: int = 0
    # Inactive in the HIS: neither added nor made inactive here, since removing a doctor
    # closes their sessions and tells their patients (booking.roster.doctors.remove_doctor), which
    # is staff's decision, not an import's.
    doctors_inactive_there: int = 0


def part_of(hospital: Hospital, starts_at: datetime) -> tuple[date, Part] | None:
    """The visit day and part of the day (上午/下午/晚上) a place starting then belongs to."""
    here = local_now(starts_at, hospital.timezone)
    for part, (first, last) in hospital.part_hours.items():
        if first <= here.time() < last:
            return here.date(), part
    return None


# The catalogue's column sizes (booking/store/tables/catalogue.py): longer text from a HIS is
# refused with its field named, before anything is written, rather than failing halfway in the
# database.
_LENGTHS = {
    "work_no": 16, "name": 50, "name_en": 100, "title": 50, "department_code": 16,
    "department_name": 100, "clinic_type": 16, "clinic_type_name": 50,
}  # fmt: skip
MAX_FEE_FEN = 10_000_00  # 10,000 yuan: more is a mistake in the HIS's data


def check_remote(doctors: list[HisDoctor], places: list[HisPlace]) -> None:
    """Raise InvalidInput, naming the doctor and field, for data the catalogue cannot hold."""
    for d in doctors:
        for what, most in _LENGTHS.items():
            value = getattr(d, what)
            if len(value) > most or (not value and what in ("work_no", "department_code")):
                raise InvalidInput(
                    f"the HIS's doctor {d.work_no[:16]!r}: {what} is empty or longer than "
                    f"{most} characters",
                    field=what,
                )
    for p in places:
        if p.starts_at.tzinfo is None:
            raise InvalidInput("the HIS sent a Slot start without a time zone", field="start")
        for fee in (p.registration_fee_fen, p.consultation_fee_fen):
            if fee is not None and not 0 <= fee <= MAX_FEE_FEN:
                raise InvalidInput(f"the HIS sent a fee of {fee / 100} yuan", field="fee")


@dataclass
class _Plan:
    """What a sync changes in the catalogue: only what is new or different."""

    clinic_types: dict[str, ClinicType] = field(default_factory=dict)
    departments: dict[tuple[str, str], Department] = field(default_factory=dict)
    added: list[Doctor] = field(default_factory=list)
    updated: list[Doctor] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("skipped", "removed", "inactive"), 0)
    )


def _plan(
    catalogue: Catalogue, doctors: list[HisDoctor], fees: dict[str, tuple[int, int]]
) -> _Plan:
    plan = _Plan()
    hospitals = {h.code for h in catalogue.hospitals}
    departments = {(d.hospital_code, d.code) for d in catalogue.departments}
    known = {(d.hospital_code, d.work_no): d for d in catalogue.doctors}
    for his in doctors:
        if his.hospital_code not in hospitals:
            plan.counts["skipped"] += 1
            continue
        old = known.get((his.hospital_code, his.work_no))
        if old is not None and not old.active:
            plan.counts["removed"] += 1
            continue
        if not his.active:
            plan.counts["inactive"] += 1
            continue
        code = his.clinic_type
        if code not in catalogue.clinic_types and code not in plan.clinic_types:
            reg, con = fees.get(code, (0, 0))
            name = his.clinic_type_name
            plan.clinic_types[code] = ClinicType(code, name, name, reg, con)
        where = (his.hospital_code, his.department_code)
        if where not in departments and where not in plan.departments:
            name = his.department_name
            plan.departments[where] = Department(*where, name, name)
        base = old or Doctor(his.hospital_code, his.department_code, his.work_no, "", "", "", "")
        new = replace(
            base,
            department_code=his.department_code,
            name=his.name,
            name_en=his.name_en or base.name_en,
            title=his.title,
            clinic_type=code,
        )
        if old is None:
            plan.added.append(new)
        elif new != old:
            plan.updated.append(new)
    return plan


async def _apply(uow: HisWork, catalogue: Catalogue, plan: _Plan) -> None:
    """Writes the plan, and nothing else of the catalogue: another hospital's clinic fees, the
    doctors the HIS did not change and every weekly template stay as they are."""
    if plan.clinic_types or plan.departments:
        involved = {h for h, _ in plan.departments} | {d.hospital_code for d in plan.added}
        if plan.clinic_types:  # in every hospital, as a catalogue import makes them
            involved = {h.code for h in catalogue.hospitals}
        only_new = Catalogue(
            clinic_types=plan.clinic_types,
            hospitals=tuple(h for h in catalogue.hospitals if h.code in involved),
            departments=tuple(plan.departments.values()),
            doctors=(),
        )
        await uow.catalogue.upsert(only_new)
    for doctor in plan.added:
        if await uow.doctors.add(doctor) is None:
            raise InvalidInput(f"the HIS's doctor {doctor.work_no!r} cannot be added here")
    for doctor in plan.updated:
        if not await uow.doctors.update(doctor):
            raise InvalidInput(f"the HIS's doctor {doctor.work_no!r} cannot be updated here")


async def sync_from_his(
    uows: UnitOfWorkFactory[HisWork],
    clock: Clock,
    doctors: list[HisDoctor],
    places: list[HisPlace],
    by: Actor,
) -> SyncReport:
    check_remote(doctors, places)
    now = clock.now()
    fees = {
        d.clinic_type: (p.registration_fee_fen, p.consultation_fee_fen)
        for d in doctors
        for p in places
        if p.work_no == d.work_no and p.hospital_code == d.hospital_code
        and p.registration_fee_fen is not None and p.consultation_fee_fen is not None
    }  # fmt: skip
    async with uows() as uow:
        catalogue = await uow.catalogue.load()
        plan = _plan(catalogue, doctors, fees)
        await _apply(uow, catalogue, plan)
        counts = plan.counts
        hospitals = {h.code: h for h in catalogue.hospitals}
        doctor_keys = {(d.hospital_code, d.work_no) for d in catalogue.doctors if d.active}
        doctor_keys |= {(d.hospital_code, d.work_no) for d in plan.added}
        doctor_keys -= {(d.hospital_code, d.work_no) for d in doctors if not d.active}
        sessions: dict[tuple[str, str], dict[tuple[date, Part], int]] = {}
        skipped = counts["skipped"]
        for place in places:
            key = (place.hospital_code, place.work_no)
            hospital = hospitals.get(place.hospital_code)
            when = part_of(hospital, place.starts_at) if hospital else None
            if when is None or key not in doctor_keys:
                skipped += 1
                continue
            per_doctor = sessions.setdefault(key, {})
            per_doctor[when] = per_doctor.get(when, 0) + 1
        created = planned_total = 0
        for (hospital_code, work_no), per_session in sorted(sessions.items()):
            if max(per_session.values()) > MAX_CAPACITY:
                raise InvalidInput(
                    f"the HIS's doctor {work_no!r} has a session of more than {MAX_CAPACITY} "
                    "places",
                    field="capacity",
                )  # nothing is saved: the transaction is not committed
            planned = [PlannedSession(day, part, n) for (day, part), n in per_session.items()]
            planned_total += len(planned)
            created += await uow.sessions.ensure(hospital_code, work_no, planned, now)
        report = SyncReport(
            doctors_added=len(plan.added),
            doctors_updated=len(plan.updated),
            departments_added=len(plan.departments),
            clinic_types_added=len(plan.clinic_types),
            sessions_created=created,
            sessions_kept=planned_total - created,
            skipped=skipped,
            doctors_removed_here=counts["removed"],
            doctors_inactive_there=counts["inactive"],
        )
        await uow.audit.add(by.did(now, audit.HIS_SYNC, None, None, report.__dict__.copy()))
        await uow.commit()
    return report
