"""Finding and changing bookings.

POST {prefix}/bookings  find bookings (CSRF; q=phone, ID number, booking number or name;
                        department=H01:CARD, doctor=H01:00868, booked=, visit=YYYY-MM-DD):
                        to GET ?s=a sealed token of the search (backoffice.searches)
GET  {prefix}/bookings  the search's page (?s=…; or ?q=a booking number, or the filters
                        alone; what else is typed is never taken from the address)
POST {prefix}/bookings/{booking_no}/cancel|arrive|noshow   (CSRF)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from backoffice import bookings, pages, searches
from backoffice.console import Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from booking.staff.model import Permission

router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
Finder = Annotated[Staff, Depends(may(Permission.FIND_BOOKINGS))]
Changer = Annotated[Staff, Depends(may(Permission.CHANGE_BOOKINGS))]
SEARCH_FIELDS = ("q", "department", "doctor", "booked", "visit")


@router.post("/bookings", dependencies=[CSRF])
async def search_bookings(
    console: ConsoleDep, s: ServicesDep, staff: Finder, form: PostedForm
) -> Response:
    fields = {k: form.get(k, "")[:64] for k in SEARCH_FIELDS if form.get(k, "").strip()}
    token = searches.sealed(s.protector, s.clock.now(), staff.account.id, fields)
    where = f"{console.prefix}/bookings?{urlencode({'s': token})}"
    return RedirectResponse(where, status_code=303)


@router.get("/bookings")
async def find_bookings(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: Finder,
    q: Annotated[str, Query(max_length=64)] = "",
    sealed: Annotated[str, Query(alias="s", max_length=searches.MAX_TOKEN)] = "",
    done: Annotated[str, Query(max_length=16)] = "",
    refused: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    found = None
    given: Mapping[str, str] = request.query_params
    unread = None
    if sealed:
        opened = searches.opened(s.protector, s.clock.now(), staff.account.id, sealed)
        given = opened or {}
        q = given.get("q", "")
        unread = searches.EXPIRED if opened is None else None
    elif q.strip() and not bookings.is_booking_no(q):
        q, unread = "", bookings.USE_THE_FORM  # a number or name in an address: not read
    filters, error = bookings.filters_from(given)
    error = error or unread
    if error is None and (q.strip() or filters.given):
        found, error = await bookings.find(s.uows, s.clock, s.protector, q, staff.actor, filters)
    if refused:
        error = bookings.refusal(refused)
    html = pages.bookings(
        console.prefix,
        (staff.account, staff.csrf),
        q,
        found,
        message=bookings.DONE.get(done),
        error=error,
        may_change=staff.account.may(Permission.CHANGE_BOOKINGS),
        filters=filters,
        choices=await bookings.choices(s.uows),
    )
    return page(html)


@router.post("/bookings/{booking_no}/{action}", dependencies=[CSRF])
async def change_booking(
    console: ConsoleDep,
    s: ServicesDep,
    staff: Changer,
    booking_no: Annotated[str, Path(pattern=bookings.BOOKING_NO_PATH)],
    action: Literal["cancel", "arrive", "noshow"],
) -> Response:
    refused = await bookings.change(s.uows, s.clock, booking_no, action, staff.actor)
    outcome = {"refused": refused} if refused else {"done": action}
    query = urlencode({"q": booking_no, **outcome})
    return RedirectResponse(f"{console.prefix}/bookings?{query}", status_code=303)
