"""Choosing and building the NLU: the built-in model trained from data/nlu and the catalogue,
or a Rasa server (GUAHAO_NLU=rasa) with the built-in model as its fallback."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from booking.catalogue import Catalogue
from bot.settings import Settings
from nlu.engine import BuiltinNlu
from nlu.result import Understanding
from nlu.vocabulary import DepartmentTerms, DoctorTerms, HospitalTerms, Vocabulary

log = logging.getLogger(__name__)


def vocabulary_from_catalogue(catalogue: Catalogue) -> Vocabulary:
    hints = catalogue.triage.get("hints") or {}
    symptoms: list[str] = []
    if isinstance(hints, dict):
        for terms in hints.values():
            symptoms.extend(str(term) for term in terms or [])
    parts = catalogue.triage.get("body_parts") or {}
    body_parts = [
        str(part)
        for terms in (parts.values() if isinstance(parts, dict) else [])
        for part in terms or []
    ]
    emergency = catalogue.triage.get("emergency") or []
    zones = {hospital.timezone for hospital in catalogue.hospitals}
    return Vocabulary(
        hospitals=tuple(
            HospitalTerms(h.code, tuple(n for n in (h.name_zh, h.name_en, *h.aliases) if n))
            for h in catalogue.hospitals
        ),
        departments=tuple(
            DepartmentTerms(
                d.code, d.hospital_code, tuple(n for n in (d.name_zh, d.name_en, *d.aliases) if n)
            )
            for d in catalogue.departments
        ),
        doctors=tuple(
            DoctorTerms(
                d.work_no,
                d.name,
                d.name_en,
                d.department_code,
                d.hospital_code,
                d.title,
                d.specialties,
            )
            for d in catalogue.doctors
            if d.active
        ),
        symptoms=tuple(dict.fromkeys(symptoms)),
        emergency_signs=tuple(str(sign) for sign in emergency)
        if isinstance(emergency, list)
        else (),
        body_parts=tuple(dict.fromkeys(body_parts)),
        timezone=zones.pop() if len(zones) == 1 else "Asia/Shanghai",
    )


def build_builtin(
    catalogue: Catalogue, data_dir: Path, saved_models: Path | None = None
) -> BuiltinNlu:
    started = time.perf_counter()
    nlu = BuiltinNlu.from_directory(
        vocabulary_from_catalogue(catalogue), data_dir, saved_models=saved_models
    )
    log.info("built-in NLU ready in %.2f s", time.perf_counter() - started)
    return nlu


def build_nlu(settings: Settings, catalogue: Catalogue) -> Understanding:
    builtin = build_builtin(catalogue, settings.nlu_data, settings.nlu_models)
    if settings.nlu == "rasa":
        from nlu.rasa_server import RasaServerNlu  # httpx only when a Rasa server is used

        return RasaServerNlu(settings.rasa_url, fallback=builtin, emergency=builtin.emergency)
    return builtin
