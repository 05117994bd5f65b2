"""The back office as one APIRouter that the application mounts (under /admin): the routers of
its areas, each a module of module-level routes (who may call them: backoffice/deps.py).

login_routes    /login /logout /              booking_routes  /bookings
audit_routes    /audit                        desk_routes     /desk/…
patient_routes  /patients                     doctor_routes   /doctors /roster
session_routes  /sessions                     blacklist_routes /blacklist
report_routes   /reports                      log_routes      /logs
complaint_routes /complaints                  complaint_api   /api/complaints (in the OpenAPI)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, Depends

from backoffice import (
    audit_routes,
    blacklist_routes,
    booking_routes,
    complaint_api,
    complaint_routes,
    desk_routes,
    doctor_routes,
    log_routes,
    login_routes,
    patient_routes,
    report_routes,
    session_routes,
)
from backoffice.console import Console, LoginGate, Services
from booking.complaints.filing import ACCEPT_WITHIN
from booking.staff.model import LoginLimits, Passwords

__all__ = ["AREAS", "LoginGate", "router"]

# In the order their paths are matched.
AREAS = (
    login_routes.public,
    login_routes.router,
    booking_routes.router,
    audit_routes.router,
    desk_routes.router,
    patient_routes.router,
    doctor_routes.router,
    session_routes.router,
    blacklist_routes.router,
    report_routes.router,
    log_routes.router,
    complaint_routes.router,
    complaint_api.router,
)


def router(
    services: Callable[[], Services | None],
    *,
    passwords: Passwords,
    secure_cookies: bool,
    limits: LoginLimits | None = None,
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
        services,
        passwords,
        limits or LoginLimits(),
        secure_cookies,
        prefix,
        complaint_within,
        login_gate,
    )
    web = APIRouter(prefix=prefix, dependencies=[Depends(console.bind)])
    for area in AREAS:
        web.include_router(area)
    return web
