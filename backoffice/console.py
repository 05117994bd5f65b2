"""The back office's guard: who is signed in (the session cookie), the CSRF token of every
state-changing post, and the role check that answers 403 and audits the denial."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from backoffice import pages
from booking.clock import Clock
from booking.complaints.filing import ACCEPT_WITHIN
from booking.protect import Protector
from booking.staff import audit
from booking.staff.login import signed_in
from booking.staff.model import (
    Actor,
    Passwords,
    Permission,
    SessionLimits,
    StaffAccount,
    StaffSession,
)
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork

SESSION_COOKIE = "guahao_staff"
LOGIN_COOKIE = "guahao_login"  # the login form's own CSRF token: there is no session yet
CSRF_HEADER = "X-CSRF-Token"
MAX_FORM = 16 * 1024


class Services(Protocol):
    """What the back office needs from the application, once it has started."""

    @property
    def uows(self) -> UnitOfWorkFactory[HospitalWork]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def protector(self) -> Protector: ...


@dataclass(frozen=True)
class Staff:
    """A signed-in member of staff on this request."""

    account: StaffAccount
    session: StaffSession
    actor: Actor

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


_STAFF_KEY = "guahao.staff"


class NotStarted(Exception):
    """A request came before the application started (or after it stopped)."""


class FormTooLarge(Exception):
    pass


# Pages hold patients' names and masked numbers, and search addresses hold what was typed:
# not cached, not framed by another site (whose clicks would be the staff's), not referred.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form, first value of each field. Read here rather than by FastAPI's
    Form(), which needs python-multipart for what a few lines do."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise FormTooLarge
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {name: values[0] for name, values in fields.items()}


@dataclass
class Console:
    services: Callable[[], Services | None]
    passwords: Passwords
    limits: SessionLimits
    secure_cookies: bool
    prefix: str
    complaint_within: timedelta = ACCEPT_WITHIN  # to accept a complaint forwarded or escalated

    def started(self) -> Services:
        found = self.services()
        if found is None:
            raise NotStarted
        return found

    def ready(self) -> Services:
        """The application's services for a route: 503 while it is starting."""
        try:
            return self.started()
        except NotStarted:
            raise HTTPException(503, "the back office is starting") from None

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form for a route: 413 when it is too large."""
        try:
            return await read_form(request)
        except FormTooLarge:
            raise HTTPException(413, "form too large") from None

    async def staff(self, request: Request) -> Staff | None:
        known = request.scope.get(_STAFF_KEY)
        if isinstance(known, Staff):  # looked up already, before the route read anything
            return known
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 128:
            return None
        s = self.started()
        found = await signed_in(s.uows, s.clock, token, self.limits)
        if found is None:
            return None
        account, session = found
        actor = Actor(account.id, account.username, client_address(request))
        request.scope[_STAFF_KEY] = staff = Staff(account, session, actor)
        return staff

    async def allowed(
        self, request: Request, permission: Permission | None, form: dict[str, str] | None = None
    ) -> Staff | Response:
        """The signed-in member of staff, if they may do this: otherwise the answer to give
        (to the login page; or 403, audited). With ``form`` the request changes something
        and must carry the session's CSRF token, in the form or the X-CSRF-Token header."""
        staff = await self.staff(request)
        if staff is None:
            return RedirectResponse(f"{self.prefix}/login", status_code=303)
        if form is not None:
            given = form.get("csrf") or request.headers.get(CSRF_HEADER)
            if not same_token(given, staff.csrf):
                return await self.deny(request, staff.actor, staff, why="csrf")
        if permission is not None and not staff.account.may(permission):
            return await self.deny(request, staff.actor, staff, why=permission.value)
        return staff

    async def deny(
        self, request: Request, actor: Actor, staff: Staff | None, *, why: str
    ) -> Response:
        s = self.started()
        entry = actor.did(
            s.clock.now(),
            audit.DENIED,
            target=f"{request.method} {request.url.path}"[:64],
            after={"why": why},
        )
        await audit.record_repeated(s.uows, entry)  # counted: a refusal costs the asker nothing
        viewer = (staff.account, staff.csrf) if staff else None
        return page(pages.denied(self.prefix, viewer), status_code=403)

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(self.limits.absolute.total_seconds()),
            path=self.prefix,
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def set_login_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=3600,
            path=f"{self.prefix}/login",
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def forget_session_cookie(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE,
            path=self.prefix,
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )


def signed_in_first(console: Console, public: set[str]) -> type[APIRoute]:
    """Routes that ask who is calling before anything else: a stranger is sent to the login
    page (the JSON API: 401) before the path, query or body is validated, so a malformed
    address tells them nothing (it is a 422 only for staff). `public`: paths anyone may use."""

    class SignedInFirst(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            if self.path in public:
                return handler
            api = self.path.startswith(f"{console.prefix}/api/")

            async def signed_in_or_refused(request: Request) -> Response:
                try:
                    staff = await console.staff(request)
                except NotStarted:  # the route answers that itself
                    return await handler(request)
                if staff is not None:
                    return await handler(request)
                if api:
                    return JSONResponse(
                        {"reason": "not_signed_in", "message": "sign in to the back office first"},
                        status_code=401,
                    )
                return RedirectResponse(f"{console.prefix}/login", status_code=303)

            return signed_in_or_refused

    return SignedInFirst
