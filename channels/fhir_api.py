"""/fhir: the FHIR R4 REST interface for the hospital information system (HIS). Reads and
searches Practitioner, Schedule, Slot and Appointment; books (POST Appointment) and changes
a booking's status (PUT/PATCH: cancelled, arrived, noshow) through the handler the
application injects (channels.fhir_handler). Every access needs a client's bearer token and
is audited by the handler; an address that sends too many wrong tokens is made to wait
(docs/fhir.md)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from limits import parse

from channels import fhir
from channels.fhir_capability import capability_statement
from channels.fhir_handler import Caller, FhirError, FhirHandler, Interaction
from channels.fhir_in import FhirInvalid, booking_request, new_status
from channels.fhir_search import SEARCHES, Page, audited_id, parse_slot_id, read_one
from channels.flood import FloodGate

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Throttled:
    retry_after: int  # seconds
    first: bool  # the first refusal beyond the limit in its window: audited, the next are not


# A refused token from this address (None: unknown): None while it is within its limit.
BadTokenGate = Callable[[str | None], Awaitable[Throttled | None]]
# The handler of the running application; None while it starts.
Handlers = Callable[[], FhirHandler | None]


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


def answer(content: dict[str, Any], status: int = 200, **headers: str) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=fhir.FHIR_JSON, headers=headers)


def refused(status: int, code: str, message: str, **headers: str) -> Response:
    return answer(fhir.outcome(code, message), status, **headers)


_JSON = {fhir.FHIR_JSON, "application/json"}
_PATCH = {"application/json-patch+json", "application/json"}


def _too_large() -> FhirError:
    return FhirError(413, "too-costly", "the request body is too large", "too_large")


async def read_body(request: Request, kinds: set[str] = _JSON) -> bytes:
    """At most MAX_BODY bytes, whatever Content-Length says; JSON only (no content type is
    taken for JSON too)."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind and kind not in kinds:
        message = f"the body must be one of {', '.join(sorted(kinds))}"
        raise FhirError(415, "not-supported", message, "media_type")
    claimed = request.headers.get("content-length", "")
    if claimed.isdigit() and int(claimed) > MAX_BODY:  # refused before reading any of it
        raise _too_large()
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY:
                raise _too_large()
    except HTTPException as error:  # the application's own limit (the router's max_body_size)
        if error.status_code != 413:
            raise
        raise _too_large() from None
    return bytes(body)


def base_of(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _version() -> str:
    try:
        return metadata.version("guahao")
    except metadata.PackageNotFoundError:
        return "0"


def _starting() -> Response:
    return refused(503, "transient", "the server is starting")


def fhir_router(
    handlers: Handlers, version: str | None = None, bad_tokens: BadTokenGate | None = None
) -> APIRouter:
    """`bad_tokens`: the limit on refused tokens per address (none when None)."""
    version = version or _version()
    # read_body answers past MAX_BODY itself, as an OperationOutcome; the application's fence
    # (plain 413) stands further out, for what is far larger still.
    web = APIRouter(prefix="/fhir", include_in_schema=False, max_body_size=16 * MAX_BODY)

    async def unknown(h: FhirHandler, bearer: str | None, address: str | None) -> Response:
        """401, or 429 once the address has sent too many refused tokens; then only the
        first is audited, so that the log shows it without a write for every try."""
        throttled = None if bad_tokens is None else await bad_tokens(address)
        if throttled is None or throttled.first:
            await h.refused_token(bearer, address, throttled=throttled is not None)
        if throttled is not None:
            message = "too many refused tokens from this address; try again later"
            return refused(429, "throttled", message, **{"Retry-After": str(throttled.retry_after)})
        challenge = 'Bearer error="invalid_token"' if bearer else "Bearer"
        message = "a valid bearer token is needed"
        return refused(401, "login", message, **{"WWW-Authenticate": challenge})

    async def guarded(
        request: Request, interaction: Interaction, target: str | None,
        work: Callable[[FhirHandler, Caller], Awaitable[Response]],
    ) -> Response:  # fmt: skip
        h = handlers()
        if h is None:
            return _starting()
        address = request.client.host if request.client else None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        client = await h.client(bearer)
        if client is None:  # a valid token is never throttled: counted only when refused
            return await unknown(h, bearer, address)
        caller = Caller(client, address)
        failure = None
        try:
            return await work(h, caller)
        except FhirInvalid as error:
            refusal = FhirError(400, "invalid", str(error), "invalid_resource")
        except FhirError as error:
            refusal = error
        except Exception as error:  # answered as FHIR; the handler logs it
            failure = error
            refusal = FhirError(500, "exception", "the server failed; nothing was saved", "error")
        await h.refused(caller, interaction, target, refusal, failure)
        return refused(refusal.status, refusal.code, refusal.message)

    @web.get("/metadata")
    async def capabilities(request: Request) -> Response:
        h = handlers()
        if h is None:
            return _starting()
        return answer(capability_statement(base_of(request), h.now(), version))

    @web.get("/{kind}")
    async def search(request: Request, kind: str) -> Response:
        if kind not in SEARCHES:
            return refused(404, "not-supported", f"no resource type {kind} here")

        async def work(h: FhirHandler, caller: Caller) -> Response:
            params: dict[str, list[str]] = {}
            for name, value in request.query_params.multi_items():
                params.setdefault(name, []).append(value)
            page: Page = await SEARCHES[kind](h, params)
            self_url = f"{base_of(request)}/{kind}?{urlencode(request.query_params.multi_items())}"
            next_url = None
            if page.next_offset is not None:
                more = [(n, v) for n, v in request.query_params.multi_items() if n != "_offset"]
                more.append(("_offset", str(page.next_offset)))
                next_url = f"{base_of(request)}/{kind}?{urlencode(more)}"
            await h.searched(caller, kind, sorted(params), len(page.resources))
            bundle = fhir.searchset(
                base_of(request), kind, page.resources, page.total, self_url, next_url
            )
            return answer(bundle)

        return await guarded(request, "search", kind, work)

    @web.get("/{kind}/{rid}")
    async def read(request: Request, kind: str, rid: str) -> Response:
        if kind not in SEARCHES:
            return refused(404, "not-supported", f"no resource type {kind} here")

        target = audited_id(kind, rid)

        async def work(h: FhirHandler, caller: Caller) -> Response:
            resource = await read_one(h, kind, rid)
            await h.was_read(caller, target)
            return answer(resource)

        return await guarded(request, "read", target, work)

    @web.post("/Appointment")
    async def create(request: Request) -> Response:
        async def work(h: FhirHandler, caller: Caller) -> Response:
            wanted = booking_request(await read_body(request))
            place = parse_slot_id(wanted.slot_id)
            if place is None:
                raise FhirError(404, "not-found", "no such slot", "not_found")
            booked = await h.book(caller, wanted, *place)
            resource = await read_one(h, "Appointment", booked.booking_no)
            where = f"{base_of(request)}/Appointment/{booked.booking_no}"
            return answer(resource, 201 if booked.created else 200, Location=where)

        return await guarded(request, "create", "Appointment", work)

    async def change(request: Request, rid: str, *, patch: bool) -> Response:
        async def work(h: FhirHandler, caller: Caller) -> Response:
            body = await read_body(request, _PATCH if patch else _JSON)
            await h.change_status(caller, rid, new_status(body, patch=patch, rid=rid), target)
            return answer(await read_one(h, "Appointment", rid))

        target = audited_id("Appointment", rid)
        return await guarded(request, "update", target, work)

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
