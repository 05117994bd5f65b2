"""Booking on behalf of a caller, transfers and closing expired bookings.

GET  {prefix}/desk/book          department → doctor → session → the caller's form, each step
                                 a link carrying the choices so far (?department=&doctor=&session=)
POST {prefix}/desk/book          book (CSRF; name, id_number, phone, session)
GET  {prefix}/desk/booked/{no}   the receipt to read out to the caller
GET  {prefix}/desk/transfer/{no} the sessions a booking may move to (?refused=reason)
POST {prefix}/desk/transfer/{no} move it (CSRF; session)
GET  {prefix}/desk/expired       how many bookings are left "booked" after their session
                                 (?through=YYYY-MM-DD, yesterday by default; ?closed=N)
POST {prefix}/desk/expired       close them (CSRF; through)
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from backoffice import desk_pages
from backoffice.bookings import BOOKING_NO_PATH, TRANSFER_REFUSALS, refusal
from backoffice.console import Services, Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from booking.appointments.changes import transfer
from booking.appointments.desk import (
    book_for_caller,
    bookable_sessions,
    booking_view,
    close_expired,
    expired_bookings,
    transfer_choices,
)
from booking.catalogue.schedule import local_now
from booking.catalogue.search import SessionOffer, load_catalogue
from booking.errors import BookingError
from booking.staff import audit
from booking.staff.model import Permission

CODE = r"^[A-Za-z0-9]{1,16}:[A-Za-z0-9]{1,16}$"
NO_SESSION = "没有这个可预约的出诊（可能已约满或已结束）。That session cannot be booked now."

router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayBookForCaller = Annotated[Staff, Depends(may(Permission.BOOK_FOR_CALLER))]
MayCancelExpired = Annotated[Staff, Depends(may(Permission.CANCEL_EXPIRED))]
MayChangeBookings = Annotated[Staff, Depends(may(Permission.CHANGE_BOOKINGS))]


@router.get("/desk/book")
async def book_steps(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayBookForCaller,
    department: Annotated[str, Query(pattern=CODE)] = "",
    doctor: Annotated[str, Query(pattern=CODE)] = "",
    session: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> Response:
    viewer = (staff.account, staff.csrf)
    if not department:
        catalogue = await load_catalogue(s.uows)
        return page(desk_pages.departments(console.prefix, viewer, catalogue.departments))
    hospital, code = department.upper().split(":")
    work_no = doctor.split(":")[1] if doctor else None
    offers = await bookable_sessions(
        s.uows, s.clock, hospital=hospital, department=code, doctor=work_no
    )
    if work_no:
        offers = [o for o in offers if o.doctor.work_no.casefold() == work_no.casefold()]
    if session is not None:
        chosen = [o for o in offers if o.session.id == session]
        if not chosen:
            return page(desk_pages.not_open(console.prefix, viewer, NO_SESSION), status_code=404)
        return page(desk_pages.caller_form(console.prefix, viewer, chosen[0]))
    if work_no:
        return page(desk_pages.sessions(console.prefix, viewer, department.upper(), doctor, offers))
    return page(desk_pages.doctors(console.prefix, viewer, department.upper(), offers))


@router.post("/desk/book", dependencies=[CSRF])
async def book(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayBookForCaller,
    form: PostedForm,
) -> Response:
    viewer = (staff.account, staff.csrf)
    session_id = _session_id(form)
    typed = {k: form.get(k, "")[:40] for k in ("name", "id_number", "phone")}
    for number in ("id_number", "phone"):  # numbers are read out in groups
        typed[number] = "".join(typed[number].split())
    try:
        receipt = await book_for_caller(
            s.uows, s.clock, s.protector, session_id=session_id, by=staff.actor, **typed
        )
    except BookingError as error:
        # Shown again on the form with what was typed (the page is not cached): the agent
        # corrects one field rather than asking the caller for everything again.
        offer = await _offer(s, session_id)
        if offer is None:
            html = desk_pages.not_open(console.prefix, viewer, refusal(error))
            return page(html, status_code=409)
        html = desk_pages.caller_form(
            console.prefix, viewer, offer, error=refusal(error), typed=typed
        )
        return page(html, status_code=409)
    number = receipt.appointment.booking_no
    return RedirectResponse(f"{console.prefix}/desk/booked/{number}", status_code=303)


@router.get("/desk/booked/{booking_no}")
async def booked(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayBookForCaller,
    booking_no: Annotated[str, Path(pattern=BOOKING_NO_PATH)],
) -> Response:
    try:
        view = await booking_view(s.uows, booking_no)
    except BookingError as error:
        html = desk_pages.not_open(console.prefix, (staff.account, staff.csrf), refusal(error))
        return page(html, status_code=404)
    return page(desk_pages.receipt(console.prefix, (staff.account, staff.csrf), view))


@router.get("/desk/transfer/{booking_no}")
async def transfer_form(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayChangeBookings,
    booking_no: Annotated[str, Path(pattern=BOOKING_NO_PATH)],
    refused: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    viewer = (staff.account, staff.csrf)
    try:
        view, offers = await transfer_choices(s.uows, s.clock, booking_no)
    except BookingError as error:
        html = desk_pages.not_open(console.prefix, viewer, refusal(error))
        return page(html, status_code=404)
    said = refusal(refused, TRANSFER_REFUSALS) if refused else None
    return page(desk_pages.transfer(console.prefix, viewer, view, offers, error=said))


@router.post("/desk/transfer/{booking_no}", dependencies=[CSRF])
async def move(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayChangeBookings,
    form: PostedForm,
    booking_no: Annotated[str, Path(pattern=BOOKING_NO_PATH)],
) -> Response:
    to = _session_id(form)
    try:
        await transfer(s.uows, s.clock, booking_no, to, by=staff.actor)
    except BookingError as error:
        after = {"action": "transfer", "reason": error.reason, "session_id": to}
        await audit.record(
            s.uows, staff.actor.did(s.clock.now(), audit.REFUSED, booking_no, after=after)
        )
        where = (
            f"{console.prefix}/desk/transfer/{booking_no}?{urlencode({'refused': error.reason})}"
        )
        return RedirectResponse(where, status_code=303)
    query = urlencode({"q": booking_no, "done": "transfer"})
    return RedirectResponse(f"{console.prefix}/bookings?{query}", status_code=303)


@router.get("/desk/expired")
async def expired(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayCancelExpired,
    through: Annotated[date | None, Query()] = None,
    closed: Annotated[int | None, Query(ge=0, le=10**6)] = None,
) -> Response:
    day = through or _yesterday(s.clock.now())
    found = await expired_bookings(s.uows, s.clock, day)
    html = desk_pages.expired(
        console.prefix, (staff.account, staff.csrf), day, found, closed=closed
    )
    return page(html)


@router.post("/desk/expired", dependencies=[CSRF])
async def close(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayCancelExpired,
    form: PostedForm,
) -> Response:
    try:
        day = date.fromisoformat(form.get("through", "")[:10])
    except ValueError:
        day = _yesterday(s.clock.now())
    closed = await close_expired(s.uows, s.clock, day, staff.actor)
    query = urlencode({"through": day.isoformat(), "closed": closed})
    return RedirectResponse(f"{console.prefix}/desk/expired?{query}", status_code=303)


async def _offer(s: Services, session_id: int) -> SessionOffer | None:
    """The session as offered on the caller's form, while it can still be booked."""
    async with s.uows(readonly=True) as uow:
        session = await uow.sessions.get(session_id) if session_id else None
    if session is None:
        return None
    offers = await bookable_sessions(
        s.uows,
        s.clock,
        hospital=session.hospital_code,
        department=session.department_code,
        doctor=session.doctor_work_no,
    )
    return next((o for o in offers if o.session.id == session_id), None)


def _session_id(form: dict[str, str]) -> int:
    """The posted session's id; 0 (no such session) for anything else. str.isdigit() alone
    lets "²" and 30-digit numbers through, which int() or the database then reject (500)."""
    text = form.get("session", "")
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,9}", text) and int(text) < 2**31 else 0


def _yesterday(now: datetime) -> date:
    return local_now(now, "Asia/Shanghai").date() - timedelta(days=1)
