"""What a message says about the booking under way: a department, a hospital, a doctor (a
sound-alike resolved in the department chosen), a day and part of day, who it is for, or
"换个医生" / "换个时间"; new values replace old ones and forget what depended on them."""

from __future__ import annotations

from dataclasses import replace

from booking.catalogue.model import Catalogue
from booking.catalogue.search import search_doctors
from bot.dialogue.context import Context, Turn
from bot.dialogue.offers import find_doctor
from bot.dialogue.triage import suggest

# Changing one of these forgets what was chosen after it.
DEPENDS = {
    "department": ("doctor", "session", "waitlist", "specialty"),
    "doctor": ("session", "waitlist"),
    "date": ("session", "waitlist"),
    "part": ("session", "waitlist"),
}


def set_slot(slots: dict[str, object], name: str, value: object) -> None:
    if slots.get(name) != value:
        for later in DEPENDS.get(name, ()):
            slots.pop(later, None)
    slots[name] = value


_OTHER_DOCTOR = (
    "换个医生",
    "换一个医生",
    "换医生",
    "别的医生",
    "another doctor",
    "different doctor",
)


_OTHER_TIME = ("换个时间", "换一个时间", "换时间", "别的时间", "another time", "different time")


def names_something(turn: Turn) -> bool:
    """ "不对，改成下午" denies and corrects: a correction, not a refusal."""
    kinds = ("department", "doctor", "date", "time_of_day", "time")
    said = turn.text.lower()
    return any(turn.value(kind) is not None for kind in kinds) or any(
        words in said for words in (*_OTHER_DOCTOR, *_OTHER_TIME)
    )


def absorb(ctx: Context, turn: Turn, catalogue: Catalogue) -> None:
    """What this message says about the booking: new values replace old ones; 换个医生 /
    换个时间 forget the doctor or the time, so that they are asked again."""
    assert turn.parse is not None
    slots = ctx.state.slots
    said = turn.text.lower()
    if any(words in said for words in _OTHER_DOCTOR):
        if "doctor" in slots:
            slots["not_doctor"] = slots["doctor"]
        for name in ("doctor", "candidates", "session"):
            slots.pop(name, None)
    if any(words in said for words in _OTHER_TIME):
        for name in ("date", "part", "session"):
            slots.pop(name, None)
    hospital = turn.value("hospital")
    if hospital is not None:
        _narrow_to(slots, catalogue, hospital)
    department = turn.parse.first("department")
    if department is not None:
        _absorb_department(slots, catalogue, department.candidates or (department.value,))
    doctor = turn.parse.first("doctor")
    if doctor is not None:
        # 张维 while booking cardiology is its 张伟, not orthopaedics' 张卫.
        inside = [c for c in doctor.candidates if _in_department(catalogue, c, slots)]
        if len(inside) == 1:
            doctor = replace(doctor, value=inside[0], candidates=())
        if doctor.candidates:
            slots["candidates"] = list(doctor.candidates)
            slots.pop("doctor", None)
        else:
            set_slot(slots, "doctor", doctor.value)
            named = find_doctor(catalogue, doctor.value)
            slots["department"] = named.department_code
            if slots.get("hospital") not in (None, named.hospital_code):
                slots.pop("hospital")  # the doctor named wins; the confirmation names the hospital
    if "patient" not in slots:  # who it is for, as the message says: asked at the patient step
        for entity, slot in (("relation", "for_relation"), ("person_name", "for_name")):
            if turn.value(entity) is not None:
                slots[slot] = turn.value(entity)
    when = turn.value("date")
    if when is not None:
        set_slot(slots, "date", when)
    part = turn.value("time_of_day") or _part_of(turn.value("time"))
    if part is not None:
        set_slot(slots, "part", part)
    if when is not None and part is not None:  # one session named: no list needed any more
        slots.pop("list_sessions", None)
    if not {"department", "doctor", "candidates"} & slots.keys():
        _absorb_what_for(ctx, turn, catalogue)


def _absorb_what_for(ctx: Context, turn: Turn, catalogue: Catalogue) -> None:
    """挂个看糖尿病的专家号, "a diabetes specialist": the doctors who treat it; 挂个看胃病的号,
    给孩子挂个号: the department triage names, when it names one."""
    specialty = turn.value("specialty")
    if specialty is not None and search_doctors(catalogue, specialty=specialty):
        ctx.state.slots["specialty"] = specialty
        return
    found = suggest(turn.parse, ctx.triage, catalogue)
    if found.suggested == 1:
        _absorb_department(ctx.state.slots, catalogue, (found.departments[0].code,))


def _in_department(catalogue: Catalogue, work_no: str, slots: dict[str, object]) -> bool:
    return (
        "department" in slots
        and find_doctor(catalogue, work_no).department_code == slots["department"]
    )


def _narrow_to(slots: dict[str, object], catalogue: Catalogue, hospital: str) -> None:
    """A hospital named ("在市中医院挂号") narrows every later step; what was chosen in another
    hospital is forgotten."""
    slots["hospital"] = hospital
    department = slots.get("department")
    if department is not None and _hospital_of(catalogue, str(department)) != hospital:
        for name in ("department", *DEPENDS["department"], "candidates"):
            slots.pop(name, None)


def _absorb_department(
    slots: dict[str, object], catalogue: Catalogue, codes: tuple[str, ...]
) -> None:
    """A department named: one that takes bookings, in the hospital named if one was; a name
    several hospitals share (骨伤科) is asked about, each choice saying which hospital."""
    bookable = [c for c in codes if _bookable_department(catalogue, c)]
    hospital = slots.get("hospital")
    inside = [c for c in bookable if hospital is None or _hospital_of(catalogue, c) == hospital]
    if bookable and not inside:
        slots["not_here"] = bookable[0]  # 市中医院没有心血管内科: said, and its own listed
    if len(inside) == 1:
        set_slot(slots, "department", inside[0])
        slots.pop("department_candidates", None)
    elif inside:
        slots["department_candidates"] = inside
        slots.pop("department", None)


def _bookable_department(catalogue: Catalogue, code: str) -> bool:
    return any(d.code == code and d.bookable for d in catalogue.departments)


def _hospital_of(catalogue: Catalogue, department: str) -> str | None:
    return next((d.hospital_code for d in catalogue.departments if d.code == department), None)


def _part_of(clock_time: str | None) -> str | None:
    if clock_time is None:
        return None
    hour = int(clock_time[:2])
    return "am" if hour < 12 else "pm" if hour < 18 else "eve"
