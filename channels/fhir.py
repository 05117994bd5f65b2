"""The HIS's side, FHIR R4 (the R4B models of fhir.resources): neutral records of doctors,
schedules, places and bookings in, validated FHIR JSON out. Translation only; the meaning of
every field is in docs/fhir.md. Incoming resources are read in ``channels.fhir_in``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

FHIR_JSON = "application/fhir+json"
WORK_NO = "urn:guahao:work-no"  # 工号, unique within a hospital
HOSPITAL = "urn:guahao:hospital"
DEPARTMENT = "urn:guahao:department"
CLINIC_TYPE = "urn:guahao:clinic-type"  # general / expert / special (普通/专家/特需)
BOOKING_NO = "urn:guahao:booking-no"
QUEUE_NO = "urn:guahao:queue-no"
RESIDENT_ID = "urn:guahao:resident-id"  # 居民身份证号, the 18-digit national ID number
_EXT = "https://guahao.example/fhir/StructureDefinition/"
REGISTRATION_FEE = _EXT + "registration-fee"  # 挂号费, valueMoney in CNY
CONSULTATION_FEE = _EXT + "consultation-fee"  # 诊疗费, valueMoney in CNY
DOCTOR = _EXT + "doctor"  # the Slot's doctor, valueReference to the Practitioner


@dataclass(frozen=True)
class Where:
    """The hospital, department and clinic type a doctor works in."""

    hospital_code: str
    hospital_name: str
    department_code: str
    department_name: str
    clinic_type: str
    clinic_type_name: str


@dataclass(frozen=True)
class DoctorRecord:
    id: str  # the Practitioner's (and their Schedule's) id
    work_no: str
    name: str
    name_en: str
    title: str
    active: bool
    where: Where


@dataclass(frozen=True)
class ScheduleRecord:
    doctor: DoctorRecord
    first: date | None  # the doctor's first and last visit dates with sessions
    last: date | None


@dataclass(frozen=True)
class SlotRecord:
    id: str
    doctor: DoctorRecord
    queue_no: int
    start: datetime
    end: datetime
    status: str  # free | busy | busy-unavailable | busy-tentative
    registration_fee: Decimal  # yuan
    consultation_fee: Decimal


@dataclass(frozen=True)
class AppointmentRecord:
    booking_no: str
    status: str  # booked | arrived | fulfilled | cancelled | noshow
    slot_id: str
    doctor_id: str
    doctor_name: str
    department_code: str
    department_name: str
    patient_name: str
    start: datetime
    end: datetime
    created: datetime
    queue_no: int


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _money(url: str, amount: Decimal) -> dict[str, Any]:
    return {"url": url, "valueMoney": {"value": amount, "currency": "CNY"}}


def _doctor_ref(d: DoctorRecord) -> dict[str, Any]:
    return {"reference": f"Practitioner/{d.id}", "display": d.name}


def to_json(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return out


def practitioner(d: DoctorRecord) -> dict[str, Any]:
    names = [{"use": "official", "text": d.name}]
    if d.name_en:
        names.append({"use": "usual", "text": d.name_en})
    return to_json(
        Practitioner.model_validate(
            {
                "id": d.id,
                "identifier": [
                    {
                        "system": WORK_NO,
                        "value": d.work_no,
                        "assigner": {
                            "identifier": {"system": HOSPITAL, "value": d.where.hospital_code},
                            "display": d.where.hospital_name,
                        },
                    }
                ],
                "active": d.active,
                "name": names,
                "qualification": [{"code": {"text": d.title}}] if d.title else None,
            }
        )
    )


def _actors(d: DoctorRecord) -> list[dict[str, Any]]:
    w = d.where
    return [
        _doctor_ref(d),
        {
            "type": "HealthcareService",
            "identifier": {"system": DEPARTMENT, "value": w.department_code},
            "display": w.department_name,
        },
        {
            "type": "Location",
            "identifier": {"system": HOSPITAL, "value": w.hospital_code},
            "display": w.hospital_name,
        },
    ]


def schedule(s: ScheduleRecord) -> dict[str, Any]:
    d, w = s.doctor, s.doctor.where
    horizon = None
    if s.first is not None and s.last is not None:
        horizon = {"start": f"{s.first.isoformat()}", "end": f"{s.last.isoformat()}"}
    return to_json(
        Schedule.model_validate(
            {
                "id": d.id,
                "active": d.active,
                "serviceType": [_coding(CLINIC_TYPE, w.clinic_type, w.clinic_type_name)],
                "specialty": [_coding(DEPARTMENT, w.department_code, w.department_name)],
                "actor": _actors(d),
                "planningHorizon": horizon,
                "comment": f"{w.hospital_name} {w.department_name} {d.name} {d.title}",
            }
        )
    )


def slot(s: SlotRecord) -> dict[str, Any]:
    d, w = s.doctor, s.doctor.where
    return to_json(
        Slot.model_validate(
            {
                "id": s.id,
                "identifier": [{"system": QUEUE_NO, "value": str(s.queue_no)}],
                "extension": [
                    {"url": DOCTOR, "valueReference": _doctor_ref(d)},
                    _money(REGISTRATION_FEE, s.registration_fee),
                    _money(CONSULTATION_FEE, s.consultation_fee),
                ],
                "schedule": {"reference": f"Schedule/{d.id}"},
                "serviceType": [_coding(CLINIC_TYPE, w.clinic_type, w.clinic_type_name)],
                "specialty": [_coding(DEPARTMENT, w.department_code, w.department_name)],
                "status": s.status,
                "start": s.start,
                "end": s.end,
                "comment": (
                    f"{w.department_name} {d.name} {d.title} No.{s.queue_no}; "
                    f"挂号费 {s.registration_fee} 元 + 诊疗费 {s.consultation_fee} 元 (CNY)"
                ),
            }
        )
    )


def appointment(a: AppointmentRecord) -> dict[str, Any]:
    return to_json(
        Appointment.model_validate(
            {
                "id": a.booking_no,
                "identifier": [{"system": BOOKING_NO, "value": a.booking_no}],
                "status": a.status,
                "specialty": [_coding(DEPARTMENT, a.department_code, a.department_name)],
                "start": a.start,
                "end": a.end,
                "created": a.created,
                "slot": [{"reference": f"Slot/{a.slot_id}"}],
                "comment": f"No.{a.queue_no}",
                "participant": [
                    {
                        "actor": {"type": "Patient", "display": a.patient_name},
                        "status": "accepted",
                    },
                    {
                        "actor": {
                            "reference": f"Practitioner/{a.doctor_id}",
                            "display": a.doctor_name,
                        },
                        "status": "accepted",
                    },
                ],
            }
        )
    )


def searchset(
    base: str,
    kind: str,
    resources: list[dict[str, Any]],
    total: int,
    self_url: str,
    next_url: str | None,
) -> dict[str, Any]:
    """``total``: every match, of which ``resources`` are this page's."""
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return to_json(
        Bundle.model_validate(
            {
                "type": "searchset",
                "total": total,
                "link": links,
                "entry": [
                    {
                        "fullUrl": f"{base}/{kind}/{r['id']}",
                        "resource": r,
                        "search": {"mode": "match"},
                    }
                    for r in resources
                ],
            }
        )
    )


def outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    """``code``: the FHIR issue type (invalid, not-found, login, conflict, business-rule…)."""
    return to_json(
        OperationOutcome.model_validate(
            {"issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]}
        )
    )
