"""The hospital's words the NLU must know, handed to it as data: hospitals, departments, doctors,
specialties, symptoms and emergency signs. Built from the catalogue by the application, so a
doctor added to the catalogue is understood without touching the training data."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HospitalTerms:
    code: str
    names: tuple[str, ...]  # Chinese and English names and aliases


@dataclass(frozen=True, slots=True)
class DepartmentTerms:
    code: str
    hospital_code: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DoctorTerms:
    work_no: str
    name: str  # 张伟
    name_en: str  # Zhang Wei
    department_code: str
    hospital_code: str
    title: str = ""  # 主任医师
    specialties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    hospitals: tuple[HospitalTerms, ...] = ()
    departments: tuple[DepartmentTerms, ...] = ()
    doctors: tuple[DoctorTerms, ...] = ()
    symptoms: tuple[str, ...] = ()
    emergency_signs: tuple[str, ...] = ()
    # Where it hurts, as the catalogue's triage table names it (胃, 膝盖, knee): with a feeling
    # after it (胃不舒服), a complaint.
    body_parts: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"
    # Extra surface forms from the training data: {"hypertension": ("specialty", "高血压")}
    synonyms: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def specialties(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for doctor in self.doctors:
            for specialty in doctor.specialties:
                seen.setdefault(specialty, None)
        return tuple(seen)
