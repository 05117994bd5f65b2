"""The searches of /fhir: each reads its parameters (unknown ones are refused with a 400, so
that a client's typo is not silently taken for "everything"), asks the booking read models,
and gives one page of resources (_count, at most 500; _offset for the next page) with the
number of every match."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from booking.appointments.model import AppointmentStatus
from booking.catalogue.schedule import PlaceStatus
from booking.clock import Clock
from booking.errors import InvalidInput, NotFound
from booking.his.ports import PlaceFilter
from booking.his.reads import SlotView, appointments, doctor_cards, schedules, slots
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.fhir_records import (
    appointment_record,
    doctor_record,
    parse_doctor_id,
    parse_slot_id,
    schedule_record,
    slot_record,
)
from channels import fhir
from channels.fhir_in import (
    APPOINTMENT_STATUSES,
    SLOT_STATUSES,
    FhirInvalid,
    date_range,
    token,
)

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


class FhirServices(Protocol):
    """What /fhir needs from the application, once it has started."""

    @property
    def uows(self) -> UnitOfWorkFactory[HospitalWork]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def protector(self) -> Protector: ...


@dataclass(frozen=True)
class Page:
    resources: list[dict[str, Any]]
    next_offset: int | None
    total: int  # every match, on every page (Bundle.total)


Params = dict[str, list[str]]


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


def _statuses(params: Params, allowed: tuple[str, ...]) -> list[str] | None:
    raw = _one(params, "status")
    if raw is None:
        return None
    wanted = [v.strip() for v in raw.split(",")]
    if not all(v in allowed for v in wanted):
        raise FhirInvalid(f"status is one or more of {', '.join(allowed)}")
    return wanted


def _paged(items: list[dict[str, Any]], count: int, offset: int) -> Page:
    more = count > 0 and offset + count < len(items)
    return Page(items[offset : offset + count], offset + count if more else None, len(items))


def _doctor_ref(value: str, kind: str) -> tuple[str, str]:
    key = parse_doctor_id(value.removeprefix(f"{kind}/"))
    if key is None:
        raise FhirInvalid(f"not a {kind} reference: {value}")
    return key


async def practitioners(s: FhirServices, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Practitioner"])
    work_no = None
    if (raw := _one(params, "identifier")) is not None:
        system, work_no = token(raw, "identifier")
        if system not in (None, fhir.WORK_NO):
            return Page([], None, 0)
    cards = await doctor_cards(s.uows, work_no=work_no, name=_one(params, "name"))
    return _paged([fhir.practitioner(doctor_record(c)) for c in cards], count, offset)


async def schedules_found(s: FhirServices, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Schedule"])
    actor = _one(params, "actor")
    first, last = date_range(params.get("date", []), "date")
    views = await schedules(
        s.uows,
        doctor=_doctor_ref(actor, "Practitioner") if actor else None,
        date_from=first,
        date_to=last,
    )
    return _paged([fhir.schedule(schedule_record(v)) for v in views], count, offset)


async def slots_found(s: FhirServices, params: Params) -> Page:
    count, offset = _check(params, PARAMETERS["Slot"])
    schedule = _one(params, "schedule")
    hospital, work_no = _doctor_ref(schedule, "Schedule") if schedule else (None, None)
    first, last = date_range(params.get("start", []), "start")
    statuses = _statuses(params, SLOT_STATUSES)
    f = PlaceFilter(
        hospital_code=hospital,
        doctor_work_no=work_no,
        date_from=first,
        date_to=last,
        statuses=tuple(PlaceStatus(v) for v in statuses) if statuses else None,
        offset=offset,
        limit=count,
    )
    found, total = await slots(s.uows, f)
    following = offset + count if count > 0 and offset + count < total else None
    return Page([fhir.slot(slot_record(v)) for v in found], following, total)


async def appointments_found(s: FhirServices, params: Params) -> Page:
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
    try:
        views = await appointments(
            s.uows,
            s.protector,
            id_number=id_number,
            booking_no=booking_no,
            date_from=first,
            date_to=last,
            statuses=tuple(AppointmentStatus(v) for v in statuses) if statuses else None,
        )
    except InvalidInput as error:  # e.g. an ID number with a wrong check digit
        raise FhirInvalid(error.message) from None
    return _paged([fhir.appointment(appointment_record(v)) for v in views], count, offset)


SEARCHES: dict[str, Callable[[FhirServices, Params], Awaitable[Page]]] = {
    "Practitioner": practitioners,
    "Schedule": schedules_found,
    "Slot": slots_found,
    "Appointment": appointments_found,
}


async def read_one(s: FhirServices, kind: str, rid: str) -> dict[str, Any]:
    """One resource by its id (NotFound otherwise)."""
    if kind == "Slot":
        place = parse_slot_id(rid)
        found: list[SlotView] = []
        if place is not None:
            f = PlaceFilter(session_id=place[0], queue_no=place[1], limit=1)
            found, _ = await slots(s.uows, f)
        if not found:
            raise NotFound("no such slot", what="slot")
        return fhir.slot(slot_record(found[0]))
    if kind == "Appointment":
        views = await appointments(s.uows, s.protector, booking_no=rid) if rid.isdigit() else []
        if not views:
            raise NotFound("no booking with this number", what="booking")
        return fhir.appointment(appointment_record(views[0]))
    key = parse_doctor_id(rid)
    if key is not None and kind == "Practitioner":
        for card in await doctor_cards(s.uows, work_no=key[1]):
            if card.hospital.code == key[0]:
                return fhir.practitioner(doctor_record(card))
    if key is not None and kind == "Schedule":
        for view in await schedules(s.uows, doctor=key):
            return fhir.schedule(schedule_record(view))
    raise NotFound(f"no such {kind}", what=kind.lower())
