"""Reads a catalogue from plain data (as parsed from the demo YAML), checking it as it goes.

The file format is the one of ``data/demo_hospital.yaml``: sessions are written ``1am``,
``3pm``, ``4eve`` (weekday 1=Monday … 7=Sunday, then the part of the day).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.catalogue.model import (
    DEFAULT_PART_HOURS,
    Catalogue,
    ClinicType,
    Department,
    Doctor,
    DutyTemplate,
    Hospital,
    Part,
    fen,
)
from booking.catalogue.policy import BookingPolicy
from booking.errors import InvalidInput

_SESSION = re.compile(r"^([1-7])(am|pm|eve)$")


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise InvalidInput(f"{where}: '{key}' is missing", field=key)
    return entry[key]


def _ages(value: Any, where: str) -> tuple[int | None, int | None]:
    """`ages: 0-14` (whole years, both ends included), `ages: 65-` or `ages: -14`."""
    if value is None:
        return None, None
    low, dash, high = str(value).replace(" ", "").partition("-")
    if not dash or not (low or high) or not all(part.isdigit() for part in (low, high) if part):
        raise InvalidInput(f"{where}: ages must look like 0-14, 65- or -14")
    min_age, max_age = (int(low) if low else None), (int(high) if high else None)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidInput(f"{where}: the ages' first bound is above the second")
    return min_age, max_age


def parse_session(text: str, capacity: int, where: str) -> DutyTemplate:
    match = _SESSION.match(str(text).strip())
    if not match:
        raise InvalidInput(
            f"{where}: session '{text}' should look like 1am, 3pm or 4eve", field="sessions"
        )
    return DutyTemplate(weekday=int(match.group(1)), part=Part(match.group(2)), capacity=capacity)


def _part_hours(raw: dict[str, Any] | None, where: str) -> dict[Part, tuple[time, time]]:
    hours = dict(DEFAULT_PART_HOURS)
    for part, span in (raw or {}).items():
        try:
            start, end = (time.fromisoformat(s.strip()) for s in str(span).split("-"))
            hours[Part(part)] = (start, end)
        except ValueError as exc:
            raise InvalidInput(f"{where}: part hours '{part}: {span}' are not HH:MM-HH:MM") from exc
        if start >= end:
            raise InvalidInput(f"{where}: part {part} ends before it starts")
    return hours


def catalogue_from_data(data: dict[str, Any]) -> Catalogue:
    if not isinstance(data, dict):
        raise InvalidInput("the catalogue file is not a mapping")
    default_tz = str(data.get("timezone", "Asia/Shanghai"))
    clinic_types: dict[str, ClinicType] = {}
    for code, entry in (data.get("clinic_types") or {}).items():
        where = f"clinic type {code}"
        clinic_types[code] = ClinicType(
            code=code,
            name_zh=str(_require(entry, "zh", where)),
            name_en=str(_require(entry, "en", where)),
            registration_fee_fen=fen(_require(entry, "registration_fee", where)),
            consultation_fee_fen=fen(_require(entry, "consultation_fee", where)),
        )
    hospitals: list[Hospital] = []
    departments: list[Department] = []
    doctors: list[Doctor] = []
    for h in data.get("hospitals") or []:
        code = str(_require(h, "code", "hospital"))
        where = f"hospital {code}"
        tz = str(h.get("timezone", default_tz))
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(f"{where}: unknown time zone {tz}") from exc
        try:
            policy = BookingPolicy.from_dict(h.get("policy"))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}: {exc}") from exc
        hospitals.append(
            Hospital(
                code=code,
                name_zh=str(_require(h, "zh", where)),
                name_en=str(_require(h, "en", where)),
                timezone=tz,
                aliases=tuple(str(a) for a in h.get("aliases") or ()),
                policy=policy,
                part_hours=_part_hours(h.get("part_hours"), where),
            )
        )
        dept_codes = set()
        for d in h.get("departments") or []:
            dcode = str(_require(d, "code", where + " department"))
            dept_codes.add(dcode)
            min_age, max_age = _ages(d.get("ages"), f"department {dcode}")
            departments.append(
                Department(
                    hospital_code=code,
                    code=dcode,
                    name_zh=str(_require(d, "zh", f"department {dcode}")),
                    name_en=str(_require(d, "en", f"department {dcode}")),
                    aliases=tuple(str(a) for a in d.get("aliases") or ()),
                    bookable=bool(d.get("bookable", True)),
                    min_age=min_age,
                    max_age=max_age,
                )
            )
        for doc in h.get("doctors") or []:
            work_no = str(_require(doc, "work_no", where + " doctor"))
            dwhere = f"doctor {work_no}"
            dept = str(_require(doc, "dept", dwhere))
            if dept not in dept_codes:
                raise InvalidInput(f"{dwhere}: unknown department {dept}")
            clinic = str(_require(doc, "clinic", dwhere))
            if clinic not in clinic_types:
                raise InvalidInput(f"{dwhere}: unknown clinic type {clinic}")
            capacity = int(_require(doc, "capacity", dwhere))
            if not 1 <= capacity <= 500:
                raise InvalidInput(f"{dwhere}: capacity must be between 1 and 500")
            doctors.append(
                Doctor(
                    hospital_code=code,
                    department_code=dept,
                    work_no=work_no,
                    name=str(_require(doc, "name", dwhere)),
                    name_en=str(doc.get("en", "")),
                    title=str(doc.get("title", "")),
                    clinic_type=clinic,
                    specialties=tuple(str(s) for s in doc.get("specialties") or ()),
                    templates=tuple(
                        parse_session(s, capacity, dwhere) for s in doc.get("sessions") or ()
                    ),
                )
            )
    return Catalogue(
        clinic_types=clinic_types,
        hospitals=tuple(hospitals),
        departments=tuple(departments),
        doctors=tuple(doctors),
        triage=dict(data.get("triage") or {}),
    )
