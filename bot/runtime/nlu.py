"""Choosing and building the NLU: the built-in model trained from data/nlu and the catalogue,
or a Rasa server (GUAHAO_NLU=rasa) with the built-in model as its fallback; and keeping its
names in step with the catalogue while the application runs."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from booking.catalogue.model import Catalogue
from bot.dialogue.context import CatalogueCache
from bot.settings import Settings
from nlu.engine import BuiltinNlu
from nlu.vocabulary import DepartmentTerms, DoctorTerms, HospitalTerms, Vocabulary

if TYPE_CHECKING:
    from nlu.rasa_server import RasaServerNlu

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


def build_nlu(settings: Settings, catalogue: Catalogue) -> BuiltinNlu | RasaServerNlu:
    builtin = build_builtin(catalogue, settings.nlu_data, settings.nlu_models)
    if settings.nlu == "rasa":
        from nlu.rasa_server import RasaServerNlu  # httpx only when a Rasa server is used

        return RasaServerNlu(settings.rasa_url, fallback=builtin, emergency=builtin.emergency)
    return builtin


class TakesNames(Protocol):
    def use_vocabulary(self, vocabulary: Vocabulary) -> None: ...


class CatalogueFollower:
    """Keeps the NLU's names in step with the catalogue in the database, in each process on
    its own: a doctor added in the back office is understood by name and by GHDH once the
    cache has read the catalogue again (`CatalogueCache`, 30 s) and the next round has run
    (`follow`, every 15 s in `bot.runtime.application`), without a restart. Nothing is added
    to answering a message: the rounds read what the dialogue's cache holds, and build only
    when the doctors, departments or hospitals changed."""

    def __init__(self, nlu: TakesNames, catalogues: CatalogueCache, started: Catalogue) -> None:
        """`started`: the catalogue the NLU was built from, with the triage rules of the
        catalogue file (the database does not keep them)."""
        self._nlu = nlu
        self._catalogues = catalogues
        self._triage = started.triage
        self._vocabulary = vocabulary_from_catalogue(started)
        self._seen: Catalogue | None = None

    async def follow(self) -> bool:
        """One round: whether the NLU took new names."""
        catalogue = await self._catalogues.get()
        if catalogue is self._seen:  # not read again since the last round
            return False
        self._seen = catalogue
        vocabulary = vocabulary_from_catalogue(replace(catalogue, triage=self._triage))
        if vocabulary == self._vocabulary:
            return False
        started = time.perf_counter()
        await asyncio.to_thread(self._nlu.use_vocabulary, vocabulary)
        self._vocabulary = vocabulary
        log.info(
            "the NLU took the catalogue's names (%d doctors, %d departments) in %.2f s",
            len(vocabulary.doctors),
            len(vocabulary.departments),
            time.perf_counter() - started,
        )
        return True
