"""Sessions (出诊) in the back office (B2): a day's sessions with their places, one session's
bookings by queue number (each doctor's list), and the stop (停诊).

GET  {prefix}/sessions               a day's sessions (VIEW_SCHEDULES) ?date=&scope=&doctor=
GET  {prefix}/sessions/{id}          one session's bookings by queue number
POST {prefix}/sessions/{id}/stop     停诊 (STOP_SESSIONS, CSRF): audited with the stop
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import RedirectResponse, Response

from backoffice import session_pages
from backoffice.console import Services, Staff, page
from backoffice.deps import CSRF, SIGNED_IN, ConsoleDep, OfficeRoute, PostedForm, ServicesDep, may
from backoffice.pages import ZONE, layout
from booking.appointments.changes import stop_session
from booking.catalogue.search import load_catalogue
from booking.errors import BookingError, InvalidInput, PastDeadline
from booking.roster.doctors import HasFutureBookings, find_doctor
from booking.roster.duty import session_bookings, session_sheet
from booking.staff import audit
from booking.staff.model import Permission

_SCOPE = re.compile(r"^([0-9A-Za-z]{1,16})(?:/([0-9A-Za-z]{1,16}))?$")
# What staff are told when something is refused; doctor_routes says these too.
SAY = {
    "work_no_taken": "工号已被使用。This work number is in use.",
    "not_found": "找不到。Not found.",
    "wrong_status": "该出诊已停诊。This session is stopped already.",
    "try_again": "系统繁忙，请重试。The system is busy: please try again.",
}
STOP_REFUSED = {
    "wrong_status": SAY["wrong_status"],
    "invalid_input": "请填写停诊原因（会告知患者）。A reason, told to the patients, is needed.",
    "not_found": "没有这个出诊。No such session.",
    "past_deadline": "该出诊已结束，不能停诊。This session is over: it cannot be stopped.",
    "try_again": SAY["try_again"],
}


def say(error: BookingError) -> str:
    """An error as staff read it."""
    if isinstance(error, HasFutureBookings):
        n, sessions = error.details.get("bookings", 0), error.details.get("sessions", [])
        return (
            f"该医生还有 {n} 个预约（{len(sessions)} 个出诊）尚未就诊：请先停诊这些出诊"
            f"（患者会收到通知并可转号），再删除医生。This doctor has {n} bookings to come in "
            f"{len(sessions)} sessions: stop those sessions first (each patient is told and "
            "offered a transfer), then remove the doctor."
        )
    if isinstance(error, InvalidInput):
        return f"输入有误 Please check: {error.message}"
    return SAY.get(error.reason, f"未完成 Not done: {error.message}")


def scope_of(text: str) -> tuple[str | None, str | None]:
    """A department chooser's value: "H01/CARD" → (hospital, department), "H01" → (hospital,
    None), "" → (None, None)."""
    found = _SCOPE.match(text.strip())
    if not found:
        if text.strip():
            raise InvalidInput("choose a department from the list", field="department")
        return None, None
    return found.group(1).upper(), (found.group(2) or "").upper() or None


def today(s: Services) -> date:
    return s.clock.now().astimezone(ZONE).date()


def missing(prefix: str, staff: Staff, what: str) -> Response:
    html = layout(prefix, "404", f"<p>{escape(what)}</p>", (staff.account, staff.csrf))
    return page(html, status_code=404)


router = APIRouter(route_class=OfficeRoute, include_in_schema=False, dependencies=[SIGNED_IN])
MayStopSessions = Annotated[Staff, Depends(may(Permission.STOP_SESSIONS))]
MayViewSchedules = Annotated[Staff, Depends(may(Permission.VIEW_SCHEDULES))]


@router.get("/sessions")
async def sessions(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayViewSchedules,
    day: Annotated[date | None, Query(alias="date")] = None,
    scope: Annotated[str, Query(max_length=40)] = "",
    doctor: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    catalogue = await load_catalogue(s.uows)
    shown = day or today(s)
    lines, error = [], None
    try:
        hospital, department = scope_of(scope)
        lines = await session_sheet(
            s.uows, shown, hospital_code=hospital, department_code=department,
            work_no=doctor.strip() or None,
        )  # fmt: skip
    except BookingError as refused_:
        error = say(refused_)
    html = session_pages.sessions(
        console.prefix, (staff.account, staff.csrf), catalogue, shown, scope, doctor, lines,
        error=error,
    )  # fmt: skip
    return page(html)


@router.get("/sessions/{session_id}")
async def one_session(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayViewSchedules,
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    stopped: Annotated[int | None, Query(ge=0)] = None,
    refused: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    try:
        line, bookings = await session_bookings(s.uows, session_id)
    except BookingError:
        return missing(console.prefix, staff, "没有这个出诊。No such session.")
    doctor = await find_doctor(s.uows, line.session.hospital_code, line.session.doctor_work_no)
    message = None
    if stopped is not None:
        message = (
            f"已停诊：{stopped} 个预约已取消，患者将收到通知。"
            f" Stopped: {stopped} bookings cancelled; the patients are told."
        )
    error = STOP_REFUSED.get(refused, "未完成 Not done.") if refused else None
    html = session_pages.session(
        console.prefix, (staff.account, staff.csrf), line, doctor.name if doctor else "", bookings,
        may_stop=staff.account.may(Permission.STOP_SESSIONS)
        and line.session.ends_at > s.clock.now(),
        message=message, error=error,
    )  # fmt: skip
    return page(html)


@router.post("/sessions/{session_id}/stop", dependencies=[CSRF])
async def stop(
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayStopSessions,
    form: PostedForm,
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    try:
        async with s.uows(readonly=True) as uow:
            found = await uow.sessions.get(session_id)
        if found is not None and found.ends_at <= s.clock.now():
            # Its patients were seen, or marked no-shows: a stop now would cancel and
            # refund visits that took place and tell the patients of a past session.
            raise PastDeadline("a session that has ended cannot be stopped")
        cancelled = await stop_session(
            s.uows, s.clock, session_id, form.get("reason", ""), by=staff.actor
        )
    except BookingError as error:
        after = {"action": "session.stop", "reason": error.reason}
        entry = staff.actor.did(s.clock.now(), audit.SCHEDULE_REFUSED, str(session_id), None, after)
        await audit.record(s.uows, entry)
        outcome = {"refused": error.reason}
    else:
        outcome = {"stopped": str(len(cancelled))}
    where = f"{console.prefix}/sessions/{session_id}?{urlencode(outcome)}"
    return RedirectResponse(where, status_code=303)
