"""Who may call a back-office route, as FastAPI dependencies written once: a route says in its
signature what it needs and these answer for it, as the FastAPI full-stack template's deps.py.

    s: ServicesDep                 the application's database, clock and protector (503 while
                                   it is starting)
    staff: CurrentStaff            the signed-in member of staff (else to the login page)
    staff: Annotated[Staff, Depends(may(Permission.X))]   ... who may do X (else 403, audited)
    dependencies=[CSRF]            a post carries the login's CSRF token (else 403, audited)
    form: PostedForm               the posted urlencoded form (413 past MAX_FORM)

Every area's router has SIGNED_IN as its own dependency, so a stranger is sent to log in (the
JSON API: 401) before the path or query is validated: a malformed address tells them nothing.
Routes read their bodies themselves (PostedForm, the upload, the API's JSON) for the same
reason: a body declared as a parameter is parsed by FastAPI before any dependency runs.
A refusal is raised as `Refused` and answered by the route class (OfficeRoute, ApiRoute).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from backoffice.console import CONSOLE_KEY, CSRF_HEADER, Console, Services, Staff, same_token
from booking.staff.model import Permission


class Refused(Exception):
    """A dependency's answer in place of the route's: the login page, or a 403 (audited)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class OfficeRoute(APIRoute):
    """A back-office page: a refusal raised by a dependency is the answer."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def answered(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as refused:
                return self.refusal(refused.response)

        return answered

    def refusal(self, response: Response) -> Response:
        return response


def problem(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"reason": reason, "message": message}, status_code=status)


class ApiRoute(OfficeRoute):
    """A route of the JSON API: its refusals in JSON, {"reason", "message"}."""

    def refusal(self, response: Response) -> Response:
        if response.status_code == 403:
            return problem(403, "forbidden", "you may not do this; it has been recorded")
        return problem(401, "not_signed_in", "sign in to the back office first")


def console_of(request: Request) -> Console:
    found = request.scope.get(CONSOLE_KEY)
    if not isinstance(found, Console):
        raise RuntimeError("a back-office route outside backoffice.router()")
    return found


ConsoleDep = Annotated[Console, Depends(console_of)]


def services_of(console: ConsoleDep) -> Services:
    return console.ready()


ServicesDep = Annotated[Services, Depends(services_of)]


async def signed_in(request: Request, console: ConsoleDep, _: ServicesDep) -> Staff:
    staff = await console.staff(request)
    if staff is None:
        raise Refused(RedirectResponse(f"{console.prefix}/login", status_code=303))
    return staff


CurrentStaff = Annotated[Staff, Depends(signed_in)]
SIGNED_IN = Depends(signed_in)  # each area router's own dependency: asked before anything else


def may(permission: Permission) -> Callable[[Request, Console, Staff], Awaitable[Staff]]:
    """The dependency of the signed-in member of staff who may do this."""

    async def staff_who_may(request: Request, console: ConsoleDep, staff: CurrentStaff) -> Staff:
        if not staff.account.may(permission):
            raise Refused(await console.deny(request, staff.actor, staff, why=permission.value))
        return staff

    return staff_who_may


async def posted_form(request: Request, console: ConsoleDep) -> dict[str, str]:
    return await console.form(request)


PostedForm = Annotated[dict[str, str], Depends(posted_form)]


async def _csrf_checked(
    request: Request, console: ConsoleDep, staff: Staff, given: str | None
) -> None:
    if not same_token(given, staff.csrf):
        raise Refused(await console.deny(request, staff.actor, staff, why="csrf"))


async def csrf_in_form(
    request: Request, console: ConsoleDep, staff: CurrentStaff, form: PostedForm
) -> None:
    """The login's CSRF token, in the posted form or the X-CSRF-Token header."""
    given = form.get("csrf") or request.headers.get(CSRF_HEADER)
    await _csrf_checked(request, console, staff, given)


async def csrf_in_header(request: Request, console: ConsoleDep, staff: CurrentStaff) -> None:
    """The login's CSRF token in the X-CSRF-Token header: the body is not read for it."""
    await _csrf_checked(request, console, staff, request.headers.get(CSRF_HEADER))


# For a route's `dependencies=[...]`, which run before those of its parameters: the token is
# checked before the permission, so a forged post is recorded as one whatever the role.
CSRF = Depends(csrf_in_form)
CSRF_IN_HEADER = Depends(csrf_in_header)
