"""FHIR R4 coming in: a booking (Appointment create), a status change (PUT or JSON Patch),
search parameters, and the Practitioner/Schedule/Slot bundles of another HIS (the sync).
Every resource is read through the R4B models; what they leave unchecked (codes, references)
is checked here. Errors are FhirInvalid, told to the client as a 400 OperationOutcome."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from pydantic import ValidationError

from channels.fhir import (
    CLINIC_TYPE,
    CONSULTATION_FEE,
    DEPARTMENT,
    HOSPITAL,
    REGISTRATION_FEE,
    RESIDENT_ID,
    WORK_NO,
)

APPOINTMENT_STATUSES = ("booked", "arrived", "fulfilled", "cancelled", "noshow")
SLOT_STATUSES = ("free", "busy", "busy-unavailable", "busy-tentative")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class FhirInvalid(Exception):
    """A malformed resource or search parameter."""


@dataclass(frozen=True)
class BookingRequest:
    slot_id: str
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class DoctorIn:
    id: str
    work_no: str
    name: str
    name_en: str
    title: str
    active: bool


@dataclass(frozen=True)
class ScheduleIn:
    practitioner_id: str
    hospital_code: str | None
    department_code: str
    department_name: str
    clinic_type: str
    clinic_type_name: str


@dataclass(frozen=True)
class SlotIn:
    schedule_id: str
    start: datetime  # the end is not read: a session's places divide its hours evenly
    registration_fee: Decimal | None
    consultation_fee: Decimal | None


def read_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reading
        raise FhirInvalid("the body is not JSON") from None
    if not isinstance(data, dict):
        raise FhirInvalid("the body is not a JSON object")
    return data


def _model(kind: type[Any], data: dict[str, Any]) -> Any:
    if data.get("resourceType") != kind.__name__:
        raise FhirInvalid(f"expected a {kind.__name__} resource")
    try:
        return kind.model_validate(data)
    except (ValidationError, ValueError) as error:
        raise FhirInvalid(f"not a valid {kind.__name__}: {_first_error(error)}") from None


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors():
        e = error.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(error).splitlines()[0]


def booking_request(body: bytes) -> BookingRequest:
    """An Appointment to create: status booked (or proposed/pending), one Slot, and the
    patient as a contained Patient with the ID number, name and phone (实名制)."""
    a = _model(Appointment, read_json(body))
    if a.status not in ("booked", "proposed", "pending"):
        raise FhirInvalid("a new Appointment has status booked, proposed or pending")
    if not a.slot or len(a.slot) != 1 or not (a.slot[0].reference or "").startswith("Slot/"):
        raise FhirInvalid("a new Appointment names exactly one Slot (slot: Slot/ID)")
    patients = {p.id: p for p in (a.contained or []) if p.get_resource_type() == "Patient"}
    refs = [
        (p.actor.reference or "")[1:]
        for p in a.participant
        if p.actor is not None and (p.actor.reference or "").startswith("#")
    ]
    found = [patients[r] for r in refs if r in patients]
    if len(found) != 1:
        raise FhirInvalid("name the patient as a contained Patient (participant actor #id)")
    patient = found[0]
    # The ID number's system, or else the one identifier that names no system: a HIS that
    # sends its own record number too is not taken to have sent an ID number.
    ids = patient.identifier or []
    id_number = next((i.value for i in ids if i.system == RESIDENT_ID and i.value), None)
    if id_number is None and [i for i in ids if i.system is None]:
        id_number = next(i.value for i in ids if i.system is None)
    name = None
    for n in patient.name or []:
        name = n.text or ("".join([n.family or "", *(n.given or [])]) or None)
        if name:
            break
    phone = next((t.value for t in patient.telecom or [] if t.system == "phone" and t.value), None)
    if not (id_number and name and phone):
        raise FhirInvalid("the Patient needs an identifier (ID number), a name and a phone")
    return BookingRequest(a.slot[0].reference[5:], name, id_number, phone)


def new_status(body: bytes, *, patch: bool, rid: str) -> str:
    """The status a PUT (the whole Appointment ``rid``) or a JSON Patch (replace /status)
    sets."""
    if patch:
        try:
            ops = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested beyond reading
            raise FhirInvalid("the body is not JSON") from None
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            raise FhirInvalid("a JSON Patch is a list of operations")
        wanted = [op.get("value") for op in ops if op.get("path") == "/status"]
        if len(ops) != 1 or ops[0].get("op") not in ("replace", "add") or len(wanted) != 1:
            raise FhirInvalid("only one change may be patched: replace /status")
        status = wanted[0]
    else:
        whole = _model(Appointment, read_json(body))
        if whole.id is not None and whole.id != rid:
            raise FhirInvalid("the Appointment's id is not the one in the URL")
        status = whole.status
    if status not in APPOINTMENT_STATUSES:
        raise FhirInvalid(f"status must be one of {', '.join(APPOINTMENT_STATUSES)}")
    return str(status)


def date_range(values: list[str], name: str) -> tuple[date | None, date | None]:
    """FHIR date search: YYYY-MM-DD with eq (the default), ge, gt, le or lt; the inclusive
    first and last date."""
    first: date | None = None
    last: date | None = None
    for raw in values:
        prefix, text = (raw[:2], raw[2:]) if raw[:2].isalpha() else ("eq", raw)
        try:  # a day, as the schedule knows no finer dates; a time would be half-heeded
            day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            raise FhirInvalid(f"{name}={raw}: not a date like ge2026-11-25")
        if not 1970 <= day.year <= 9998:  # a day either side must still be a date, and a time
            raise FhirInvalid(f"{name}={raw}: the date is out of range")
        if prefix == "eq":
            first, last = _later(first, day), _earlier(last, day)
        elif prefix in ("ge", "gt"):
            first = _later(first, day + timedelta(days=prefix == "gt"))
        elif prefix in ("le", "lt"):
            last = _earlier(last, day - timedelta(days=prefix == "lt"))
        else:
            raise FhirInvalid(f"{name}={raw}: the prefix must be eq, ge, gt, le or lt")
    return first, last


def _later(a: date | None, b: date) -> date:
    return b if a is None else max(a, b)


def _earlier(a: date | None, b: date) -> date:
    return b if a is None else min(a, b)


def token(value: str, name: str) -> tuple[str | None, str]:
    """system|code, |code (no system: "") or code (any system: None); the code is needed."""
    system, bar, code = value.partition("|")
    if not (code if bar else value):
        raise FhirInvalid(f"{name}: a value is needed (system|value or value)")
    return (system, code) if bar else (None, value)


# --- another HIS's resources (the sync) ---


def bundle_page(data: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The resources of a searchset page and the next page's URL."""
    bundle = _model(Bundle, data)
    following = next((link.url for link in bundle.link or [] if link.relation == "next"), None)
    # Matches only: an "outcome" entry (a warning) or an included resource is not one.
    resources = [
        e["resource"]
        for e in data.get("entry") or []
        if "resource" in e and (e.get("search") or {}).get("mode", "match") == "match"
    ]
    return resources, following


