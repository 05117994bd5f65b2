"""The searches and reads of /fhir: each search reads its parameters (unknown ones are refused
with a 400, so that a client's typo is not silently taken for "everything"), asks the handler,
and gives one page of resources (_count, at most 500; _offset for the next page) with the
number of every match. The ids of the resources: Practitioner and Schedule ``H01-00868``
(hospital, work number: one schedule per doctor), Slot ``<session id>-<queue number>``,
Appointment: the booking number."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from channels import fhir
from channels.fhir_handler import (
    AppointmentQuery,
    FhirError,
    FhirHandler,
    Params,
    PractitionerQuery,
    Resource,
    ScheduleQuery,
    SlotQuery,
)
from channels.fhir_in import APPOINTMENT_STATUSES, SLOT_STATUSES, FhirInvalid, date_range, token

MAX_COUNT = 500
DEFAULT_COUNT = 100
MAX_OFFSET = 1_000_000  # beyond any page a HIS would ask for; larger ones overflow SQL
_PAGING = {"_count", "_offset", "_format"}
# What each search takes (beside _count, _offset and _format); the CapabilityStatement says
# the same (channels/fhir_capability.py, checked by the tests).
PARAMETERS = {
    "Practitioner": {"identifier", "name"},
    "Schedule": {"actor", "date"},
    "Slot": {"schedule", "start", "status"},
    "Appointment": {"patient.identifier", "identifier", "date", "status"},
}
_JSON_FORMATS = {"json", "application/json", fhir.FHIR_JSON}
_DOCTOR_ID = re.compile(r"([A-Za-z0-9]{1,16})-([A-Za-z0-9.]{1,16})")
_SLOT_ID = re.compile(r"([0-9]{1,12})-([0-9]{1,5})")
_BOOKING_NO = re.compile(r"[0-9]{14}")


def doctor_id(hospital_code: str, work_no: str) -> str:
    return f"{hospital_code}-{work_no}"


def parse_doctor_id(text: str) -> tuple[str, str] | None:
    found = _DOCTOR_ID.fullmatch(text)
    return (found.group(1), found.group(2)) if found else None


def parse_slot_id(text: str) -> tuple[int, int] | None:
    found = _SLOT_ID.fullmatch(text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def audited_id(kind: str, rid: str) -> str:
    """The id for the audit log: only when it has the shape of one of ours, since a client's
    mistake (an ID number where a booking number goes) must not land there."""
    shapes = {"Slot": _SLOT_ID, "Appointment": _BOOKING_NO}
    shape = shapes.get(kind, _DOCTOR_ID)
    return f"{kind}/{rid}" if shape.fullmatch(rid) else f"{kind}/?"


@dataclass(frozen=True)
class Page:
    resources: list[Resource]
    next_offset: int | None
    total: int  # every match, on every page (Bundle.total)


def _check(params: Params, allowed: set[str]) -> tuple[int, int]:
    unknown = set(params) - allowed - _PAGING
    if unknown:
        raise FhirInvalid(f"unknown search parameter: {', '.join(sorted(unknown))}")
    try:
        count = int(params.get("_count", [str(DEFAULT_COUNT)])[-1])
        offset = int(params.get("_offset", ["0"])[-1])
    except ValueError:
        raise FhirInvalid("_count and _offset are whole numbers") from None
    if count < 0 or not 0 <= offset <= MAX_OFFSET:
        raise FhirInvalid(f"_count is 0 or more, _offset 0 to {MAX_OFFSET}")
    # More than the most a page holds is not an error in FHIR: the server gives fewer.
    # _count=0: no resources, only the total.
    count = min(count, MAX_COUNT)
    if not set(params.get("_format", [])) <= _JSON_FORMATS:
        raise FhirInvalid("_format: JSON only (json, application/fhir+json)")
    return count, offset


def _one(params: Params, name: str) -> str | None:
    values = params.get(name)
    if values and len(values) > 1:
        raise FhirInvalid(f"{name} may be given once")
    return values[0] if values else None


def _statuses(params: Params, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    raw = _one(params, "status")
    if raw is None:
        return None
    wanted = [v.strip() for v in raw.split(",")]
    if not all(v in allowed for v in wanted):
        raise FhirInvalid(f"status is one or more of {', '.join(allowed)}")
    return tuple(wanted)


def _paged(items: list[Resource], count: int, offset: int) -> Page:
    more = count > 0 and offset + count < len(items)
    return Page(items[offset : offset + count], offset + count if more else None, len(items))


def _doctor_ref(value: str, kind: str) -> tuple[str, str]:
    key = parse_doctor_id(value.removeprefix(f"{kind}/"))
    if key is None:
        raise FhirInvalid(f"not a {kind} reference: {value}")
    return key


async def practitioners(h: FhirHandler, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Practitioner"])
    work_no = None
    if (raw := _one(params, "identifier")) is not None:
        system, work_no = token(raw, "identifier")
        if system not in (None, fhir.WORK_NO):
            return Page([], None, 0)
    cards = await h.practitioners(PractitionerQuery(work_no, _one(params, "name")))
    return _paged([fhir.practitioner(c) for c in cards], count, offset)


async def schedules(h: FhirHandler, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Schedule"])
    actor = _one(params, "actor")
    first, last = date_range(params.get("date", []), "date")
    doctor = _doctor_ref(actor, "Practitioner") if actor else None
    found = await h.schedules(ScheduleQuery(doctor, first, last))
    return _paged([fhir.schedule(s) for s in found], count, offset)


async def slots(h: FhirHandler, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Slot"])
    schedule = _one(params, "schedule")
    hospital, work_no = _doctor_ref(schedule, "Schedule") if schedule else (None, None)
    first, last = date_range(params.get("start", []), "start")
    statuses = _statuses(params, SLOT_STATUSES)
    query = SlotQuery(hospital, work_no, first, last, statuses, offset=offset, limit=count)
    found, total = await h.slots(query)
    following = offset + count if count > 0 and offset + count < total else None
    return Page([fhir.slot(s) for s in found], following, total)


async def appointments(h: FhirHandler, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Appointment"])
    id_number = booking_no = None
    if (raw := _one(params, "patient.identifier")) is not None:
        system, id_number = token(raw, "patient.identifier")
        if system not in (None, fhir.RESIDENT_ID):
            return Page([], None, 0)
    if (raw := _one(params, "identifier")) is not None:
        system, booking_no = token(raw, "identifier")
        if system not in (None, fhir.BOOKING_NO):
            return Page([], None, 0)
    first, last = date_range(params.get("date", []), "date")
    statuses = _statuses(params, APPOINTMENT_STATUSES)
    query = AppointmentQuery(id_number, booking_no, first, last, statuses)
    return _paged([fhir.appointment(a) for a in await h.appointments(query)], count, offset)


SEARCHES: dict[str, Callable[[FhirHandler, Params], Awaitable[Page]]] = {
    "Practitioner": practitioners,
    "Schedule": schedules,
    "Slot": slots,
    "Appointment": appointments,
}


def _not_found(message: str) -> FhirError:
    return FhirError(404, "not-found", message, "not_found")


async def read_one(h: FhirHandler, kind: str, rid: str) -> Resource:
    """One resource by its id (a 404 otherwise)."""
    if kind == "Slot":
        place = parse_slot_id(rid)
        found = None if place is None else await h.slot(*place)
        if found is None:
            raise _not_found("no such slot")
        return fhir.slot(found)
    if kind == "Appointment":
        booked = await h.appointment(rid) if rid.isdigit() else None
        if booked is None:
            raise _not_found("no booking with this number")
        return fhir.appointment(booked)
    key = parse_doctor_id(rid)
    if key is not None and kind == "Practitioner":
        doctor = await h.practitioner(*key)
        if doctor is not None:
            return fhir.practitioner(doctor)
    if key is not None and kind == "Schedule":
        schedule = await h.schedule(*key)
        if schedule is not None:
            return fhir.schedule(schedule)
    raise _not_found(f"no such {kind}")
