"""Loading the catalogue and generating the duty roster (排班) from weekly templates; the
registration desk's sheet of sessions and each doctor's bookings per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from booking.appointments.model import BookingView
from booking.appointments.ports import BookingFilter
from booking.catalogue.model import Catalogue, Doctor, Hospital
from booking.catalogue.ports import ImportReport, SessionFilter
from booking.catalogue.schedule import local_now, plan_sessions
from booking.clock import Clock
from booking.errors import InvalidInput, NotFound
from booking.roster.ports import RosterWork, SessionLine
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

MAX_ROSTER_DAYS = 92  # a quarter at a time: long enough for a term, short enough to check


async def import_catalogue(
    uows: UnitOfWorkFactory[RosterWork], catalogue: Catalogue
) -> ImportReport:
    """Insert or update hospitals, departments, doctors and templates; safe to run again."""
    async with uows() as uow:
        report = await uow.catalogue.upsert(catalogue)
        await uow.commit()
    return report


async def generate_sessions(
    uows: UnitOfWorkFactory[RosterWork], clock: Clock, extra_days: int = 0
) -> int:
    """Create the sessions of every doctor's templates for the booking window (and
    ``extra_days`` more), from today on. Existing sessions are left as they are."""
    now = clock.now()
    created = 0
    async with uows() as uow:
        catalogue = await uow.catalogue.load()
        hospitals = {h.code: h for h in catalogue.hospitals}
        for doctor in catalogue.doctors:
            hospital = hospitals[doctor.hospital_code]
            today = local_now(now, hospital.timezone).date()
            last = today + timedelta(days=hospital.policy.window_days + extra_days)
            created += (await _ensure(uow, doctor, hospital, today, last, now))[0]
        await uow.commit()
    return created


async def _ensure(
    uow: RosterWork, doctor: Doctor, hospital: Hospital, first: date, last: date, now: datetime
) -> tuple[int, int]:
    """(sessions created, sessions planned) for one doctor from first through last.

    The catalogue was read without locks: the doctor is read again with their row held,
    so a removal committed since (or still running) is seen and no session is created for
    an inactive doctor; one that comes after waits, then closes what was made."""
    if not doctor.active or not doctor.templates or last < first:
        return 0, 0
    current = await uow.doctors.active_doctor(doctor.hospital_code, doctor.work_no)
    if current is None or not current.templates:
        return 0, 0
    planned = plan_sessions(current.templates, first, (last - first).days)
    created = await uow.sessions.ensure(hospital.code, doctor.work_no, planned, now)
    return created, len(planned)


@dataclass(frozen=True)
class RosterReport:
    created: int  # sessions new in the period
    existed: int  # sessions there already (left as they were, open or stopped)
    doctors: int  # active doctors with weekly templates in the chosen departments


async def generate_roster(
    uows: UnitOfWorkFactory[RosterWork],
    clock: Clock,
    date_from: date,
    date_to: date,
    *,
    hospital_code: str | None = None,
    department_code: str | None = None,
    by: Actor | None = None,
) -> RosterReport:
    """排班 for a period: the sessions of every active doctor's weekly templates from
    ``date_from`` through ``date_to`` (from today on), in one hospital or department or all.
    Sessions already there are left as they are, bookings and stops included."""
    if date_to < date_from:
        raise InvalidInput("the period ends before it starts", field="to")
    if (date_to - date_from).days >= MAX_ROSTER_DAYS:
        raise InvalidInput(f"at most {MAX_ROSTER_DAYS} days at a time", field="to")
    if department_code and not hospital_code:
        raise InvalidInput("a department is chosen with its hospital", field="department")
    now = clock.now()
    created = planned = doctors = 0
    async with uows() as uow:
        catalogue = await uow.catalogue.load()
        if department_code and not any(
            (d.hospital_code, d.code) == (hospital_code, department_code)
            for d in catalogue.departments
        ):
            raise NotFound("no such department", what="department")
        hospitals = {h.code: h for h in catalogue.hospitals}
        if hospital_code and hospital_code not in hospitals:
            raise NotFound("no such hospital", what="hospital")
        for doctor in catalogue.doctors:
            if hospital_code and doctor.hospital_code != hospital_code:
                continue
            if department_code and doctor.department_code != department_code:
                continue
            hospital = hospitals[doctor.hospital_code]
            first = max(date_from, local_now(now, hospital.timezone).date())
            made, plan = await _ensure(uow, doctor, hospital, first, date_to, now)
            created, planned = created + made, planned + plan
            doctors += bool(doctor.active and doctor.templates)
        report = RosterReport(created=created, existed=planned - created, doctors=doctors)
        if by is not None:
            after = {
                "from": date_from.isoformat(),
                "to": date_to.isoformat(),
                "hospital": hospital_code,
                "department": department_code,
                "created": report.created,
                "existed": report.existed,
            }
            target = f"{hospital_code or '*'}/{department_code or '*'}"
            await uow.audit.add(by.did(now, audit.ROSTER_GENERATE, target, None, after))
        await uow.commit()
    return report


async def session_sheet(
    uows: UnitOfWorkFactory[RosterWork],
    first: date,
    last: date | None = None,
    *,
    hospital_code: str | None = None,
    department_code: str | None = None,
    work_no: str | None = None,
) -> list[SessionLine]:
    """The sessions of a day (or days), open and stopped, with their bookings and places."""
    f = SessionFilter(
        hospital_code=hospital_code,
        department_code=department_code,
        doctor_work_nos=(work_no,) if work_no else None,
        date_from=first,
        date_to=last or first,
        open_only=False,
    )
    async with uows(readonly=True) as uow:
        return await uow.doctors.sheet(f)


async def session_bookings(
    uows: UnitOfWorkFactory[RosterWork], session_id: int
) -> tuple[SessionLine, list[BookingView]]:
    """One session and its bookings by queue number (cancelled ones too): the doctor's list."""
    async with uows(readonly=True) as uow:
        session = await uow.sessions.get(session_id)
        if session is None:
            raise NotFound("no such session", what="session")
        [line] = [
            x
            for x in await uow.doctors.sheet(
                SessionFilter(
                    hospital_code=session.hospital_code,
                    doctor_work_nos=(session.doctor_work_no,),
                    date_from=session.visit_date,
                    date_to=session.visit_date,
                    part=session.part,
                    open_only=False,
                )
            )
            if x.session.id == session_id
        ]
        views = await uow.appointments.views(
            BookingFilter(
                hospital_code=session.hospital_code,
                doctor_work_no=session.doctor_work_no,
                visit_date=session.visit_date,
                limit=2000,
            )
        )
    mine = sorted((v for v in views if v.session_id == session_id), key=lambda v: v.queue_no)
    return line, mine
