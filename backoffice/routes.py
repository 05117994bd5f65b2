"""The back office's web pages, as one APIRouter that the application mounts (under /admin).

GET/POST {prefix}/login     sign in (the form carries its own CSRF token, in a cookie too)
POST     {prefix}/logout    sign out (CSRF)
GET      {prefix}/          what the role may do
POST     {prefix}/bookings  find bookings (CSRF; q=phone, ID number, booking number or name;
                            department=H01:CARD, doctor=H01:00868, booked=, visit=YYYY-MM-DD):
                            to GET ?s=a sealed token of the search (backoffice.searches)
GET      {prefix}/bookings  the search's page (?s=…; or ?q=a booking number, or the filters
                            alone; what else is typed is never taken from the address)
POST     {prefix}/bookings/{booking_no}/cancel|arrive|noshow   (CSRF)
GET      {prefix}/audit     the audit log, administrators only (?staff=&action=&page=)
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from backoffice import (
    blacklist_routes,
    bookings,
    complaint_routes,
    desk_routes,
    doctor_routes,
    log_routes,
    pages,
    patient_routes,
    report_routes,
    searches,
)
from backoffice.console import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Console,
    Services,
    Staff,
    client_address,
    page,
    same_token,
    signed_in_first,
)
from booking.complaints.filing import ACCEPT_WITHIN
from booking.errors import LoginRefused
from booking.staff.audit import audit_page
from booking.staff.login import log_in, log_out
from booking.staff.model import Actor, AuditFilter, Passwords, Permission, SessionLimits

# Each area of the console adds its own routes: add_routes(web, console).
AREAS = (
    desk_routes,
    patient_routes,
    doctor_routes,
    blacklist_routes,
    report_routes,
    log_routes,
    complaint_routes,
)

LoginGate = Callable[[str | None], Awaitable[int | None]]
SEARCH_FIELDS = ("q", "department", "doctor", "booked", "visit")


def router(
    services: Callable[[], Services | None],
    *,
    passwords: Passwords,
    secure_cookies: bool,
    limits: SessionLimits | None = None,
    prefix: str = "/admin",
    login_gate: LoginGate | None = None,
    complaint_within: timedelta = ACCEPT_WITHIN,
) -> APIRouter:
    """`services`: the application's database, clock and protector, once it has started.
    `secure_cookies`: cookies only over HTTPS (production). `login_gate`: how long a network
    address must wait before trying to log in again (None: it may try now); lock-out is per
    account, so without it one password could be tried against every username.
    `complaint_within`: how long staff have to accept a complaint (GUAHAO_COMPLAINT_HOURS)."""
    console = Console(
        services, passwords, limits or SessionLimits(), secure_cookies, prefix, complaint_within
    )
    public = {f"{prefix}/login"}
    web = APIRouter(
        prefix=prefix, include_in_schema=False, route_class=signed_in_first(console, public)
    )

    form_of = console.form
    started = console.ready

    def login_page(token: str, status: int = 200, **kwargs: str) -> Response:
        response = page(pages.login(prefix, token, **kwargs), status_code=status)
        console.set_login_cookie(response, token)
        return response

    @web.get("/login")
    async def login_form(request: Request) -> Response:
        started()
        if await console.staff(request) is not None:
            return RedirectResponse(f"{prefix}/", status_code=303)
        return login_page(secrets.token_urlsafe(32))

    @web.post("/login")
    async def login(request: Request) -> Response:
        s = started()
        form = await form_of(request)
        token = request.cookies.get(LOGIN_COOKIE) or ""
        username = form.get("username", "")
        address = client_address(request)
        # The limit first, whatever the post holds: a refusal is audited, and anybody may post.
        wait = await login_gate(address) if login_gate is not None else None
        if wait is not None:
            fresh = token or secrets.token_urlsafe(32)
            response = login_page(fresh, 429, message=pages.TOO_MANY_LOGINS, username=username[:32])
            response.headers["Retry-After"] = str(wait)
            return response
        if not token or not same_token(form.get("csrf"), token):
            nobody = Actor(None, None, address)
            return await console.deny(request, nobody, None, why="csrf")
        try:
            signed = await log_in(
                s.uows,
                s.clock,
                passwords,
                username,
                form.get("password", ""),
                address=client_address(request),
                limits=console.limits,
            )
        except LoginRefused as refused:
            return login_page(token, 401, message=refused.message, username=username[:32])
        response = RedirectResponse(f"{prefix}/", status_code=303)
        console.set_session_cookie(response, signed.token)
        response.delete_cookie(LOGIN_COOKIE, path=f"{prefix}/login")
        return response

    @web.post("/logout")
    async def logout(request: Request) -> Response:
        s = started()
        staff = await console.allowed(request, None, await form_of(request))
        if not isinstance(staff, Staff):
            return staff
        token = request.cookies.get(SESSION_COOKIE, "")
        await log_out(s.uows, s.clock, token, staff.actor)
        response = RedirectResponse(f"{prefix}/login", status_code=303)
        console.forget_session_cookie(response)
        return response

    @web.get("/")
    async def home(request: Request) -> Response:
        started()
        staff = await console.allowed(request, None)
        if not isinstance(staff, Staff):
            return staff
        return page(pages.home(prefix, (staff.account, staff.csrf)))

    @web.post("/bookings")
    async def search_bookings(request: Request) -> Response:
        s = started()
        form = await form_of(request)
        staff = await console.allowed(request, Permission.FIND_BOOKINGS, form)
        if not isinstance(staff, Staff):
            return staff
        fields = {k: form.get(k, "")[:64] for k in SEARCH_FIELDS if form.get(k, "").strip()}
        token = searches.sealed(s.protector, s.clock.now(), staff.account.id, fields)
        return RedirectResponse(f"{prefix}/bookings?{urlencode({'s': token})}", status_code=303)

    @web.get("/bookings")
    async def find_bookings(
        request: Request,
        q: Annotated[str, Query(max_length=64)] = "",
        sealed: Annotated[str, Query(alias="s", max_length=searches.MAX_TOKEN)] = "",
        done: Annotated[str, Query(max_length=16)] = "",
        refused: Annotated[str, Query(max_length=32)] = "",
    ) -> Response:
        s = started()
        staff = await console.allowed(request, Permission.FIND_BOOKINGS)
        if not isinstance(staff, Staff):
            return staff
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
            found, error = await bookings.find(
                s.uows, s.clock, s.protector, q, staff.actor, filters
            )
        if refused:
            error = bookings.refusal(refused)
        html = pages.bookings(
            prefix,
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

    @web.post("/bookings/{booking_no}/{action}")
    async def change_booking(
        request: Request,
        booking_no: Annotated[str, Path(pattern=bookings.BOOKING_NO_PATH)],
        action: Literal["cancel", "arrive", "noshow"],
    ) -> Response:
        s = started()
        form = await form_of(request)
        staff = await console.allowed(request, Permission.CHANGE_BOOKINGS, form)
        if not isinstance(staff, Staff):
            return staff
        refused = await bookings.change(s.uows, s.clock, booking_no, action, staff.actor)
        outcome = {"refused": refused} if refused else {"done": action}
        query = urlencode({"q": booking_no, **outcome})
        return RedirectResponse(f"{prefix}/bookings?{query}", status_code=303)

    @web.get("/audit")
    async def audit_log(
        request: Request,
        staff_: Annotated[str, Query(alias="staff", max_length=32)] = "",
        action: Annotated[str, Query(max_length=32)] = "",
        number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    ) -> Response:
        s = started()
        staff = await console.allowed(request, Permission.READ_AUDIT)
        if not isinstance(staff, Staff):
            return staff
        f = AuditFilter(
            username=staff_.strip().lower() or None, action=action.strip() or None, page=number
        )
        found = await audit_page(s.uows, f)
        html = pages.audit_log(
            prefix, (staff.account, staff.csrf), found, staff=staff_, action=action, number=number
        )
        return page(html)

    for area in AREAS:
        area.add_routes(web, console)
    return web
