"""Complaints for department complaint staff (their department's) and administrators (all),
and their JSON API (backoffice/complaint_api.py). Permission.HANDLE_COMPLAINTS throughout.

GET  {prefix}/complaints                 ?status=received|in_progress|answered|closed
GET  {prefix}/complaints/new             a complaint taken by phone (S1)
POST {prefix}/complaints/new             (CSRF) -> 303 to its page, showing its number
GET  {prefix}/complaints/{no}            what was said, what was done, the forms to act
POST {prefix}/complaints/{no}/accept|reply|resolve|forward|escalate   (CSRF) -> 303

Another department's complaint is a 404, as an unused number is (the attempt is audited).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from backoffice import complaint_pages
from backoffice.console import Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from booking.catalogue.search import load_catalogue
from booking.complaints.desk import (
    Step,
    act,
    complaints_for,
    open_complaint,
    sees_everything,
    take_by_phone,
)
from booking.complaints.model import ComplaintCategory, ComplaintStatus, UnknownComplaint
from booking.errors import BookingError
from booking.staff.model import Permission
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork

COMPLAINT_NO_PATH = r"^[0-9A-Za-z]{4,16}$"


async def departments(uows: UnitOfWorkFactory[HospitalWork]) -> list[tuple[str, str]]:
    """(code, name) of every department, once each (hospitals may share codes)."""
    catalogue = await load_catalogue(uows)
    names: dict[str, str] = {}
    for d in catalogue.departments:
        names.setdefault(d.code, f"{d.name_zh} {d.name_en}")
    return sorted(names.items())


router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayHandleComplaints = Annotated[Staff, Depends(may(Permission.HANDLE_COMPLAINTS))]


@router.get("/complaints")
async def complaint_list(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    status: ComplaintStatus | None = None,
) -> Response:
    found = await complaints_for(s.uows, s.clock, staff.account, status)
    viewer = (staff.account, staff.csrf)
    return page(complaint_pages.complaint_list(console.prefix, viewer, found, status))


@router.get("/complaints/new")
async def new_form(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
) -> Response:
    return page(await _new_page(console.prefix, s.uows, staff))


@router.post("/complaints/new", dependencies=[CSRF])
async def take(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    form: PostedForm,
) -> Response:
    try:
        category = ComplaintCategory(form.get("category", ""))
        complaint = await take_by_phone(
            s.uows, s.protector, s.clock, staff.account, staff.actor, category=category,
            text=form.get("text", ""), department_code=form.get("department", ""),
            language=form.get("language", "zh"), accept_within=console.complaint_within,
        )  # fmt: skip
    except (ValueError, BookingError) as refused:
        why = type(refused).__name__
        error = complaint_pages.REFUSALS.get(why, complaint_pages.REFUSED)
        return page(await _new_page(console.prefix, s.uows, staff, error), status_code=400)
    query = urlencode({"done": "filed"})
    return RedirectResponse(
        f"{console.prefix}/complaints/{complaint.complaint_no}?{query}", status_code=303
    )


@router.get("/complaints/{complaint_no}")
async def complaint_page(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Annotated[str, Path(pattern=COMPLAINT_NO_PATH)],
    done: Annotated[str, Query(max_length=16)] = "",
    refused: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    try:
        opened = await open_complaint(
            s.uows, s.protector, s.clock, staff.account, staff.actor, complaint_no
        )
    except UnknownComplaint:
        viewer = (staff.account, staff.csrf)
        return page(complaint_pages.not_found(console.prefix, viewer), status_code=404)
    error = complaint_pages.REFUSALS.get(refused, complaint_pages.REFUSED) if refused else None
    html = complaint_pages.complaint_page(
        console.prefix,
        (staff.account, staff.csrf),
        opened,
        await departments(s.uows),
        message=complaint_pages.DONE.get(done),
        error=error,
    )
    return page(html)


@router.post("/complaints/{complaint_no}/{step}", dependencies=[CSRF])
async def complaint_step(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    form: PostedForm,
    complaint_no: Annotated[str, Path(pattern=COMPLAINT_NO_PATH)],
    step: Step,
) -> Response:
    try:
        complaint = await act(
            s.uows, s.protector, s.clock, staff.account, staff.actor, complaint_no, step,
            text=form.get("text", ""), department_code=form.get("department", ""),
            accept_within=console.complaint_within,
        )  # fmt: skip
    except UnknownComplaint:
        viewer = (staff.account, staff.csrf)
        return page(complaint_pages.not_found(console.prefix, viewer), status_code=404)
    except BookingError as refused:
        query = urlencode({"refused": type(refused).__name__})
        number = complaint_no.strip().upper()
        return RedirectResponse(f"{console.prefix}/complaints/{number}?{query}", status_code=303)
    query = urlencode({"done": step})
    if not sees_everything(staff.account) and (
        complaint.department_code != staff.account.department_code
    ):  # forwarded away: no longer theirs to see
        return RedirectResponse(f"{console.prefix}/complaints", status_code=303)
    return RedirectResponse(
        f"{console.prefix}/complaints/{complaint.complaint_no}?{query}", status_code=303
    )


async def _new_page(
    prefix: str, uows: UnitOfWorkFactory[HospitalWork], staff: Staff, error: str | None = None
) -> str:
    own = None if sees_everything(staff.account) else staff.account.department_code
    return complaint_pages.new_complaint(
        prefix,
        (staff.account, staff.csrf),
        await departments(uows),
        own_department=own,
        error=error,
    )
