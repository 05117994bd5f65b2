"""What the command line prints: text tables for people (Chinese characters take two
columns), JSON for scripts. Times are shown in the hospital's zone, fees in yuan with two
decimals; ID and phone numbers only ever in their masked forms."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from booking.appointments.model import BookingView
from booking.catalogue.model import Catalogue, Doctor, Part, yuan
from booking.catalogue.schedule import SessionStatus, is_released
from booking.catalogue.search import SessionOffer
from booking.patients.model import Patient

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PART_NAMES = {Part.AM: "上午 am", Part.PM: "下午 pm", Part.EVE: "晚上 eve"}
WHAT_TO_BRING = "the patient's resident ID card (身份证); show the booking number at the desk"


def emit(text: str = "") -> None:
    typer.echo(text)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def money(fen: int) -> str:
    return str(yuan(fen))


def fees_text(registration_fen: int, consultation_fen: int) -> str:
    total = money(registration_fen + consultation_fen)
    return f"{money(registration_fen)} + {money(consultation_fen)} = {total}"


def local(when: datetime, tz: str) -> datetime:
    return when.astimezone(ZoneInfo(tz))


def iso_local(when: datetime, tz: str) -> str:
    return local(when, tz).isoformat()


def span_text(start: datetime, end: datetime, tz: str) -> str:
    return f"{local(start, tz):%H:%M}-{local(end, tz):%H:%M}"


def day_text(day: Any) -> str:
    return f"{day.isoformat()} {WEEKDAYS[day.weekday()]}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "") -> str:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(padded)).rstrip())
    return "\n".join(lines)


def weekly_text(doctor: Doctor) -> str:
    order = sorted(doctor.templates, key=lambda t: (t.weekday, list(Part).index(t.part)))
    return ", ".join(f"{WEEKDAYS[t.weekday - 1]} {t.part.value}" for t in order)


def doctor_dict(doctor: Doctor, catalogue: Catalogue) -> dict[str, Any]:
    clinic = catalogue.clinic_types[doctor.clinic_type]
    department = next(
        d
        for d in catalogue.departments
        if (d.hospital_code, d.code) == (doctor.hospital_code, doctor.department_code)
    )
    return {
        "work_no": doctor.work_no,
        "name": doctor.name,
        "name_en": doctor.name_en,
        "title": doctor.title,
        "hospital_code": doctor.hospital_code,
        "department_code": doctor.department_code,
        "department_name_zh": department.name_zh,
        "department_name_en": department.name_en,
        "clinic_type": clinic.code,
        "clinic_type_name_zh": clinic.name_zh,
        "registration_fee": money(clinic.registration_fee_fen),
        "consultation_fee": money(clinic.consultation_fee_fen),
        "specialties": list(doctor.specialties),
        "weekly_sessions": [f"{t.weekday}{t.part.value}" for t in doctor.templates],
    }


def offer_state(offer: SessionOffer, now: datetime) -> str:
    """open, full, stopped, over, or not_released (its day's booking opens later)."""
    s = offer.session
    policy, tz = offer.hospital.policy, offer.hospital.timezone
    if s.status is SessionStatus.STOPPED:
        return "stopped"
    if s.ends_at <= now:
        return "over"
    if not offer.department.bookable:
        return "not_bookable"
    if not is_released(s.visit_date, now, policy, tz):
        return "not_released"
    return "open" if offer.free > 0 else "full"


def offer_dict(offer: SessionOffer, now: datetime) -> dict[str, Any]:
    s, tz = offer.session, offer.hospital.timezone
    return {
        "session_id": s.id,
        "hospital_code": s.hospital_code,
        "department_code": s.department_code,
        "department_name_zh": offer.department.name_zh,
        "doctor_work_no": s.doctor_work_no,
        "doctor_name": offer.doctor.name,
        "doctor_title": offer.doctor.title,
        "clinic_type": s.clinic_type,
        "visit_date": s.visit_date.isoformat(),
        "part": s.part.value,
        "starts_at": iso_local(s.starts_at, tz),
        "ends_at": iso_local(s.ends_at, tz),
        "capacity": s.capacity,
        "free": offer.free,
        "bookable": offer.bookable,
        "status": s.status.value,
        "state": offer_state(offer, now),
        "stop_reason": s.stop_reason,
        "registration_fee": money(s.registration_fee_fen),
        "consultation_fee": money(s.consultation_fee_fen),
    }


def offer_row(offer: SessionOffer, now: datetime, *, with_date: bool = True) -> list[object]:
    s, tz = offer.session, offer.hospital.timezone
    row: list[object] = [s.id, day_text(s.visit_date)] if with_date else [s.id]
    return [
        *row,
        s.part.value,
        span_text(s.starts_at, s.ends_at, tz),
        f"{s.doctor_work_no} {offer.doctor.name}",
        offer.doctor.title,
        s.clinic_type,
        f"{money(s.registration_fee_fen)}+{money(s.consultation_fee_fen)}",
        f"{offer.free}/{s.capacity}",
        offer_state(offer, now),
    ]


def patient_dict(patient: Patient) -> dict[str, Any]:
    # No birth date or sex: both are read off the ID number, which is shown masked on purpose.
    return {
        "patient_id": patient.id,
        "name": patient.name,
        "id_masked": patient.id_masked,
        "phone_masked": patient.phone_masked,
    }


def booking_dict(view: BookingView, tz: str) -> dict[str, Any]:
    return {
        "booking_no": view.booking_no,
        "status": view.status.value,
        "patient_name": view.patient_name,
        "patient_id_masked": view.patient_id_masked,
        "patient_phone_masked": view.patient_phone_masked,
        "doctor_work_no": view.doctor_work_no,
        "doctor_name": view.doctor_name,
        "doctor_title": view.doctor_title,
        "department_code": view.department_code,
        "department_name_zh": view.department_name_zh,
        "department_name_en": view.department_name_en,
        "hospital_code": view.hospital_code,
        "session_id": view.session_id,
        "visit_date": view.visit_date.isoformat(),
        "part": view.part.value,
        "queue_no": view.queue_no,
        "expected_time": iso_local(view.expected_time, tz),
        "expected_until": iso_local(view.window_end, tz),
        "registration_fee": money(view.registration_fee_fen),
        "consultation_fee": money(view.consultation_fee_fen),
        "total_fee": money(view.registration_fee_fen + view.consultation_fee_fen),
        "channel": view.channel,
        "created_at": iso_local(view.created_at, tz),
        "cancel_reason": view.cancel_reason,
        "refund_due": view.refund_due,
    }


def booking_lines(view: BookingView, tz: str, hospital_name: str | None = None) -> list[str]:
    hospital = f"{hospital_name} ({view.hospital_code})" if hospital_name else view.hospital_code
    status = view.status.value + (f" ({view.cancel_reason})" if view.cancel_reason else "")
    lines = [
        f"Booking number  {view.booking_no}   [{status}]",
        f"  Patient       {view.patient_name} {view.patient_id_masked}",
        f"  Doctor        {view.doctor_name} {view.doctor_title} ({view.doctor_work_no})",
        f"  Where         {view.department_name_zh} {view.department_name_en}, {hospital}",
        f"  Visit         {day_text(view.visit_date)} {PART_NAMES[view.part]}, "
        f"queue number {view.queue_no}",
        f"  Expected time {span_text(view.expected_time, view.window_end, tz)} ({tz})",
        f"  Fees (yuan)   {fees_text(view.registration_fee_fen, view.consultation_fee_fen)}"
        " (registration + consultation)",
    ]
    if view.refund_due:
        lines.append("  Refund        due: the patient gets the fee paid back")
    return lines


def booking_row(view: BookingView, tz: str) -> list[object]:
    return [
        view.booking_no,
        view.status.value,
        f"{view.patient_name} {view.patient_id_masked}",
        day_text(view.visit_date),
        view.part.value,
        view.queue_no,
        span_text(view.expected_time, view.window_end, tz),
        f"{view.doctor_work_no} {view.doctor_name}",
        f"{view.department_code} {view.department_name_zh}",
        money(view.registration_fee_fen + view.consultation_fee_fen),
        view.channel,
    ]


BOOKING_HEADERS = (
    "booking no",
    "status",
    "patient",
    "date",
    "part",
    "no.",
    "time",
    "doctor",
    "department",
    "fee",
    "channel",
)
