"""Doctors, specialties, weekly templates and the roster (B2); the sessions' pages are added
with them (backoffice/session_routes.py).

GET  {prefix}/doctors                        doctors by department, the add form (MANAGE_DOCTORS)
POST {prefix}/doctors                        add a doctor
GET  {prefix}/doctors/{hospital}/{work_no}    the record, weekly templates, sessions ahead
POST {prefix}/doctors/{hospital}/{work_no}    save the record
POST {prefix}/doctors/{hospital}/{work_no}/templates    add a weekly duty, or change its places
POST {prefix}/doctors/{hospital}/{work_no}/templates/remove
POST {prefix}/doctors/{hospital}/{work_no}/remove  deactivate (refused while bookings are to come)
A doctor is addressed by hospital and work number: the schema, an imported catalogue and
the HIS allow one number in two hospitals (H01/00868, as FHIR's Practitioner H01-00868).
GET/POST {prefix}/roster                     generate the sessions of a period
Every post carries the CSRF token; every change is audited with it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from backoffice import doctor_pages
from backoffice.console import Console, Services, Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from backoffice.session_routes import missing, say, scope_of, today
from booking.catalogue.search import load_catalogue
from booking.errors import BookingError, InvalidInput
from booking.roster.doctors import (
    DoctorForm,
    HasFutureBookings,
    add_doctor,
    check_template,
    edit_doctor,
    find_doctor,
    remove_doctor,
    remove_template,
    set_template,
)
from booking.roster.duty import generate_roster, session_sheet
from booking.staff import audit
from booking.staff.model import Permission

WORK_NO_PATH = r"^[0-9A-Za-z]{1,16}$"
HospitalCode = Annotated[str, Path(pattern=WORK_NO_PATH)]
WorkNo = Annotated[str, Path(pattern=WORK_NO_PATH)]
DONE = {
    "added": "医生已添加；请添加每周出诊并生成排班。Added: now add weekly duties, then generate.",
    "saved": "已保存。Saved.",
    "template_added": "每周出诊已保存。The weekly duty is saved.",
    "template_removed": "每周出诊已删除。The weekly duty is removed.",
    "removed": "医生已停用。The doctor is removed (inactive).",
}


def _form(form: dict[str, str], *, adding: bool = False) -> DoctorForm:
    """A new doctor is active; an edited one is as its checkbox says."""
    _, department = scope_of(form.get("department", ""))
    return DoctorForm(
        department_code=department or "",
        name=form.get("name", ""),
        name_en=form.get("name_en", ""),
        title=form.get("title", ""),
        clinic_type=form.get("clinic_type", ""),
        specialties=form.get("specialties", ""),
        active=adding or bool(form.get("active")),
    )


router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayManageDoctors = Annotated[Staff, Depends(may(Permission.MANAGE_DOCTORS))]


async def doctor_page(
    console: Console,
    s: Services,
    staff: Staff,
    hospital: str,
    work_no: str,
    status: int = 200,
    *,
    message: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    blocking: tuple[int, ...] = (),
) -> Response:
    found = await find_doctor(s.uows, hospital, work_no)
    if found is None:
        return missing(
            console.prefix, staff, "没有这个工号的医生。No doctor with this work number."
        )
    ahead = await session_sheet(
        s.uows, today(s), today(s) + timedelta(days=14),
        hospital_code=found.hospital_code, work_no=found.work_no,
    )  # fmt: skip
    catalogue = await load_catalogue(s.uows)
    html = doctor_pages.doctor(
        console.prefix, (staff.account, staff.csrf), catalogue, found, ahead,
        message=message, error=error, typed=typed, blocking=blocking,
    )  # fmt: skip
    return page(html, status_code=status)


@router.get("/doctors")
async def doctors(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
) -> Response:
    catalogue = await load_catalogue(s.uows)
    return page(doctor_pages.doctors(console.prefix, (staff.account, staff.csrf), catalogue))


@router.post("/doctors", dependencies=[CSRF])
async def add(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    form: PostedForm,
) -> Response:
    try:
        hospital, _ = scope_of(form.get("department", ""))
        added = await add_doctor(
            s.uows,
            s.clock,
            hospital or "",
            form.get("work_no", ""),
            _form(form, adding=True),
            staff.actor,
        )
    except BookingError as error:
        catalogue = await load_catalogue(s.uows)
        html = doctor_pages.doctors(
            console.prefix, (staff.account, staff.csrf), catalogue, error=say(error), typed=form
        )
        return page(html, status_code=409 if error.reason == "work_no_taken" else 400)
    where = f"{console.prefix}/doctors/{added.hospital_code}/{added.work_no}?done=added"
    return RedirectResponse(where, status_code=303)


@router.get("/doctors/{hospital}/{work_no}")
async def show(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    hospital: HospitalCode,
    work_no: WorkNo,
    done: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    return await doctor_page(console, s, staff, hospital, work_no, message=DONE.get(done))


@router.post("/doctors/{hospital}/{work_no}", dependencies=[CSRF])
async def save(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    form: PostedForm,
    hospital: HospitalCode,
    work_no: WorkNo,
) -> Response:
    try:
        await edit_doctor(s.uows, s.clock, hospital, work_no, _form(form), staff.actor)
    except BookingError as error:
        return await refused(console, s, staff, hospital, work_no, error, typed=form)
    where = f"{console.prefix}/doctors/{hospital}/{work_no}?done=saved"
    return RedirectResponse(where, status_code=303)


async def refused(
    console: Console,
    s: Services,
    staff: Staff,
    hospital: str,
    work_no: str,
    error: BookingError,
    typed: dict[str, str] | None = None,
) -> Response:
    blocking: tuple[int, ...] = ()
    if isinstance(error, HasFutureBookings):  # nothing changed; the attempt is kept
        blocking = tuple(error.details.get("sessions", ()))
        bookings = error.details.get("bookings")
        after = {"action": "doctor.remove", "reason": error.reason, "bookings": bookings}
        target = f"{hospital}/{work_no}"
        entry = staff.actor.did(s.clock.now(), audit.SCHEDULE_REFUSED, target, None, after)
        await audit.record(s.uows, entry)
    status = 409 if isinstance(error, HasFutureBookings) else 400
    if error.reason == "not_found":
        status = 404
    return await doctor_page(
        console,
        s,
        staff,
        hospital,
        work_no,
        status,
        error=say(error),
        typed=typed,
        blocking=blocking,
    )


@router.post("/doctors/{hospital}/{work_no}/templates", dependencies=[CSRF])
async def add_template(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    form: PostedForm,
    hospital: HospitalCode,
    work_no: WorkNo,
) -> Response:
    try:
        template = check_template(
            _number(form, "weekday"), form.get("part", ""), _number(form, "capacity")
        )
        await set_template(s.uows, s.clock, hospital, work_no, template, staff.actor)
    except BookingError as error:
        return await refused(console, s, staff, hospital, work_no, error)
    where = f"{console.prefix}/doctors/{hospital}/{work_no}?done=template_added"
    return RedirectResponse(where, status_code=303)


@router.post("/doctors/{hospital}/{work_no}/templates/remove", dependencies=[CSRF])
async def drop_template(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    form: PostedForm,
    hospital: HospitalCode,
    work_no: WorkNo,
) -> Response:
    try:
        duty = check_template(_number(form, "weekday"), form.get("part", ""), 1)
        await remove_template(
            s.uows, s.clock, hospital, work_no, duty.weekday, duty.part, staff.actor
        )
    except BookingError as error:
        return await refused(console, s, staff, hospital, work_no, error)
    where = f"{console.prefix}/doctors/{hospital}/{work_no}?done=template_removed"
    return RedirectResponse(where, status_code=303)


@router.post("/doctors/{hospital}/{work_no}/remove", dependencies=[CSRF])
async def remove(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    hospital: HospitalCode,
    work_no: WorkNo,
) -> Response:
    try:
        await remove_doctor(s.uows, s.clock, hospital, work_no, staff.actor)
    except BookingError as error:
        return await refused(console, s, staff, hospital, work_no, error)
    where = f"{console.prefix}/doctors/{hospital}/{work_no}?done=removed"
    return RedirectResponse(where, status_code=303)


@router.get("/roster")
async def roster_form(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
) -> Response:
    catalogue = await load_catalogue(s.uows)
    return page(
        doctor_pages.roster(console.prefix, (staff.account, staff.csrf), catalogue, today(s))
    )


@router.post("/roster", dependencies=[CSRF])
async def roster(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayManageDoctors,
    form: PostedForm,
) -> Response:
    catalogue = await load_catalogue(s.uows)
    viewer = (staff.account, staff.csrf)
    try:
        hospital, department = scope_of(form.get("scope", ""))
        report = await generate_roster(
            s.uows, s.clock, _date(form, "from"), _date(form, "to"),
            hospital_code=hospital, department_code=department, by=staff.actor,
        )  # fmt: skip
    except BookingError as error:
        html = doctor_pages.roster(
            console.prefix, viewer, catalogue, today(s), error=say(error), typed=form
        )
        return page(html, status_code=400)
    # Shown at once rather than redirected: the counts belong to this one post.
    html = doctor_pages.roster(
        console.prefix, viewer, catalogue, today(s), report=report, typed=form
    )
    return page(html)


def _number(form: dict[str, str], name: str) -> int:
    try:
        return int(form.get(name, "").strip())
    except ValueError:
        raise InvalidInput(f"{name} is a number", field=name) from None


def _date(form: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise InvalidInput(f"'{name}' is a date (YYYY-MM-DD)", field=name) from None
