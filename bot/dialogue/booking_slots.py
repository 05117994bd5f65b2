"""What a message says about the booking under way: a department, a hospital, a doctor (a
sound-alike resolved in the department chosen), a day and part of day, who it is for, or
"换个医生" / "换个时间"; new values replace old ones and forget what depended on them."""

from __future__ import annotations

from dataclasses import replace

from booking.catalogue.model import Catalogue
from booking.catalogue.search import search_doctors
from bot.dialogue.context import Context, Turn
from bot.dialogue.offers import find_doctor
from bot.dialogue.tasks import DEPENDS, BookTask, forget
from bot.dialogue.triage import suggest

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
    task = ctx.state.book
    said = turn.text.lower()
    if any(words in said for words in _OTHER_DOCTOR):
        if task.doctor is not None:
            task.not_doctor = task.doctor
        forget(task, "doctor", "candidates", "session")
    if any(words in said for words in _OTHER_TIME):
        forget(task, "date", "part", "session")
    hospital = turn.value("hospital")
    if hospital is not None:
        _narrow_to(task, catalogue, hospital)
    department = turn.parse.first("department")
    if department is not None:
        _absorb_department(task, catalogue, department.candidates or (department.value,))
    doctor = turn.parse.first("doctor")
    if doctor is not None:
        # 张维 while booking cardiology is its 张伟, not orthopaedics' 张卫.
        inside = [c for c in doctor.candidates if _in_department(catalogue, c, task)]
        if len(inside) == 1:
            doctor = replace(doctor, value=inside[0], candidates=())
        if doctor.candidates:
            # Asked which of them: what was picked for another doctor goes, as on a choice.
            forget(task, "doctor", *DEPENDS["doctor"])
            task.candidates = list(doctor.candidates)
        else:
            task.choose("doctor", doctor.value)
            named = find_doctor(catalogue, doctor.value)
            task.department = named.department_code
            if task.hospital not in (None, named.hospital_code):
                task.hospital = None  # the doctor named wins; the confirmation names the hospital
    if task.patient is None:  # who it is for, as the message says: asked at the patient step
        relation, name = turn.value("relation"), turn.value("person_name")
        if relation is not None:
            task.for_relation = relation
        if name is not None:
            task.for_name = name
    when = turn.value("date")
    if when is not None:
        task.choose("date", when)
    part = turn.value("time_of_day") or _part_of(turn.value("time"))
    if part is not None:
        task.choose("part", part)
    if when is not None and part is not None:  # one session named: no list needed any more
        task.list_sessions = False
    if task.department is None and task.doctor is None and not task.candidates:
        _absorb_what_for(ctx, turn, catalogue)


def _absorb_what_for(ctx: Context, turn: Turn, catalogue: Catalogue) -> None:
    """挂个看糖尿病的专家号, "a diabetes specialist": the doctors who treat it; 挂个看胃病的号,
    给孩子挂个号: the department triage names, when it names one."""
    specialty = turn.value("specialty")
    if specialty is not None and search_doctors(catalogue, specialty=specialty):
        ctx.state.book.specialty = specialty
        return
    found = suggest(turn.parse, ctx.triage, catalogue)
    if found.suggested == 1:
        _absorb_department(ctx.state.book, catalogue, (found.departments[0].code,))


def _in_department(catalogue: Catalogue, work_no: str, task: BookTask) -> bool:
    return (
        task.department is not None
        and find_doctor(catalogue, work_no).department_code == task.department
    )


def _narrow_to(task: BookTask, catalogue: Catalogue, hospital: str) -> None:
    """A hospital named ("在市中医院挂号") narrows every later step; what was chosen in another
    hospital is forgotten."""
    task.hospital = hospital
    department = task.department
    if department is not None and _hospital_of(catalogue, department) != hospital:
        forget(task, "department", *DEPENDS["department"], "candidates")


def _absorb_department(task: BookTask, catalogue: Catalogue, codes: tuple[str, ...]) -> None:
    """A department named: one that takes bookings, in the hospital named if one was; a name
    several hospitals share (骨伤科) is asked about, each choice saying which hospital."""
    bookable = [c for c in codes if _bookable_department(catalogue, c)]
    hospital = task.hospital
    inside = [c for c in bookable if hospital is None or _hospital_of(catalogue, c) == hospital]
    if bookable and not inside:
        task.not_here = bookable[0]  # 市中医院没有心血管内科: said, and its own listed
    if len(inside) == 1:
        task.choose("department", inside[0])
        task.department_candidates = []
    elif inside:
        task.department_candidates = inside
        task.department = None


def _bookable_department(catalogue: Catalogue, code: str) -> bool:
    return any(d.code == code and d.bookable for d in catalogue.departments)


def _hospital_of(catalogue: Catalogue, department: str) -> str | None:
    return next((d.hospital_code for d in catalogue.departments if d.code == department), None)


def _part_of(clock_time: str | None) -> str | None:
    if clock_time is None:
        return None
    hour = int(clock_time[:2])
    return "am" if hour < 12 else "pm" if hour < 18 else "eve"
