"""Signing in and out, and the landing page.

GET/POST {prefix}/login     sign in (the form carries its own CSRF token, in a cookie too)
POST     {prefix}/logout    sign out (CSRF)
GET      {prefix}/          what the role may do
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backoffice import pages
from backoffice.console import LOGIN_COOKIE, STAFF_COOKIE, Console, client_address, page, same_token
from backoffice.deps import (
    CSRF,
    SIGNED_IN,
    ConsoleDep,
    CurrentStaff,
    OfficeRoute,
    PostedForm,
    ServicesDep,
)
from booking.errors import LoginRefused
from booking.staff.login import log_in, log_out
from booking.staff.model import Actor

# The login page is the one page anybody may ask for.
public = APIRouter(route_class=OfficeRoute, include_in_schema=False)
router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])


def login_page(console: Console, token: str, status: int = 200, **kwargs: str) -> Response:
    response = page(pages.login(console.prefix, token, **kwargs), status_code=status)
    console.set_login_cookie(response, token)
    return response


@public.get("/login")
async def login_form(request: Request, console: ConsoleDep, _: ServicesDep) -> Response:
    if await console.staff(request) is not None:
        return RedirectResponse(f"{console.prefix}/", status_code=303)
    return login_page(console, secrets.token_urlsafe(32))


@public.post("/login")
async def login(
    request: Request, console: ConsoleDep, s: ServicesDep, form: PostedForm
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or ""
    username = form.get("username", "")
    address = client_address(request)
    # The limit first, whatever the post holds: a refusal is audited, and anybody may post.
    gate = console.login_gate
    wait = await gate(address) if gate is not None else None
    if wait is not None:
        fresh = token or secrets.token_urlsafe(32)
        response = login_page(
            console, fresh, 429, message=pages.TOO_MANY_LOGINS, username=username[:32]
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not token or not same_token(form.get("csrf"), token):
        nobody = Actor(None, None, address)
        return await console.deny(request, nobody, None, why="csrf")
    try:
        signed = await log_in(
            s.uows,
            s.clock,
            console.passwords,
            username,
            form.get("password", ""),
            address=client_address(request),
            limits=console.limits,
        )
    except LoginRefused as refused:
        return login_page(console, token, 401, message=refused.message, username=username[:32])
    response = RedirectResponse(f"{console.prefix}/", status_code=303)
    console.set_staff_cookie(response, signed.token)
    response.delete_cookie(LOGIN_COOKIE, path=f"{console.prefix}/login")
    return response


@router.post("/logout", dependencies=[CSRF])
async def logout(
    request: Request, console: ConsoleDep, s: ServicesDep, staff: CurrentStaff
) -> Response:
    token = request.cookies.get(STAFF_COOKIE, "")
    await log_out(s.uows, s.clock, token, staff.actor)
    response = RedirectResponse(f"{console.prefix}/login", status_code=303)
    console.forget_staff_cookie(response)
    return response


@router.get("/")
async def home(console: ConsoleDep, staff: CurrentStaff) -> Response:
    return page(pages.home(console.prefix, (staff.account, staff.csrf)))
