"""The back office's console: what one mounted back office knows (the application's services,
its settings), who is signed in (the staff cookie), and the 403 that audits a refusal. The
routes ask for these through the dependencies of backoffice/deps.py."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from backoffice import pages
from booking.clock import Clock
from booking.complaints.filing import ACCEPT_WITHIN
from booking.protect import Protector
from booking.staff import audit
from booking.staff.login import signed_in
from booking.staff.model import Actor, LoginLimits, Passwords, StaffAccount, StaffLogin
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork

STAFF_COOKIE = "guahao_staff"  # a signed-in member of staff's login token
LOGIN_COOKIE = "guahao_login"  # the login form's own CSRF token: nobody is signed in yet
CSRF_HEADER = "X-CSRF-Token"
MAX_FORM = 16 * 1024
CONSOLE_KEY = "guahao.console"

# How long a network address must wait before trying to log in again (None: it may try now).
LoginGate = Callable[[str | None], Awaitable[int | None]]


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
    login: StaffLogin
    actor: Actor

    @property
    def csrf(self) -> str:
        return self.login.csrf_token


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
    limits: LoginLimits
    secure_cookies: bool
    prefix: str
    complaint_within: timedelta = ACCEPT_WITHIN  # to accept a complaint forwarded or escalated
    login_gate: LoginGate | None = None

    def bind(self, request: Request) -> None:
        """The first dependency of every route of this back office (backoffice.routes): the
        routers are shared by every mounted back office, so a request learns its console here."""
        request.scope[CONSOLE_KEY] = self

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
        token = request.cookies.get(STAFF_COOKIE)
        if not token or len(token) > 128:
            return None
        s = self.started()
        found = await signed_in(s.uows, s.clock, token, self.limits)
        if found is None:
            return None
        account, login = found
        actor = Actor(account.id, account.username, client_address(request))
        request.scope[_STAFF_KEY] = staff = Staff(account, login, actor)
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

    def set_staff_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            STAFF_COOKIE,
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

    def forget_staff_cookie(self, response: Response) -> None:
        response.delete_cookie(
            STAFF_COOKIE,
            path=self.prefix,
            secure=self.secure_cookies,
            httponly=True,
            samesite="strict",
        )
