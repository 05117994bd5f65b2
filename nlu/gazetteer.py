"""Every way the hospital's names can be written, indexed for fast lookup: exact surface forms
(Chinese, English, aliases, pinyin typed in Latin letters, work numbers), sounds for homophones,
and the longer names worth matching with typos."""

import re
from dataclasses import dataclass, field

from nlu.pinyin import joined, sound_key
from nlu.text import HAN_CHARS
from nlu.vocabulary import DoctorTerms, Vocabulary

TITLES_ZH = ("主任医师", "副主任", "主任", "医生", "大夫", "教授", "医师", "老师", "院长")
_HAN_ONLY = re.compile(f"^[{HAN_CHARS}]+$")


@dataclass(frozen=True, slots=True)
class Term:
    entity: str  # department | doctor | hospital | symptom | specialty
    value: str
    surface: str
    by_sound: bool = False


@dataclass(slots=True)
class Gazetteer:
    exact: dict[str, list[Term]] = field(default_factory=dict)
    exact_lengths: list[int] = field(default_factory=list)
    sounds: dict[tuple[str, ...], list[Term]] = field(default_factory=dict)
    sound_lengths: list[int] = field(default_factory=list)
    latin_names: dict[str, list[Term]] = field(default_factory=dict)  # for typo matching
    han_names: dict[str, list[Term]] = field(default_factory=dict)  # long Chinese names, typos
    doctors: dict[str, DoctorTerms] = field(default_factory=dict)
    surnames: dict[str, list[DoctorTerms]] = field(default_factory=dict)  # 张 / zhang -> doctors

    def add(self, surface: str, entity: str, value: str) -> None:
        surface = " ".join(surface.lower().split())
        if not surface:
            return
        term = Term(entity, value, surface)
        terms = self.exact.setdefault(surface, [])
        if term not in terms:
            terms.append(term)

    def add_sound(self, surface: str, entity: str, value: str) -> None:
        terms = self.sounds.setdefault(sound_key(surface), [])
        term = Term(entity, value, surface, by_sound=True)
        if term not in terms:
            terms.append(term)


def build_gazetteer(vocabulary: Vocabulary) -> Gazetteer:
    gazetteer = Gazetteer()
    for hospital in vocabulary.hospitals:
        for name in hospital.names:
            _add_name(gazetteer, name, "hospital", hospital.code, sound_from=3)
    for department in vocabulary.departments:
        for name in department.names:
            # Not two-character names by sound: 耳科 (ear) sounds like 儿科, 顾客 like 骨科.
            _add_name(gazetteer, name, "department", department.code, sound_from=3)
    for doctor in vocabulary.doctors:
        _add_doctor(gazetteer, doctor)
    for specialty in vocabulary.specialties:
        gazetteer.add(specialty, "specialty", specialty)
    for symptom in (*vocabulary.symptoms, *vocabulary.emergency_signs):
        gazetteer.add(symptom, "symptom", symptom)
    for surface, (entity, value) in vocabulary.synonyms.items():
        gazetteer.add(surface, entity, value)
    gazetteer.exact_lengths = sorted({len(surface) for surface in gazetteer.exact}, reverse=True)
    gazetteer.sound_lengths = sorted({len(key) for key in gazetteer.sounds}, reverse=True)
    for surface, terms in gazetteer.exact.items():
        named = [term for term in terms if term.entity in ("department", "hospital")]
        if not named:
            continue
        if surface.isascii() and len(surface) >= 5:
            gazetteer.latin_names[surface] = named
        elif _HAN_ONLY.match(surface) and len(surface) >= 4:
            gazetteer.han_names[surface] = named
    return gazetteer


def _add_name(gazetteer: Gazetteer, name: str, entity: str, value: str, sound_from: int) -> None:
    gazetteer.add(name, entity, value)
    if _HAN_ONLY.match(name):
        if len(name) >= 2:
            gazetteer.add(joined(name), entity, value)  # xinneike
        if len(name) >= sound_from:
            gazetteer.add_sound(name, entity, value)


def _add_doctor(gazetteer: Gazetteer, doctor: DoctorTerms) -> None:
    gazetteer.doctors[doctor.work_no] = doctor
    gazetteer.add(doctor.work_no, "doctor", doctor.work_no)
    gazetteer.add(doctor.name, "doctor", doctor.work_no)
    gazetteer.add_sound(doctor.name, "doctor", doctor.work_no)
    latin = doctor.name_en.lower().split() if doctor.name_en else []
    if _HAN_ONLY.match(doctor.name):
        latin = latin or list(_pinyin_name(doctor.name))
        gazetteer.surnames.setdefault(doctor.name[0], []).append(doctor)
    if latin:
        gazetteer.add(" ".join(latin), "doctor", doctor.work_no)  # zhang wei
        gazetteer.add("".join(latin), "doctor", doctor.work_no)  # zhangwei
        gazetteer.add(" ".join(reversed(latin)), "doctor", doctor.work_no)  # wei zhang
        gazetteer.surnames.setdefault(latin[0], []).append(doctor)


def _pinyin_name(name: str) -> tuple[str, str]:
    sounds = joined(name[0]), joined(name[1:])
    return sounds
