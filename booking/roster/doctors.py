"""Doctors (B2): the back office adds a doctor, edits the record and specialties, sets the
weekly duty templates, and removes (deactivates) a doctor. Each change is audited in its own
transaction, by fields and codes: the audit log never holds names.

Sessions generated already keep what they were made with: a new template, capacity,
department or clinic type shows in the sessions generated from then on (booking.roster).
A doctor is never deleted: bookings, reports and the HIS refer to them by work number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from booking.appointments.book import where_held
from booking.appointments.waitlist_offers import close_for_stop
from booking.catalogue.model import Doctor, DutyTemplate, Part
from booking.catalogue.ports import SessionFilter
from booking.clock import Clock
from booking.errors import BookingError, InvalidInput, NotFound
from booking.roster.ports import RosterWork
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

WORK_NO = re.compile(r"^[0-9A-Za-z]{1,16}$")
_SEPARATORS = re.compile(r"[,，、;；\n]+")
MAX_SPECIALTIES = 20
MAX_CAPACITY = 500
RETIRED = "医生已停止出诊 The doctor no longer holds clinics"


class WorkNoTaken(BookingError):
    reason = "work_no_taken"


class HasFutureBookings(BookingError):
    """A doctor with bookings still to come is not removed silently: their sessions are
    stopped first (停诊), which tells each patient and offers a transfer."""

    reason = "has_future_bookings"


@dataclass(frozen=True)
class DoctorForm:
    """A doctor's record as typed in the back office."""

    department_code: str
    name: str
    title: str
    clinic_type: str
    specialties: str  # separated by commas, 、 or semicolons
    name_en: str = ""
    active: bool = True


def _clean(text: str, limit: int) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())[:limit]


def parse_specialties(text: str) -> tuple[str, ...]:
    """'冠心病、高血压, 心衰' → ('冠心病', '高血压', '心衰'); repeats dropped, order kept."""
    found = dict.fromkeys(
        s for s in (_clean(part, 30) for part in _SEPARATORS.split(text or "")) if s
    )
    if len(found) > MAX_SPECIALTIES:
        raise InvalidInput(f"at most {MAX_SPECIALTIES} specialties", field="specialties")
    return tuple(found)


def check_work_no(text: str) -> str:
    work_no = _clean(text, 32)
    if not WORK_NO.match(work_no):
        raise InvalidInput("a work number is 1-16 letters or digits", field="work_no")
    return work_no


def _doctor_from(form: DoctorForm, hospital_code: str, work_no: str) -> Doctor:
    name = _clean(form.name, 60)
    if not name or len(name) > 50 or any(c.isdigit() or c in "<>" for c in name):
        raise InvalidInput("a doctor's name has 1-50 letters and no digits", field="name")
    title = _clean(form.title, 60)
    if not title or len(title) > 50:
        raise InvalidInput("a title (职称) has 1-50 characters", field="title")
    name_en = _clean(form.name_en, 120)
    if len(name_en) > 100:
        raise InvalidInput("an English name has at most 100 characters", field="name_en")
    return Doctor(
        hospital_code=hospital_code,
        department_code=_clean(form.department_code, 16).upper(),
        work_no=work_no,
        name=name,
        name_en=name_en,
        title=title,
        clinic_type=_clean(form.clinic_type, 16).lower(),
        specialties=parse_specialties(form.specialties),
        active=form.active,
    )


def audited_fields(doctor: Doctor) -> dict[str, Any]:
    """What the audit log keeps of a doctor's record: codes, title and specialties."""
    return {
        "hospital": doctor.hospital_code,
        "department": doctor.department_code,
        "clinic_type": doctor.clinic_type,
        "title": doctor.title,
        "specialties": list(doctor.specialties),
        "active": doctor.active,
    }


def _changes(old: Doctor, new: Doctor) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = audited_fields(old), audited_fields(new)
    changed = {k for k in after if before[k] != after[k]}
    b = {k: v for k, v in before.items() if k in changed}
    a = {k: v for k, v in after.items() if k in changed}
    names = [k for k in ("name", "name_en") if getattr(old, k) != getattr(new, k)]
    if names:  # that they changed, not what to
        a["names_changed"] = names
    return b, a


def _target(doctor: Doctor) -> str:
    """How the audit log names a doctor: H01/00868, as the back office's addresses do."""
    return f"{doctor.hospital_code}/{doctor.work_no}"


async def _check_codes(uow: RosterWork, doctor: Doctor) -> None:
    catalogue = await uow.catalogue.load()
    if doctor.clinic_type not in catalogue.clinic_types:
        raise NotFound("no such clinic type", what="clinic_type")
    if not any(
        (d.hospital_code, d.code) == (doctor.hospital_code, doctor.department_code)
        for d in catalogue.departments
    ):
        raise NotFound("no such department in this hospital", what="department")


async def find_doctor(
    uows: UnitOfWorkFactory[RosterWork], hospital_code: str, work_no: str
) -> Doctor | None:
    """A doctor is named by hospital and work number: the schema (and an imported or synced
    catalogue) allows one number in two hospitals."""
    async with uows(readonly=True) as uow:
        return await uow.doctors.doctor(hospital_code, work_no)


async def _the_doctor(uow: RosterWork, hospital_code: str, work_no: str) -> Doctor:
    found = await uow.doctors.doctor(hospital_code, work_no, lock=True)
    if found is None:
        raise NotFound("no doctor with this work number", what="doctor")
    return found


