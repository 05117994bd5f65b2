"""All entities of a message, in normalised text: numbers first (an ID number is not a date),
then dates and times, then names, and patients' own names. Doctors are resolved here, using the
department or hospital the message also names ("骨科张伟" is more likely 张卫 of orthopaedics)."""

import re
from dataclasses import dataclass, replace
from datetime import date

from nlu.dates import find_dates_and_times
from nlu.gazetteer import TITLES_ZH, Term, build_gazetteer
from nlu.identifiers import find_numbers
from nlu.names import NameMatch, find_names
from nlu.people import find_person_names, find_relations
from nlu.pinyin import sound_key
from nlu.quick_command import QuickCommand
from nlu.training_data import TrainingData
from nlu.vocabulary import Vocabulary

_WORK_NO = re.compile(r"^\d{5}$")
# Doctors scoring within this of the best are "about equally" likely: the dialogue asks. The
# exact characters (1.0) beat a homophone (0.85); the department named beside it (+0.3) more so.
_TIE = 0.1
_KIND_ORDER = ("department", "hospital", "doctor", "symptom", "specialty")
_TITLE_AFTER = re.compile(r"\s*(?:" + "|".join(TITLES_ZH) + ")")


def _free(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return all(end <= lo or start >= hi for lo, hi in taken)


@dataclass(frozen=True, slots=True)
class Found:
    entity: str
    value: str
    start: int
    end: int
    confidence: float = 1.0
    candidates: tuple[str, ...] = ()
    # A word that is both a symptom and a specialty (哮喘): the other reading, settled by intent.
    also_specialty: str | None = None


class Extractor:
    def __init__(self, vocabulary: Vocabulary, training: TrainingData) -> None:
        specialties = set(vocabulary.specialties)
        departments = {d.code for d in vocabulary.departments}
        hospitals = {h.code for h in vocabulary.hospitals}
        doctors = {d.work_no for d in vocabulary.doctors}
        synonyms = dict(vocabulary.synonyms)
        for surface, value in training.synonyms.items():
            for entity, known in (
                ("specialty", specialties),
                ("department", departments),
                ("hospital", hospitals),
                ("doctor", doctors),
            ):
                if value in known:
                    synonyms.setdefault(surface, (entity, value))
        symptoms = (*vocabulary.symptoms, *training.lookups.get("symptom", []))
        self._gazetteer = build_gazetteer(replace(vocabulary, symptoms=symptoms, synonyms=synonyms))
        self._hospital_of = {d.code: d.hospital_code for d in vocabulary.departments}

    def find(self, text: str, today: date, cased: str = "") -> list[Found]:
        found: list[Found] = [Found(n.entity, n.value, n.start, n.end) for n in find_numbers(text)]
        blanked = list(text)
        for item in found:
            blanked[item.start : item.end] = " " * (item.end - item.start)
        for when in find_dates_and_times("".join(blanked), today):
            found.append(Found(when.entity, when.value, when.start, when.end))
        # A patient's own name comes before the catalogue: in 我叫王芳 or 给王芳挂号, 王芳 is
        # the patient even though a doctor has the same name ("王芳医生" stays the doctor).
        taken = [(item.start, item.end) for item in found]
        numbers = [(f.start, f.end) for f in found if f.entity in ("id_number", "phone")]
        for start, end in find_person_names(text, numbers, cased):
            if _free(start, end, taken) and not _TITLE_AFTER.match(text, end):
                found.append(Found("person_name", text[start:end], start, end, 0.8))
                taken.append((start, end))
        found.extend(self._resolve(text, find_names(text, self._gazetteer, taken)))
        # Not inside a name (儿科 is a department); a triage hint such as "my child" may say a
        # relation too, and keeps saying where to go.
        taken = [(item.start, item.end) for item in found if item.entity != "symptom"]
        for start, end, relation in find_relations(text):
            if _free(start, end, taken):
                found.append(Found("relation", relation, start, end))
        return sorted(found, key=lambda item: item.start)

    def _resolve(self, text: str, names: list[NameMatch]) -> list[Found]:
        resolved: list[Found] = []
        doctors: list[NameMatch] = []
        for match in names:
            kind = min((t.entity for t in match.terms), key=_KIND_ORDER.index)
            if kind == "doctor":
                doctors.append(match)
                continue
            terms = [t for t in match.terms if t.entity == kind]
            surface = text[match.start : match.end]
            if kind in ("symptom", "specialty"):
                specialty = next((t.value for t in match.terms if t.entity == "specialty"), None)
                if kind == "symptom":
                    resolved.append(
                        Found(
                            "symptom",
                            surface,
                            match.start,
                            match.end,
                            match.confidence,
                            also_specialty=specialty,
                        )
                    )
                else:
                    resolved.append(
                        Found("specialty", terms[0].value, match.start, match.end, match.confidence)
                    )
                continue
            values = tuple(dict.fromkeys(t.value for t in terms))
            resolved.append(
                Found(
                    kind,
                    values[0],
                    match.start,
                    match.end,
                    match.confidence,
                    values if len(values) > 1 else (),
                )
            )
        resolved = self._prefer_named_hospital(resolved)
        departments = {f.value for f in resolved if f.entity == "department"}
        hospitals = {f.value for f in resolved if f.entity == "hospital"}
        for match in doctors:
            resolved.append(self._doctor(text, match, departments, hospitals))
        return resolved

    def _prefer_named_hospital(self, found: list[Found]) -> list[Found]:
        """骨伤科 is a department of both hospitals; with 中医院 in the message it is TCMO."""
        hospitals = {f.value for f in found if f.entity == "hospital"}
        settled = []
        for item in found:
            if item.entity == "department" and item.candidates and hospitals:
                inside = [c for c in item.candidates if self._hospital_of.get(c) in hospitals]
                if len(inside) == 1:
                    item = replace(item, value=inside[0], candidates=())
            settled.append(item)
        return settled

    def _doctor(
        self, text: str, match: NameMatch, departments: set[str], hospitals: set[str]
    ) -> Found:
        gazetteer = self._gazetteer
        surface = text[match.start : match.end]
        scores: dict[str, float] = {}
        for term in match.terms:
            if term.entity == "doctor":
                scores[term.value] = max(scores.get(term.value, 0.0), _base_score(term, match))
        if not match.surname_only and not _WORK_NO.match(surface):
            for term in gazetteer.sounds.get(sound_key(surface), []):
                if term.entity == "doctor" and term.surface[0] == surface[0]:
                    scores.setdefault(term.value, 0.85)
        after = text[match.end : match.end + 4]
        for work_no in scores:
            doctor = gazetteer.doctors[work_no]
            if doctor.department_code in departments:
                scores[work_no] += 0.3
            if doctor.hospital_code in hospitals:
                scores[work_no] += 0.1
            if after.startswith(("主任", "director")) and "主任" in doctor.title:
                scores[work_no] += 0.1
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        best_no, best = ranked[0]
        tied = tuple(no for no, score in ranked if best - score <= _TIE + 1e-9)
        confidence = min(1.0, best) * (1.0 if len(tied) == 1 else 0.6)
        return Found(
            "doctor", best_no, match.start, match.end, confidence, tied if len(tied) > 1 else ()
        )

    def knows_doctor(self, work_no: str) -> bool:
        return work_no in self._gazetteer.doctors

    def settle_terms(self, text: str, found: list[Found], intent: str) -> list[Found]:
        """哮喘 asked about a doctor ("谁擅长哮喘") is a specialty; in "哮喘挂什么科", a symptom."""
        settled = []
        for item in found:
            if intent == "query_schedule" and item.entity == "symptom" and item.also_specialty:
                item = replace(item, entity="specialty", value=item.also_specialty)
            elif intent == "triage" and item.entity == "specialty":
                item = replace(item, entity="symptom", value=text[item.start : item.end])
            settled.append(item)
        return settled

    def from_quick_command(self, command: QuickCommand) -> list[Found]:
        found = []
        for entity, (start, end) in command.spans.items():
            value = {
                "doctor": command.work_no,
                "date": command.visit_date.isoformat() if command.visit_date else None,
                "time": command.time,
                "person_name": command.name,
            }[entity]
            if value is not None:
                found.append(Found(entity, value, start, end))
        return sorted(found, key=lambda item: item.start)


def _base_score(term: Term, match: NameMatch) -> float:
    if match.surname_only:
        return 0.7
    return 0.85 if term.by_sound else 1.0