def doctor_in(data: dict[str, Any]) -> DoctorIn | None:
    """None for a Practitioner without a work number."""
    p = _model(Practitioner, data)
    work_no = next((i.value for i in p.identifier or [] if i.system == WORK_NO), None)
    if not work_no or not p.id:
        return None
    official = [n.text for n in p.name or [] if n.text and n.use in (None, "official")]
    usual = [n.text for n in p.name or [] if n.text and n.use == "usual"]
    title = next((q.code.text for q in p.qualification or [] if q.code and q.code.text), "")
    name = official[0] if official else work_no
    return DoctorIn(p.id, work_no, name, usual[0] if usual else "", title, p.active is not False)


def _code(concepts: list[Any] | None, system: str) -> tuple[str, str] | None:
    for concept in concepts or []:
        for c in concept.coding or []:
            if c.system == system and c.code:
                return c.code, c.display or concept.text or c.code
    return None


def schedule_in(data: dict[str, Any]) -> ScheduleIn | None:
    """None for a Schedule that names no Practitioner or no department."""
    s = _model(Schedule, data)
    doctor = next(
        (a.reference[13:] for a in s.actor if (a.reference or "").startswith("Practitioner/")),
        None,
    )
    department = _code(s.specialty, DEPARTMENT)
    clinic = _code(s.serviceType, CLINIC_TYPE) or ("general", "普通门诊")
    hospital = next(
        (a.identifier.value for a in s.actor if a.identifier and a.identifier.system == HOSPITAL),
        None,
    )
    if doctor is None or department is None:
        return None
    return ScheduleIn(doctor, hospital, department[0], department[1], clinic[0], clinic[1])


def slot_in(data: dict[str, Any]) -> SlotIn | None:
    s = _model(Slot, data)
    ref = s.schedule.reference or ""
    if not ref.startswith("Schedule/"):
        return None
    fees = {
        e.url: Decimal(str(e.valueMoney.value))
        for e in s.extension or []
        if e.valueMoney is not None and e.valueMoney.value is not None
    }
    return SlotIn(ref[9:], s.start, fees.get(REGISTRATION_FEE), fees.get(CONSULTATION_FEE))
