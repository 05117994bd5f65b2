"""The complaint desk's JSON API, for the hospital's own tools: the same permission, department
scoping and audit as the pages. Signed in by the session cookie; a POST carries the session's
CSRF token in the X-CSRF-Token header. Documented in the OpenAPI (/docs) unlike the pages.

GET  {prefix}/api/complaints?status=…            ComplaintList
GET  {prefix}/api/complaints/{no}                ComplaintDetail (404: unknown or not yours)
POST {prefix}/api/complaints/{no}/accept         {}                       -> ComplaintOut
POST {prefix}/api/complaints/{no}/reply          {"text": "…"}            -> ComplaintOut
POST {prefix}/api/complaints/{no}/resolve        {"text": "…"}            -> ComplaintOut
POST {prefix}/api/complaints/{no}/forward        {"department_code": "…"} -> ComplaintOut
POST {prefix}/api/complaints/{no}/escalate       {}                       -> ComplaintOut
Refusals: 401 not signed in, 403 (audited) not allowed or no CSRF token, 404, 409 the rules
refuse (closed, accepted by someone else, at the top level), 422 bad input; {"reason", "message"}.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backoffice.console import Console, Services, Staff
from backoffice.deps import (
    CSRF_IN_HEADER,
    SIGNED_IN,
    ApiRoute,
    ConsoleDep,
    ServicesDep,
    may,
    problem,
)
from booking.complaints.desk import Opened, Step, act, complaints_for, is_overdue, open_complaint
from booking.complaints.filing import MAX_TEXT
from booking.complaints.model import (
    Action,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    UnknownComplaint,
)
from booking.errors import BookingError, TryAgain, WrongStatus
from booking.staff.model import Permission

COMPLAINT_NO = r"^[0-9A-Za-z]{4,16}$"
Number = Annotated[str, Path(pattern=COMPLAINT_NO)]
TAGS: list[str | Any] = ["complaints (back office)"]
MAX_BODY = 16 * 1024  # a reply of MAX_TEXT characters, each escaped as \uXXXX, fits


class Problem(BaseModel):
    reason: str
    message: str


class ComplaintOut(BaseModel):
    complaint_no: str
    category: ComplaintCategory
    department_code: str | None
    status: ComplaintStatus
    level: int = Field(description="0 department, 1 complaints office, 2 management")
    channel: str = Field(description="where it came from, and where the patient is answered")
    answerable: bool = Field(description="false: taken by phone, replies are only recorded")
    created_at: datetime
    updated_at: datetime
    accept_by: datetime | None = Field(description="escalated if nobody accepts it by then")
    overdue: bool
    accepted_by: str | None
    accepted_at: datetime | None


class ActionOut(BaseModel):
    action: Action
    at: datetime
    level: int
    staff: str | None = Field(description="null: the system (automatic escalation)")
    department_code: str | None
    text: str | None = Field(description="a reply or result, as told to the patient")


class ComplaintDetail(ComplaintOut):
    text: str = Field(description="what the patient said")
    history: list[ActionOut]


class ComplaintList(BaseModel):
    complaints: list[ComplaintOut]


class Answer(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Forward(BaseModel):
    department_code: str = Field(min_length=1, max_length=16)


class Nothing(BaseModel):
    """No fields: the action says it all."""


Body = TypeVar("Body", Answer, Forward, Nothing)


REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422)
}


def out(c: Complaint, now: datetime) -> ComplaintOut:
    return ComplaintOut(
        complaint_no=c.complaint_no, category=c.category, department_code=c.department_code,
        status=c.status, level=c.level, channel=c.channel, answerable=c.answerable,
        created_at=c.created_at, updated_at=c.updated_at, accept_by=c.accept_by,
        overdue=is_overdue(c, now), accepted_by=c.accepted_by.name if c.accepted_by else None,
        accepted_at=c.accepted_at,
    )  # fmt: skip


def detail(opened: Opened, now: datetime) -> ComplaintDetail:
    history = [
        ActionOut(
            action=a.action,
            at=a.at,
            level=a.level,
            staff=a.staff.name if a.staff else None,
            department_code=a.department_code,
            text=a.text,
        )
        for a in opened.history
    ]
    base = out(opened.complaint, now).model_dump()
    return ComplaintDetail(**base, text=opened.text, history=history)


def refusal(error: BookingError) -> JSONResponse:
    if isinstance(error, UnknownComplaint):
        return problem(404, "not_found", "no complaint has this number")
    if isinstance(error, TryAgain):
        return problem(503, error.reason, error.message)
    # The rules refuse (closed, accepted by someone else, at the top level), or the input is
    # wrong (an empty text, an unknown department).
    status = 409 if isinstance(error, WrongStatus) else 422
    return problem(status, type(error).__name__, error.message)


def _no_constants(name: str) -> float:
    raise ValueError("NaN and Infinity are not JSON")


async def read_body(request: Request, kind: type[Body]) -> Body | JSONResponse:
    """The JSON body as `kind` (an empty one: no fields), or a 422 that quotes nothing of it."""
    raw = await request.body()  # within MAX_BODY (the route's limit)
    try:
        data = json.loads(raw, parse_constant=_no_constants) if raw.strip() else None
        return kind.model_validate({} if data is None else data)
    except (ValueError, RecursionError):  # ValidationError is a ValueError
        return problem(422, "invalid_request", "the body is not what this action expects")


router = APIRouter(route_class=ApiRoute, dependencies=[SIGNED_IN])
MayHandleComplaints = Annotated[Staff, Depends(may(Permission.HANDLE_COMPLAINTS))]


@router.get("/api/complaints", response_model=ComplaintList, responses=REFUSALS, tags=TAGS)
async def list_complaints(
    s: ServicesDep, staff: MayHandleComplaints, status: ComplaintStatus | None = None
) -> Any:
    found = await complaints_for(s.uows, s.clock, staff.account, status)
    now = s.clock.now()
    return ComplaintList(complaints=[out(item.complaint, now) for item in found])


@router.get(
    "/api/complaints/{complaint_no}",
    response_model=ComplaintDetail,
    responses=REFUSALS,
    tags=TAGS,
)
async def get_complaint(s: ServicesDep, staff: MayHandleComplaints, complaint_no: Number) -> Any:
    try:
        opened = await open_complaint(
            s.uows, s.protector, s.clock, staff.account, staff.actor, complaint_no
        )
    except BookingError as error:
        return refusal(error)
    return detail(opened, s.clock.now())


async def step(
    request: Request,
    console: Console,
    s: Services,
    staff: Staff,
    complaint_no: str,
    what: Step,
    kind: type[Body],
) -> Any:
    body = await read_body(request, kind)  # the caller and their token are known by now
    if not isinstance(body, BaseModel):
        return body
    try:
        text, department = getattr(body, "text", ""), getattr(body, "department_code", "")
        complaint = await act(
            s.uows, s.protector, s.clock, staff.account, staff.actor, complaint_no, what,
            text=text, department_code=department, accept_within=console.complaint_within,
        )  # fmt: skip
    except BookingError as error:
        return refusal(error)
    return out(complaint, s.clock.now())


def documented(kind: type[Body], required: bool = True) -> dict[str, Any]:
    """The body is read by `step` once the caller is known, so it is described here."""
    schema = {"content": {"application/json": {"schema": kind.model_json_schema()}}}
    return {
        "response_model": ComplaintOut,
        "responses": REFUSALS,
        "tags": TAGS,
        "dependencies": [CSRF_IN_HEADER],
        "max_body_size": MAX_BODY,  # 413 past it, unread
        "openapi_extra": {"requestBody": {**schema, "required": required}},
    }


@router.post("/api/complaints/{complaint_no}/accept", **documented(Nothing, required=False))
async def accept(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Number,
) -> Any:
    """受理: take it on (no longer escalated for want of someone)."""
    return await step(request, console, s, staff, complaint_no, "accept", Nothing)


@router.post("/api/complaints/{complaint_no}/reply", **documented(Answer))
async def reply(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Number,
) -> Any:
    """回复: told to the patient on the complaint's channel."""
    return await step(request, console, s, staff, complaint_no, "reply", Answer)


@router.post("/api/complaints/{complaint_no}/resolve", **documented(Answer))
async def resolve(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Number,
) -> Any:
    """办结: the result, told to the patient; the complaint is closed."""
    return await step(request, console, s, staff, complaint_no, "resolve", Answer)


@router.post("/api/complaints/{complaint_no}/forward", **documented(Forward))
async def forward(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Number,
) -> Any:
    """转办: another department is responsible."""
    return await step(request, console, s, staff, complaint_no, "forward", Forward)


@router.post("/api/complaints/{complaint_no}/escalate", **documented(Nothing, required=False))
async def escalate(
    request: Request,
    console: ConsoleDep,
    s: ServicesDep,
    staff: MayHandleComplaints,
    complaint_no: Number,
) -> Any:
    """升级: the level above takes it over."""
    return await step(request, console, s, staff, complaint_no, "escalate", Nothing)
