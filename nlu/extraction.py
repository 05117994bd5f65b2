"""All entities of a message, in normalised text: numbers first (an ID number is not a date),
then temperatures, dates and times, who the patient is (a child, an elderly parent), patients'
own names, the hospital's names, and last the complaints in everyday words. Doctors are
resolved here, using the department or hospital the message also names ("骨科张伟" is more
likely 张卫 of orthopaedics)."""

import re
from dataclasses import dataclass, replace
from datetime import date

from nlu.age_groups import CHILD, ELDERLY, AgeGroups
from nlu.complaints import Complaint, ComplaintFinder
from nlu.dates import find_dates_and_times
from nlu.gazetteer import TITLES_ZH, Term, build_gazetteer
from nlu.identifiers import find_numbers
from nlu.names import Coverage, NameMatch, find_names
from nlu.people import find_person_names, find_relations
from nlu.pinyin import sound_key
from nlu.quick_command import QuickCommand
from nlu.temperatures import find_temperatures
from nlu.training_data import TrainingData
from nlu.vocabulary import Vocabulary

_WORK_NO = re.compile(r"^(?=.*\d)[0-9a-z]{1,16}$")  # 00868, n0001: not a name to sound out
# Doctors scoring within this of the best are "about equally" likely: the dialogue asks. The
# exact characters (1.0) beat a homophone (0.85); the department named beside it (+0.3) more
# so; the department chosen earlier in the conversation (+0.2) settles a homophone.
_TIE = 0.1
_KIND_ORDER = ("department", "hospital", "doctor", "symptom", "specialty")
_TITLE_AFTER = re.compile(r"\s*(?:" + "|".join(TITLES_ZH) + ")")
# A booking that asks for the doctor who treats something: 看糖尿病的专家, a diabetes specialist.
_ASKS_FOR_EXPERT = re.compile(r"专家|专科|专门|擅长|specialist|expert")


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
    # A complaint's body part and feeling alone (胸口痛 of 胸口突然剧痛): where to look for a sign.
    core: str | None = None


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
        self._work_nos = {work_no.casefold(): work_no for work_no in doctors}
        self._complaints = ComplaintFinder(
            (*training.lookups.get("body_part", []), *vocabulary.body_parts),
            training.lookups.get("feeling", []),
            training.lookups.get("injury", []),
        )
        # Words only: an age marked in an example ([3岁] child) becomes a synonym too, but
        # ages are read by rule, whatever the number.
        self._ages = AgeGroups(
            {
                word: value
                for word, value in training.synonyms.items()
                if value in (CHILD, ELDERLY) and not any(c.isdigit() for c in word)
            }
        )

    def find(
        self, text: str, today: date, cased: str = "", department: str | None = None
    ) -> list[Found]:
        """`department`: the one the conversation has chosen, if any: a doctor's name heard
        there is likelier its doctor's."""
        found: list[Found] = [Found(n.entity, n.value, n.start, n.end) for n in find_numbers(text)]
        blanked = list(text)
        for item in found:
            blanked[item.start : item.end] = " " * (item.end - item.start)
        for heat in find_temperatures("".join(blanked)):  # 39度 is no time, 38.5 no date
            found.append(Found("temperature", heat.value, heat.start, heat.end))
            blanked[heat.start : heat.end] = " " * (heat.end - heat.start)
        for when in find_dates_and_times("".join(blanked), today):
            found.append(Found(when.entity, when.value, when.start, when.end))
        taken = [(item.start, item.end) for item in found]
        # A patient's own name comes before the catalogue: in 我叫王芳 or 给王芳挂号, 王芳 is
        # the patient even though a doctor has the same name ("王芳医生" stays the doctor);
        # and before who is ill: 张宝贝 is a name, not a baby.
        numbers = [(f.start, f.end) for f in found if f.entity in ("id_number", "phone")]
        for start, end in find_person_names(text, numbers, cased):
            if _free(start, end, taken) and not _TITLE_AFTER.match(text, end):
                found.append(Found("person_name", text[start:end], start, end, 0.8))
                taken.append((start, end))
        for age in self._ages.find(
            text, lambda s, e: _free(s, e, taken) and not self._in_a_name(text, s, e)
        ):
            found.append(Found("age_group", age.value, age.start, age.end))
            taken.append((age.start, age.end))
        names = self._resolve(text, find_names(text, self._gazetteer, taken), department)
        # A name that is only a body part or a feeling ("eyes" for ophthalmology, 膝关节 a
        # specialty, "itchy") gives way to the complaint it is part of: "itchy eyes", 膝关节疼;
        # a symptom of the lookups to a longer complaint over it (手指头疼 is no 头疼).
        parts = [n for n in names if self._complaints.is_part_or_feeling(text[n.start : n.end])]
        symptoms = [n for n in names if n.entity == "symptom" and n not in parts]
        firm = [(n.start, n.end) for n in names if n not in parts and n not in symptoms]
        complaints = [
            c
            for c in self._complaints.find(text, Coverage(len(text), [*taken, *firm]).free)
            if all(_free(c.start, c.end, [(s.start, s.end)]) or _longer(c, s) for s in symptoms)
        ]
        spans = [(c.start, c.end) for c in complaints]
        for name in names:
            if (name not in parts and name not in symptoms) or _free(name.start, name.end, spans):
                found.append(name)
        for c in complaints:
            found.append(Found("symptom", c.value, c.start, c.end, 0.9, core=c.core))
        # Who the patient is to the writer: not inside a name (儿科 is a department); a triage
        # hint ("my child") or an age group (孩子) may say a relation too.
        taken = [(f.start, f.end) for f in found if f.entity not in ("symptom", "age_group")]
        for start, end, relation in find_relations(text):
            if _free(start, end, taken):
                found.append(Found("relation", relation, start, end))
        return sorted(found, key=lambda item: item.start)

    def _in_a_name(self, text: str, start: int, end: int) -> bool:
        """儿童 in 儿童科 or 儿童过敏 is the hospital's name of a department or a specialty, not
        the patient."""
        exact = self._gazetteer.exact
        for size in self._gazetteer.exact_lengths:
            for first in range(max(0, end - size), start + 1):
                terms = exact.get(text[first : first + size])
                if terms and any(term.entity != "symptom" for term in terms):
                    return True
        return False

    def _resolve(self, text: str, names: list[NameMatch], chosen: str | None = None) -> list[Found]:
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
            resolved.append(self._doctor(text, match, departments, hospitals, chosen))
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
        self,
        text: str,
        match: NameMatch,
        departments: set[str],
        hospitals: set[str],
        chosen: str | None = None,
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
            elif doctor.department_code == chosen and not departments:
                # Chosen earlier (and not changed by this message): enough for a homophone
                # (张维 in cardiology is 张伟), not to overrule the exact name of another
                # department's doctor (张卫: it asks).
                scores[work_no] += 0.2
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

    def doctor_latin_names(self) -> set[str]:
        """ "zhang wei", "zhangwei", "li na": doctors' names in Latin letters."""
        return {
            surface
            for surface, terms in self._gazetteer.exact.items()
            if surface.isascii() and any(term.entity == "doctor" for term in terms)
        }

    def doctor_work_no(self, typed: str) -> str | None:
        """The work number as the hospital writes it (N0001) for one typed in any case."""
        return self._work_nos.get(typed.casefold())

    def settle_terms(self, text: str, found: list[Found], intent: str) -> list[Found]:
        """哮喘 asked about a doctor ("谁擅长哮喘", "挂个看哮喘的专家") is a specialty; in
        "哮喘挂什么科", a symptom."""
        about_doctors = intent == "query_schedule" or (
            intent == "book" and _ASKS_FOR_EXPERT.search(text) is not None
        )
        settled = []
        for item in found:
            if about_doctors and item.entity == "symptom" and item.also_specialty:
                item = replace(item, entity="specialty", value=item.also_specialty)
            elif intent == "triage" and item.entity == "specialty":
                item = replace(item, entity="symptom", value=text[item.start : item.end])
            settled.append(item)
        return settled

    def from_quick_command(self, command: QuickCommand) -> list[Found]:
        found = []
        for entity, (start, end) in command.spans.items():
            value = {
                "doctor": self.doctor_work_no(command.work_no or "") or command.work_no,
                "date": command.visit_date.isoformat() if command.visit_date else None,
                "time": command.time,
                "person_name": command.name,
            }[entity]
            if value is not None:
                found.append(Found(entity, value, start, end))
        return sorted(found, key=lambda item: item.start)


def _longer(complaint: Complaint, name: Found) -> bool:
    """Of a complaint and a symptom over the same characters, the longer is what was meant:
    手指头疼 over 头疼, 最近视力下降 over 近视, but 手脚麻木 over 脚麻木."""
    return complaint.end - complaint.start > name.end - name.start


def _base_score(term: Term, match: NameMatch) -> float:
    if match.surname_only:
        return 0.7
    return 0.85 if term.by_sound else 1.0
