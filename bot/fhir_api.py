"""/fhir: the FHIR R4 REST interface for the hospital information system (HIS). Reads and
searches Practitioner, Schedule, Slot and Appointment; books (POST Appointment) and changes
a booking's status (PUT/PATCH: cancelled, arrived, noshow) under the bot's own rules. Every
access needs a client's bearer token and is audited as "his:NAME"; an address that sends too
many wrong tokens is made to wait (docs/fhir.md)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from limits import parse

from booking.appointments.model import AppointmentStatus
from booking.errors import (
    AlreadyBooked,
    BookingError,
    InvalidInput,
    NotFound,
    PlaceTaken,
    SlotFull,
    TryAgain,
    WrongStatus,
)
from booking.his.booking import book_from_his, booked_already, change_status_from_his
from booking.his.clients import bad_token, client_for, his_actor
from booking.his.reads import TooMany, appointments
from booking.staff import audit
from booking.staff.model import Actor
from bot.fhir_records import (
    audited_id,
    parse_slot_id,
)
from bot.fhir_search import SEARCHES, FhirServices, Page, read_one
from channels import fhir
from channels.fhir_capability import capability_statement
from channels.fhir_in import FhirInvalid, booking_request, new_status
from channels.flood import FloodGate

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
# A refusal by the booking rules: 409 when the place or booking is not as the client thought
# (another took it), 422 when the rule itself refuses (window, blacklist, quota, stop…).
_CONFLICTS = (SlotFull, PlaceTaken, WrongStatus)


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # seconds
    first: bool  # the first refusal beyond the limit in its window: audited, the next are not


# A refused token from this address (None: unknown): None while it is within its limit.
BadTokenGate = Callable[[str | None], Awaitable[Throttled | None]]


def bad_token_gate(per_address: str, storage: str) -> BadTokenGate:
    """Refused tokens one network address may send (GUAHAO_FHIR_BAD_TOKENS_PER_ADDRESS), so
    that nobody fills the audit log with refusals (each is audited) at full speed. A valid
    token still works: it is looked up first; tokens are 256 random bits, beyond guessing.
    Counted in `storage` (GUAHAO_RATE_LIMIT_STORAGE), shared by the processes using it."""
    gate = FloodGate(per_address, "1000000/minute", storage)
    # Once per window of the limit: the log shows an address still throttled, at most so often.
    once = f"1 per {parse(per_address).get_expiry()} seconds"
    noticed = FloodGate(once, "1000000/minute", storage)

    async def count(address: str | None) -> Throttled | None:
        who = address or "unknown"
        held = await gate.admit("fhir-bad-token", who, None)
        if held is None:
            return None
        first = await noticed.admit("fhir-throttled", who, None) is None
        return Throttled(held.retry_after, first)

    return count


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reason = status, code, message, reason


def answer(content: dict[str, Any], status: int = 200, **headers: str) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=fhir.FHIR_JSON, headers=headers)


def refused(status: int, code: str, message: str, **headers: str) -> Response:
    return answer(fhir.outcome(code, message), status, **headers)


def _refusal_of(error: BookingError) -> _Refusal:
    if isinstance(error, NotFound):
        return _Refusal(404, "not-found", error.message, error.reason)
    if isinstance(error, _CONFLICTS):
        return _Refusal(409, "conflict", error.message, error.reason)
    if isinstance(error, TooMany):
        return _Refusal(400, "too-costly", error.message, error.reason)
    if isinstance(error, TryAgain):
        return _Refusal(503, "transient", error.message, error.reason)
    if isinstance(error, InvalidInput):
        return _Refusal(422, "invalid", error.message, error.reason)
    return _Refusal(422, "business-rule", error.message, error.reason)


_JSON = {fhir.FHIR_JSON, "application/json"}
_PATCH = {"application/json-patch+json", "application/json"}


async def read_body(request: Request, kinds: set[str] = _JSON) -> bytes:
    """At most MAX_BODY bytes, whatever Content-Length says; JSON only (no content type is
    taken for JSON too)."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind and kind not in kinds:
        message = f"the body must be one of {', '.join(sorted(kinds))}"
        raise _Refusal(415, "not-supported", message, "media_type")
    claimed = request.headers.get("content-length", "")
    if claimed.isdigit() and int(claimed) > MAX_BODY:  # refused before reading any of it
        raise _Refusal(413, "too-costly", "the request body is too large", "too_large")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise _Refusal(413, "too-costly", "the request body is too large", "too_large")
    except HTTPException as error:  # the application's own limit (the router's max_body_size)
        if error.status_code != 413:
            raise
        raise _Refusal(413, "too-costly", "the request body is too large", "too_large") from None
    return bytes(body)


