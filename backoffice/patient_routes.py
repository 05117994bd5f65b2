"""Patients: view, edit, remove, their bookings.

POST {prefix}/patients                find (CSRF; q=full ID number, phone or name): to ?s=
GET  {prefix}/patients                the search's page (?s=a sealed token: backoffice.searches)
GET  {prefix}/patients/{id}           the record and bookings (?s=the search, whose full ID
                                      number the page then shows)
POST {prefix}/patients/{id}/edit      correct the name or phone (CSRF; name, phone)
POST {prefix}/patients/{id}/remove    remove (anonymise) the patient (CSRF)

Searches and views are audited by kind and ids, edits by the fields changed, never values.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from backoffice import patient_pages, searches
from backoffice.bookings import NOT_A_SEARCH, refusal, search_for
from backoffice.console import Console, Services, Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from booking.appointments.patient_records import (
    edit_patient,
    find_patients,
    future_bookings,
    is_id_number_of,
    patient_record,
    remove_patient,
)
from booking.errors import BookingError, NotFound
from booking.staff import audit
from booking.staff.model import Permission

PATIENT_ID = Path(ge=1, le=2**31)
NOT_FOR_PATIENTS = "请输入身份证号、手机号或姓名。Type an ID number, a phone or a name."

router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayEditPatients = Annotated[Staff, Depends(may(Permission.EDIT_PATIENTS))]
MayViewPatients = Annotated[Staff, Depends(may(Permission.VIEW_PATIENTS))]


@router.post("/patients", dependencies=[CSRF])
async def search_patients(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayViewPatients,
    form: PostedForm,
) -> Response:
    fields = {"q": form.get("q", "")[:64]}
    token = searches.sealed(s.protector, s.clock.now(), staff.account.id, fields)
    return RedirectResponse(f"{console.prefix}/patients?{urlencode({'s': token})}", 303)


@router.get("/patients")
async def find(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayViewPatients,
    sealed: Annotated[str, Query(alias="s", max_length=searches.MAX_TOKEN)] = "",
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    viewer = (staff.account, staff.csrf)
    message = patient_pages.DONE.get(done)
    opened = searches.opened(s.protector, s.clock.now(), staff.account.id, sealed)
    if sealed and opened is None:
        html = patient_pages.search(console.prefix, viewer, "", None, error=searches.EXPIRED)
        return page(html)
    q = (opened or {}).get("q", "")
    if not q.strip():
        return page(patient_pages.search(console.prefix, viewer, q, None, message=message))
    search = search_for(q)
    if search is None or search.kind == "booking_no":
        error = NOT_A_SEARCH if search is None else NOT_FOR_PATIENTS
        return page(patient_pages.search(console.prefix, viewer, q, None, error=error))
    given = {search.kind: search.text}
    try:
        found = await find_patients(
            s.uows,
            s.protector,
            id_number=given.get("id_number"),
            phone=given.get("phone"),
            name=given.get("name"),
        )
    except BookingError as error:  # a wrong checksum, a landline
        html = patient_pages.search(console.prefix, viewer, q, None, error=refusal(error.reason))
        return page(html)
    after: dict[str, Any] = {"by": search.kind, "found": len(found)}
    after["patients"] = [p.id for p in found[:20]]
    await audit.record(s.uows, staff.actor.did(s.clock.now(), audit.PATIENT_SEARCH, after=after))
    full_id = search.text.upper() if search.kind == "id_number" else None
    html = patient_pages.search(
        console.prefix, viewer, q, found, full_id=full_id, sealed=sealed if full_id else None
    )
    return page(html)


@router.get("/patients/{patient_id}")
async def show(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayViewPatients,
    patient_id: Annotated[int, PATIENT_ID],
    sealed: Annotated[str, Query(alias="s", max_length=searches.MAX_TOKEN)] = "",
    done: Annotated[str, Query(max_length=16)] = "",
    refused: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    viewer = (staff.account, staff.csrf)
    try:
        found, bookings = await patient_record(s.uows, patient_id)
    except NotFound:
        return page(patient_pages.not_found(console.prefix, viewer), status_code=404)
    opened = searches.opened(s.protector, s.clock.now(), staff.account.id, sealed)
    typed = (opened or {}).get("q", "").replace(" ", "")
    full_id = (
        typed.upper() if typed and is_id_number_of(s.protector, found.patient, typed) else None
    )
    target = f"patient:{patient_id}"
    after = {"bookings": len(bookings), "full_id_number": full_id is not None}
    await audit.record(
        s.uows, staff.actor.did(s.clock.now(), audit.PATIENT_VIEW, target, after=after)
    )
    html = patient_pages.record(
        console.prefix,
        viewer,
        found,
        bookings,
        full_id=full_id,
        may_edit=staff.account.may(Permission.EDIT_PATIENTS),
        may_change_bookings=staff.account.may(Permission.CHANGE_BOOKINGS),
        coming=len(future_bookings(bookings, s.clock.now())),
        message=patient_pages.DONE.get(done),
        error=refusal(refused) if refused else None,
    )
    return page(html)


@router.post("/patients/{patient_id}/edit", dependencies=[CSRF])
async def edit(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayEditPatients,
    form: PostedForm,
    patient_id: Annotated[int, PATIENT_ID],
) -> Response:
    try:
        changed = await edit_patient(
            s.uows, s.clock, s.protector, patient_id,
            name=form.get("name", "")[:60], phone=form.get("phone", "").strip()[:30] or None,
            by=staff.actor,
        )  # fmt: skip
    except BookingError as error:
        return await refused_(console, s, staff, patient_id, "edit", error)
    outcome = {"done": "edit" if changed else "unchanged"}
    return RedirectResponse(f"{console.prefix}/patients/{patient_id}?{urlencode(outcome)}", 303)


@router.post("/patients/{patient_id}/remove", dependencies=[CSRF])
async def remove(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayEditPatients,
    patient_id: Annotated[int, PATIENT_ID],
) -> Response:
    try:
        await remove_patient(s.uows, s.clock, patient_id, staff.actor)
    except BookingError as error:
        return await refused_(console, s, staff, patient_id, "remove", error)
    return RedirectResponse(f"{console.prefix}/patients?done=removed", status_code=303)


async def refused_(
    console: Console, s: Services, staff: Staff, patient_id: int, action: str, error: BookingError
) -> Response:
    after = {"action": f"patient.{action}", "reason": error.reason}
    target = f"patient:{patient_id}"
    await audit.record(s.uows, staff.actor.did(s.clock.now(), audit.REFUSED, target, after=after))
    query = urlencode({"refused": error.reason})
    return RedirectResponse(f"{console.prefix}/patients/{patient_id}?{query}", status_code=303)