async def add_doctor(
    uows: UnitOfWorkFactory[RosterWork],
    clock: Clock,
    hospital_code: str,
    work_no: str,
    form: DoctorForm,
    by: Actor,
) -> Doctor:
    """A new doctor, bookable by buttons as soon as their sessions are generated. Work
    numbers are unique in the whole group, so that a number names one doctor anywhere (the
    bot's dialogue takes it so); the store checks that, adds taking turns (WorkNoTaken)."""
    now = clock.now()
    doctor = _doctor_from(form, hospital_code.strip().upper(), check_work_no(work_no))
    async with uows() as uow:
        await _check_codes(uow, doctor)
        added = await uow.doctors.add(doctor)
        if added is None:
            raise NotFound("no such hospital, department or clinic type", what="department")
        after = audited_fields(added)
        await uow.audit.add(by.did(now, audit.DOCTOR_ADD, _target(added), None, after))
        await uow.commit()
    return added


async def edit_doctor(
    uows: UnitOfWorkFactory[RosterWork],
    clock: Clock,
    hospital_code: str,
    work_no: str,
    form: DoctorForm,
    by: Actor,
) -> Doctor:
    """Saves the record; made inactive, the doctor is removed as remove_doctor does."""
    now = clock.now()
    async with uows() as uow:
        old = await _the_doctor(uow, hospital_code, work_no)
        new = replace(_doctor_from(form, old.hospital_code, old.work_no), id=old.id)
        new = replace(new, templates=old.templates)
        await _check_codes(uow, new)
        before, after = _changes(old, new)
        if not after:
            return old
        if old.active and not new.active:
            after["sessions_closed"] = await _retire(uow, old, now)
        await uow.doctors.update(new)
        await uow.audit.add(by.did(now, audit.DOCTOR_EDIT, _target(old), before, after))
        await uow.commit()
    return new


async def remove_doctor(
    uows: UnitOfWorkFactory[RosterWork], clock: Clock, hospital_code: str, work_no: str, by: Actor
) -> int:
    """删除医生: the doctor becomes inactive (no new sessions, not offered to patients) and
    their sessions still to come are closed; refused (HasFutureBookings) while any of those
    holds a booking. The number of sessions closed."""
    now = clock.now()
    async with uows() as uow:
        doctor = await _the_doctor(uow, hospital_code, work_no)
        if not doctor.active:
            return 0
        closed = await _retire(uow, doctor, now)
        await uow.doctors.update(replace(doctor, active=False))
        after = {"active": False, "sessions_closed": closed}
        entry = by.did(now, audit.DOCTOR_REMOVE, _target(doctor), {"active": True}, after)
        await uow.audit.add(entry)
        await uow.commit()
    return closed


async def _retire(uow: RosterWork, doctor: Doctor, now: datetime) -> int:
    """Closes the doctor's sessions that have not started. They are stopped before their
    bookings are counted: a stop takes a session's row alone, so no booking slips in after
    the count (and if one was there, the whole change is rolled back)."""
    found = await uow.sessions.search(
        SessionFilter(
            hospital_code=doctor.hospital_code,
            doctor_work_nos=(doctor.work_no,),
            date_from=(now - timedelta(days=1)).date(),  # today, in any hospital's zone
            open_only=True,
        ),
        after=now,
    )
    ahead = [f.session for f in found if f.session.starts_at > now]
    for session in ahead:
        await uow.sessions.stop(session.id, RETIRED)
    holding = {s.id: len(await uow.appointments.holding_places(s.id)) for s in ahead}
    if any(holding.values()):
        raise HasFutureBookings(
            "this doctor has bookings still to come; stop those sessions first",
            bookings=sum(holding.values()),
            sessions=[sid for sid, n in holding.items() if n],
        )
    for session in ahead:
        hospital, _ = await where_held(uow, session)
        await close_for_stop(uow, session, hospital, RETIRED, now)
        await uow.sessions.withdraw_places(session.id)
    return len(ahead)


def check_template(weekday: int, part: str, capacity: int) -> DutyTemplate:
    if not 1 <= weekday <= 7:
        raise InvalidInput("a weekday is 1 (Monday) to 7 (Sunday)", field="weekday")
    if part not in {p.value for p in Part}:
        raise InvalidInput("a part of the day is am, pm or eve", field="part")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"a session has 1 to {MAX_CAPACITY} places", field="capacity")
    return DutyTemplate(weekday, Part(part), capacity)


def _template_fields(t: DutyTemplate) -> dict[str, Any]:
    return {"weekday": t.weekday, "part": t.part.value, "capacity": t.capacity}


async def set_template(
    uows: UnitOfWorkFactory[RosterWork],
    clock: Clock,
    hospital_code: str,
    work_no: str,
    template: DutyTemplate,
    by: Actor,
) -> None:
    """Adds a weekly duty (or changes its capacity), for the sessions generated from now."""
    now = clock.now()
    async with uows() as uow:
        doctor = await _the_doctor(uow, hospital_code, work_no)
        assert doctor.id is not None
        old = await uow.doctors.put_template(doctor.id, template)
        before = _template_fields(old) if old else None
        fields = _template_fields(template)
        entry = by.did(now, audit.TEMPLATE_ADD, _target(doctor), before, fields)
        await uow.audit.add(entry)
        await uow.commit()


async def remove_template(
    uows: UnitOfWorkFactory[RosterWork],
    clock: Clock,
    hospital_code: str,
    work_no: str,
    weekday: int,
    part: Part,
    by: Actor,
) -> None:
    """Removes a weekly duty; sessions generated from it already stay (stop them if need be)."""
    now = clock.now()
    async with uows() as uow:
        doctor = await _the_doctor(uow, hospital_code, work_no)
        assert doctor.id is not None
        old = await uow.doctors.remove_template(doctor.id, weekday, part)
        if old is None:
            raise NotFound("no such weekly duty", what="template")
        entry = by.did(now, audit.TEMPLATE_REMOVE, _target(doctor), _template_fields(old), None)
        await uow.audit.add(entry)
        await uow.commit()