def base_of(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _version() -> str:
    try:
        return metadata.version("guahao")
    except metadata.PackageNotFoundError:
        return "0"


def _log_failure(action: str, error: Exception) -> None:
    """Where it failed, without the exception's message: a validation error quotes its
    input, which may be a patient's name or ID number (no personal data in the logs)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames[-4:]))
    log.error("/fhir %s failed: %s at %s", action, type(error).__name__, where)


def fhir_router(
    services: Callable[[], FhirServices | None],
    version: str | None = None,
    bad_tokens: BadTokenGate | None = None,
) -> APIRouter:
    """`bad_tokens`: the limit on refused tokens per address (none when None)."""
    version = version or _version()
    # read_body answers past MAX_BODY itself, as an OperationOutcome; the application's fence
    # (plain 413) stands further out, for what is far larger still.
    web = APIRouter(prefix="/fhir", include_in_schema=False, max_body_size=16 * MAX_BODY)

    async def unknown(s: FhirServices, bearer: str | None, address: str | None) -> Response:
        """401, or 429 once the address has sent too many refused tokens; then only the
        first is audited, so that the log shows it without a write for every try. Those
        audited are counted on one entry per address and kind
        (booking.staff.audit.record_repeated)."""
        throttled = None if bad_tokens is None else await bad_tokens(address)
        if throttled is None or throttled.first:
            await bad_token(s.uows, s.clock, bearer, address, throttled=throttled is not None)
        if throttled is not None:
            message = "too many refused tokens from this address; try again later"
            return refused(429, "throttled", message, **{"Retry-After": str(throttled.retry_after)})
        challenge = 'Bearer error="invalid_token"' if bearer else "Bearer"
        message = "a valid bearer token is needed"
        return refused(401, "login", message, **{"WWW-Authenticate": challenge})

    async def guarded(
        request: Request, action: str, target: str | None,
        work: Callable[[FhirServices, Actor], Awaitable[Response]],
    ) -> Response:  # fmt: skip
        s = services()
        if s is None:
            return refused(503, "transient", "the server is starting")
        address = request.client.host if request.client else None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        client = await client_for(s.uows, bearer)
        if client is None:  # a valid token is never throttled: counted only when refused
            return await unknown(s, bearer, address)
        actor = his_actor(client.name, address)
        try:
            return await work(s, actor)
        except FhirInvalid as error:
            refusal = _Refusal(400, "invalid", str(error), "invalid_resource")
        except BookingError as error:
            refusal = _refusal_of(error)
        except _Refusal as error:
            refusal = error
        except Exception as error:  # answered as FHIR, and logged
            _log_failure(action, error)
            refusal = _Refusal(500, "exception", "the server failed; nothing was saved", "error")
        after = {"reason": refusal.reason, "status": refusal.status, "action": action}
        try:
            entry = actor.did(s.clock.now(), audit.HIS_REFUSED, target, None, after)
            await audit.record(s.uows, entry)
        except Exception:  # the database is down: the answer still goes out
            log.error("/fhir: could not audit a refusal (%s)", refusal.reason)
        return refused(refusal.status, refusal.code, refusal.message)

    @web.get("/metadata")
    async def capabilities(request: Request) -> Response:
        s = services()
        if s is None:
            return refused(503, "transient", "the server is starting")
        return answer(capability_statement(base_of(request), s.clock.now(), version))

    @web.get("/{kind}")
    async def search(request: Request, kind: str) -> Response:
        if kind not in SEARCHES:
            return refused(404, "not-supported", f"no resource type {kind} here")

        async def work(s: FhirServices, actor: Actor) -> Response:
            params: dict[str, list[str]] = {}
            for name, value in request.query_params.multi_items():
                params.setdefault(name, []).append(value)
            page: Page = await SEARCHES[kind](s, params)
            self_url = f"{base_of(request)}/{kind}?{urlencode(request.query_params.multi_items())}"
            next_url = None
            if page.next_offset is not None:
                more = [(n, v) for n, v in request.query_params.multi_items() if n != "_offset"]
                more.append(("_offset", str(page.next_offset)))
                next_url = f"{base_of(request)}/{kind}?{urlencode(more)}"
            after = {"params": sorted(params), "count": len(page.resources)}
            entry = actor.did(s.clock.now(), audit.HIS_SEARCH, kind, None, after)
            await audit.record(s.uows, entry)
            bundle = fhir.searchset(
                base_of(request), kind, page.resources, page.total, self_url, next_url
            )
            return answer(bundle)

        return await guarded(request, audit.HIS_SEARCH, kind, work)

    @web.get("/{kind}/{rid}")
    async def read(request: Request, kind: str, rid: str) -> Response:
        if kind not in SEARCHES:
            return refused(404, "not-supported", f"no resource type {kind} here")

        target = audited_id(kind, rid)

        async def work(s: FhirServices, actor: Actor) -> Response:
            resource = await read_one(s, kind, rid)
            await audit.record(s.uows, actor.did(s.clock.now(), audit.HIS_READ, target))
            return answer(resource)

        return await guarded(request, audit.HIS_READ, target, work)

    @web.post("/Appointment")
    async def create(request: Request) -> Response:
        async def work(s: FhirServices, actor: Actor) -> Response:
            wanted = booking_request(await read_body(request))
            place = parse_slot_id(wanted.slot_id)
            if place is None:
                raise NotFound("no such slot", what="slot")
            try:
                receipt = await book_from_his(
                    s.uows, s.protector, s.clock, actor, name=wanted.name,
                    id_number=wanted.id_number, phone=wanted.phone,
                    session_id=place[0], queue_no=place[1],
                )  # fmt: skip
            except AlreadyBooked:  # the same request again, its answer lost: not an error
                earlier = await booked_already(s.uows, s.protector, wanted.id_number, *place)
                if earlier is None:
                    raise
                target = f"Appointment/{earlier.booking_no}"
                after = {"repeated_create": True}
                entry = actor.did(s.clock.now(), audit.HIS_READ, target, None, after)
                await audit.record(s.uows, entry)
                resource = await read_one(s, "Appointment", earlier.booking_no)
                return answer(resource, 200, Location=f"{base_of(request)}/{target}")
            booking_no = receipt.appointment.booking_no
            resource = await read_one(s, "Appointment", booking_no)
            where = f"{base_of(request)}/Appointment/{booking_no}"
            return answer(resource, 201, Location=where)

        return await guarded(request, audit.HIS_BOOK, "Appointment", work)

    async def change(request: Request, rid: str, *, patch: bool) -> Response:
        async def work(s: FhirServices, actor: Actor) -> Response:
            body = await read_body(request, _PATCH if patch else _JSON)
            status = AppointmentStatus(new_status(body, patch=patch, rid=rid))
            found = await appointments(s.uows, s.protector, booking_no=rid)
            if not found:
                raise NotFound("no booking with this number", what="booking")
            if found[0].status is not status:  # audited by the change itself
                await change_status_from_his(s.uows, s.clock, actor, rid, status)
            else:  # nothing to change, but the access is audited all the same
                after = {"status": status.value, "changed": False}
                entry = actor.did(s.clock.now(), audit.HIS_UPDATE, target, None, after)
                await audit.record(s.uows, entry)
            return answer(await read_one(s, "Appointment", rid))

        target = audited_id("Appointment", rid)
        return await guarded(request, audit.HIS_UPDATE, target, work)

    @web.put("/Appointment/{rid}")
    async def put(request: Request, rid: str) -> Response:
        return await change(request, rid, patch=False)

    @web.patch("/Appointment/{rid}")
    async def patch(request: Request, rid: str) -> Response:
        return await change(request, rid, patch=True)

    # Last: whatever the routes above do not serve, as an OperationOutcome (FastAPI's own
    # answer is not FHIR): a method the path has not (405), or no such path (404).
    @web.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    async def unsupported(request: Request, path: str) -> Response:
        parts = path.strip("/").split("/")
        known = (parts[0] in SEARCHES and len(parts) <= 2) or parts == ["metadata"]
        if not known:
            return refused(404, "not-supported", f"nothing at /fhir/{path[:40]} here")
        allowed = "GET, POST" if parts == ["Appointment"] else "GET"
        if parts[0] == "Appointment" and len(parts) == 2:
            allowed = "GET, PUT, PATCH"
        message = f"{request.method} is not supported here"
        return refused(405, "not-supported", message, Allow=allowed)

    return web
