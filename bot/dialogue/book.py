"""预约挂号 in conversation: department → doctor → session → patient → confirm → booked.

Whatever the first message already says (明天上午心内科张伟) fills its slots, and the
steps already answered are skipped. A later message that names a department, doctor, day or
part of day changes that slot ("不对，改成下午") and whatever depended on it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from booking.book import BookingReceipt, book
from booking.catalogue import Catalogue, Doctor, Part, yuan
from booking.errors import BookingError, SlotFull
from booking.identity import age_on
from booking.patients import Patient
from booking.registration import patients_of_account
from booking.schedule import is_released, local_now, release_moment
from booking.search import SessionOffer, search_doctors, search_sessions
from bot.dialogue import waitlist
from bot.dialogue.context import Context, Turn
from bot.dialogue.departments import department_choices, department_name
from bot.dialogue.register import continue_registration, start_registration
from bot.dialogue.triage import suggest
from bot.texts import doctor_named
from channels.messages import Choice, Outbound
from nlu.quick_command import write_quick_command

OFFERED_SESSIONS = 6
# Changing one of these forgets what was chosen after it.
_DEPENDS = {
    "department": ("doctor", "session", "waitlist", "specialty"),
    "doctor": ("session", "waitlist"),
    "date": ("session", "waitlist"),
    "part": ("session", "waitlist"),
}


async def start_book(ctx: Context, turn: Turn) -> list[Outbound]:
    ctx.state.start("book")
    return await continue_book(ctx, turn)


async def continue_book(ctx: Context, turn: Turn) -> list[Outbound]:
    slots = ctx.state.slots
    if slots.get("registering"):
        done, replies = await continue_registration(ctx, turn)
        if not done:
            return replies
        slots.pop("registering", None)
        return replies + await _next(ctx)
    catalogue = await ctx.catalogue()
    if turn.choice is not None:
        kind, _, value = turn.choice.partition(":")
        if kind == "confirm":
            if value != "yes":
                return stop(ctx)
            return await _join(ctx) if slots.get("waitlist") else await _book(ctx)
        if kind == "patient" and value == "new":
            slots["registering"] = True
            return start_registration(ctx)
        if kind in ("session", "waitlist"):  # session:<id>:<doctor's work number>
            session_id, _, work_no = value.partition(":")
            _set(slots, "doctor", work_no)
            slots["department"] = _doctor(catalogue, work_no).department_code
            slots["session"] = int(session_id)
            slots["waitlist"] = kind == "waitlist"
        elif kind in ("department", "doctor", "patient"):
            _set(slots, kind, int(value) if kind == "patient" else value)
            if kind == "doctor":
                slots.pop("candidates", None)
                slots["department"] = _doctor(catalogue, value).department_code
    elif turn.parse is not None:
        at_confirmation = "session" in slots and "patient" in slots
        if at_confirmation and turn.intent == "affirm":
            return await _join(ctx) if slots.get("waitlist") else await _book(ctx)
        if turn.intent == "deny" and not _names_something(turn):
            return stop(ctx)
        _absorb(ctx, turn, catalogue)
    return await _next(ctx, catalogue)


def _names_something(turn: Turn) -> bool:
    """ "不对，改成下午" denies and corrects: a correction, not a refusal."""
    kinds = ("department", "doctor", "date", "time_of_day", "time")
    said = turn.text.lower()
    return any(turn.value(kind) is not None for kind in kinds) or any(
        words in said for words in (*_OTHER_DOCTOR, *_OTHER_TIME)
    )


def stays(ctx: Context, turn: Turn) -> bool:
    """Whether a typed message belongs to the booking under way, rather than starting
    something else ("我的预约" in the middle of a booking)."""
    if ctx.state.slots.get("registering") or turn.parse is None:
        return True
    if turn.intent in ("book", "inform", "affirm", "deny") or _names_something(turn):
        return True
    return turn.parse.confidence < 0.7


def _set(slots: dict[str, object], name: str, value: object) -> None:
    if slots.get(name) != value:
        for later in _DEPENDS.get(name, ()):
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


def _absorb(ctx: Context, turn: Turn, catalogue: Catalogue) -> None:
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
            _set(slots, "doctor", doctor.value)
            named = _doctor(catalogue, doctor.value)
            slots["department"] = named.department_code
            if slots.get("hospital") not in (None, named.hospital_code):
                slots.pop("hospital")  # the doctor named wins; the confirmation names the hospital
    if "patient" not in slots:  # who it is for, as the message says: asked at the patient step
        for entity, slot in (("relation", "for_relation"), ("person_name", "for_name")):
            if turn.value(entity) is not None:
                slots[slot] = turn.value(entity)
    when = turn.value("date")
    if when is not None:
        _set(slots, "date", when)
    part = turn.value("time_of_day") or _part_of(turn.value("time"))
    if part is not None:
        _set(slots, "part", part)
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
        "department" in slots and _doctor(catalogue, work_no).department_code == slots["department"]
    )


def _narrow_to(slots: dict[str, object], catalogue: Catalogue, hospital: str) -> None:
    """A hospital named ("在市中医院挂号") narrows every later step; what was chosen in another
    hospital is forgotten."""
    slots["hospital"] = hospital
    department = slots.get("department")
    if department is not None and _hospital_of(catalogue, str(department)) != hospital:
        for name in ("department", *_DEPENDS["department"], "candidates"):
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
        _set(slots, "department", inside[0])
        slots.pop("department_candidates", None)
    elif inside:
        slots["department_candidates"] = inside
        slots.pop("department", None)


async def _next(ctx: Context, catalogue: Catalogue | None = None) -> list[Outbound]:
    """Ask for the first thing still missing, or confirm when nothing is."""
    slots = ctx.state.slots
    catalogue = catalogue or await ctx.catalogue()
    if "session" not in slots:
        if slots.get("candidates"):
            doctors = [_doctor(catalogue, no) for no in slots["candidates"]]
            return [
                ctx.reply(ctx.say("book.which_doctor"), _doctor_choices(ctx, catalogue, doctors))
            ]
        if "doctor" not in slots:
            if "department" not in slots and slots.get("specialty"):
                specialty = str(slots["specialty"])
                doctors = search_doctors(catalogue, specialty=specialty)
                text = ctx.say("duty.specialty", specialty=specialty)
                return [ctx.reply(text, _doctor_choices(ctx, catalogue, doctors))]
            if "department" not in slots:
                return [_ask_department(ctx, catalogue)]
            return await _ask_doctor(ctx, catalogue)
        return await _ask_session(ctx, catalogue)
    if "patient" not in slots:
        return await _ask_patient(ctx, catalogue)
    return await _confirm(ctx, catalogue)


async def _ask_patient(ctx: Context, catalogue: Catalogue) -> list[Outbound]:
    """Whom the booking is for. Said by name, that patient; a name not on the account is
    registered; a relation said (给我儿子挂…) is asked about, even with one patient on the
    account, who is then most likely the writer."""
    slots = ctx.state.slots
    patients = await patients_of_account(ctx.uows, *ctx.account)
    named = slots.get("for_name")
    if named is not None:
        same = [p for p in patients if p.name.casefold() == str(named).casefold()]
        if len(same) == 1:
            slots["patient"] = same[0].id
            return await _confirm(ctx, catalogue)
        if not same:
            slots["registering"] = True
            missing = ctx.reply(ctx.say("book.not_on_account", name=named))
            return [missing, *start_registration(ctx, name=str(named))]
    if not patients:
        slots["registering"] = True
        return start_registration(ctx)
    if len(patients) == 1 and not slots.get("for_relation"):
        slots["patient"] = patients[0].id
        return await _confirm(ctx, catalogue)
    choices = (*patient_choices(patients), Choice("patient:new", ctx.say("book.new_patient")))
    relation = slots.get("for_relation")
    text = (
        ctx.say("book.ask_patient_for", relation=ctx.say(f"relation.{relation}"))
        if relation
        else ctx.say("book.ask_patient")
    )
    return [ctx.reply(text, choices + _nav(ctx))]


def _ask_department(ctx: Context, catalogue: Catalogue) -> Outbound:
    slots = ctx.state.slots
    codes = slots.pop("department_candidates", None)
    if codes:
        shared = [d for d in catalogue.departments if d.code in codes]
        choices = department_choices(ctx, catalogue, shared, stop=True)
        return ctx.reply(ctx.say("book.which_department"), choices)
    text = ctx.say("book.ask_department")
    missing = slots.pop("not_here", None)
    hospital = slots.get("hospital")
    if missing is not None and hospital is not None:
        named = next(h for h in catalogue.hospitals if h.code == hospital)
        text = ctx.say(
            "book.not_in_hospital",
            hospital=named.name_en if ctx.language == "en" else named.name_zh,
            department=_department_name(ctx, catalogue, str(missing)),
        )
    return ctx.reply(text, department_choices(ctx, catalogue, hospital=hospital, stop=True))


async def _ask_doctor(ctx: Context, catalogue: Catalogue) -> list[Outbound]:
    slots = ctx.state.slots
    offers = await _offers(
        ctx, department=slots["department"], day=slots.get("date"), part=slots.get("part")
    )
    rejected = slots.get("not_doctor")
    working = {o.doctor.work_no for o in offers} - {rejected}
    doctors = [
        d
        for d in catalogue.doctors
        if d.department_code == slots["department"] and d.active and d.work_no != rejected
    ]
    if working:  # only those who work when the patient asked, if anyone does
        doctors = [d for d in doctors if d.work_no in working]
    name = _department_name(ctx, catalogue, slots["department"])
    return [
        ctx.reply(
            ctx.say("book.ask_doctor", department=name), _doctor_choices(ctx, catalogue, doctors)
        )
    ]


async def _ask_session(ctx: Context, catalogue: Catalogue) -> list[Outbound]:
    slots = ctx.state.slots
    doctor = _doctor(catalogue, slots["doctor"])
    wanted = await _offers(
        ctx, doctor=doctor.work_no, day=slots.get("date"), part=slots.get("part")
    )
    if len(wanted) == 1 and "date" in slots and "part" in slots and not slots.get("list_sessions"):
        slots["session"] = wanted[0].session.id
        return await _next(ctx, catalogue)
    name = doctor_name(ctx, doctor)
    text = ctx.say("book.ask_session", doctor=name)
    lines: tuple[Choice, ...] = ()
    if not wanted:
        full = waitlist.open_lines(
            ctx,
            await _offers(
                ctx, doctor=doctor.work_no, day=slots.get("date"), part=slots.get("part"),
                full=True,
            ),
        )  # fmt: skip
        lines = tuple(waitlist.choice(ctx, o, describe_offer(ctx, o)) for o in full)
        wanted = await _offers(ctx, doctor=doctor.work_no)
        text = ctx.say("book.no_sessions" if wanted else "book.none_at_all", doctor=name)
        if lines:
            text = ctx.say("waitlist.full_asked", doctor=name)
        text = "\n".join(filter(None, [_why_none(ctx, catalogue, doctor, slots.get("date")), text]))
    choices = tuple(Choice(session_key(o), session_label(ctx, o)) for o in wanted)
    return [ctx.reply(text, lines + choices[:OFFERED_SESSIONS] + _nav(ctx))]


def _why_none(ctx: Context, catalogue: Catalogue, doctor: Doctor, day: str | None) -> str:
    """A day asked for outside the booking window is the patient's to know, not a gap."""
    if day is None:
        return ""
    hospital = next(h for h in catalogue.hospitals if h.code == doctor.hospital_code)
    wanted, policy = date.fromisoformat(day), hospital.policy
    if wanted < ctx.local(ctx.now()).date():
        return ctx.say("book.day_past")
    if not is_released(wanted, ctx.now(), policy, hospital.timezone):
        opens = release_moment(wanted, policy, hospital.timezone).isoformat()
        return ctx.say("book.beyond_window", days=policy.window_days, **ctx.opening(opens))
    return ""


async def _full(ctx: Context, session_id: int) -> list[Outbound]:
    """The session filled up before the patient confirmed: the nearest others instead, the
    same doctor on other days first, then the department's other doctors that day."""
    slots = ctx.state.slots
    slots.pop("date", None)
    slots.pop("part", None)
    found = await search_sessions(
        ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=slots["doctor"]
    )
    full = next((o for o in found if o.session.id == session_id), None)
    if full is None:  # stopped meanwhile, or no longer listed: ask afresh
        return await _next(ctx)
    day = full.session.visit_date
    same_doctor = sorted(
        (o for o in await _offers(ctx, doctor=full.doctor.work_no) if o.session.id != session_id),
        key=lambda o: (abs((o.session.visit_date - day).days), o.session.starts_at),
    )[:3]
    same_day = [
        o
        for o in await _offers(ctx, department=full.department.code, day=day.isoformat())
        if o.doctor.work_no != full.doctor.work_no
    ][:3]
    choices = tuple(
        waitlist.choice(ctx, o, describe_offer(ctx, o)) for o in waitlist.open_lines(ctx, [full])
    )
    choices += tuple(Choice(session_key(o), session_label(ctx, o)) for o in same_doctor)
    choices += tuple(
        Choice(session_key(o), f"{doctor_name(ctx, o.doctor)} {session_label(ctx, o)}")
        for o in same_day
    )
    slots["list_sessions"] = True
    slots.pop("waitlist", None)
    text = ctx.say("book.full_try_these" if choices else "book.full_nothing_else")
    return [ctx.reply(text, choices + _nav(ctx))]


async def _offers(
    ctx: Context,
    *,
    doctor: str | None = None,
    department: str | None = None,
    day: str | None = None,
    part: str | None = None,
    full: bool = False,
) -> list[SessionOffer]:
    """Bookable sessions with places left (`full`: those with none left)."""
    when = date.fromisoformat(day) if day else None
    found = await search_sessions(
        ctx.uows,
        ctx.clock,
        catalogue=await ctx.catalogue(),
        doctor=doctor,
        department=department,
        date_from=when,
        date_to=when,
        part=Part(part) if part else None,
    )
    return [o for o in found if (o.waitable if full else o.bookable)]


async def _confirm(ctx: Context, catalogue: Catalogue) -> list[Outbound]:
    slots = ctx.state.slots
    offers = await search_sessions(
        ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=slots["doctor"]
    )
    offer = next((o for o in offers if o.session.id == slots["session"]), None)
    patients = await patients_of_account(ctx.uows, *ctx.account)
    patient = next((p for p in patients if p.id == slots["patient"]), None)
    if offer is None or patient is None:
        slots.pop("session", None)
        slots.pop("patient", None)
        return await _next(ctx, catalogue)
    day = offer.session.visit_date
    if not offer.department.admits(age_on(patient.birth_date, day)):
        return [_wrong_age(ctx, offer, patient, patients)]
    waiting = bool(slots.get("waitlist")) and offer.free == 0
    if waiting:
        text = waitlist.confirm_text(ctx, offer, patient.name, describe_offer(ctx, offer))
    else:
        slots.pop("waitlist", None)  # places again: booked at once, no need to wait
        text = ctx.say("book.confirm", patient=patient.name, **describe_offer(ctx, offer))
    choices = (
        Choice("confirm:yes", ctx.say("waitlist.confirm_yes" if waiting else "book.confirm_yes")),
        Choice("confirm:no", ctx.say("book.confirm_no")),  # nothing booked: 不挂了 said once
        Choice("nav:back", ctx.say("nav.back")),
    )
    return [ctx.reply(text, choices)]


def _wrong_age(
    ctx: Context, offer: SessionOffer, patient: Patient, patients: list[Patient]
) -> Outbound:
    """儿科 for a grown-up: said before confirming, with the account's patients who fit."""
    ctx.state.slots.pop("patient", None)
    department, day = offer.department, offer.session.visit_date
    ages = {"min_age": department.min_age, "max_age": department.max_age}
    text = ctx.say("refusal.age_range_of", ages=ctx.ages(ages), age=age_on(patient.birth_date, day))
    fitting = [p for p in patients if department.admits(age_on(p.birth_date, day))]
    choices = (*patient_choices(fitting), Choice("patient:new", ctx.say("book.new_patient")))
    return ctx.reply(text, choices + _nav(ctx))


async def _book(ctx: Context) -> list[Outbound]:
    slots = ctx.state.slots
    if "session" not in slots or "patient" not in slots:
        return await _next(ctx)
    try:
        receipt = await book(
            ctx.uows,
            ctx.clock,
            patient_id=slots["patient"],
            session_id=slots["session"],
            channel=ctx.channel,
            account=ctx.account,
            address=ctx.address,
        )
    except SlotFull:
        return await _full(ctx, slots.pop("session"))
    except BookingError as error:
        ctx.state.finish()
        return [ctx.refusal(error)]
    ctx.state.finish()
    return [ctx.reply(await receipt_text(ctx, receipt))]


async def _join(ctx: Context) -> list[Outbound]:
    slots = ctx.state.slots
    if "session" not in slots or "patient" not in slots:
        return await _next(ctx)
    joined = await waitlist.join(ctx, slots["session"], slots["patient"])
    if joined is None:  # a place came free meanwhile: confirm a booking instead
        slots.pop("waitlist", None)
        return await _next(ctx)
    return joined


async def receipt_text(ctx: Context, receipt: BookingReceipt) -> str:
    """Booked: the number, when to come, the fees and what to bring; and the GHDH line that
    books the same doctor a week later, which is how patients learn the quick command."""
    appointment, place = receipt.appointment, receipt.place
    department = receipt.department.name_en if ctx.language == "en" else receipt.department.name_zh
    catalogue = await ctx.catalogue()
    done = ctx.say(
        "book.done",
        booking_no=appointment.booking_no,
        date=appointment.visit_date.isoformat(),
        part=ctx.say(f"part.{receipt.session.part.value}"),
        department=department,
        doctor=doctor_name(ctx, _doctor(catalogue, receipt.session.doctor_work_no)),
        queue_no=place.queue_no,
        start=local_now(place.starts_at, receipt.hospital.timezone).strftime("%H:%M"),
        end=local_now(place.ends_at, receipt.hospital.timezone).strftime("%H:%M"),
        fee=yuan(appointment.registration_fee_fen + appointment.consultation_fee_fen),
    )
    command = await _same_time_next_week(ctx, receipt)
    # On a line of its own: an SMS is cut at line breaks, so the command arrives whole.
    return done if command is None else done + "\n" + ctx.say("book.again", command=command)


async def _same_time_next_week(ctx: Context, receipt: BookingReceipt) -> str | None:
    """GHDH<work no.>,<MMDDhhmm>,<patient>: from the start of this session a week later."""
    patients = await patients_of_account(ctx.uows, *ctx.account)
    patient = next((p for p in patients if p.id == receipt.appointment.patient_id), None)
    if patient is None:
        return None
    starts = local_now(receipt.session.starts_at, receipt.hospital.timezone)
    later = datetime.combine(receipt.session.visit_date + timedelta(days=7), starts.time())
    return write_quick_command(receipt.session.doctor_work_no, later, patient.name)


def stop(ctx: Context) -> list[Outbound]:
    ctx.state.finish()
    return [ctx.reply(ctx.say("book.stopped"))]


def stop_words(text: str) -> bool:
    return text.strip().lower() in {"不挂了", "不约了", "取消预约", "stop", "stop booking", "quit"}


def back_words(text: str) -> bool:
    return text.strip().lower() in {"返回", "上一步", "返回上一步", "back", "go back"}


async def go_back(ctx: Context) -> list[Outbound]:
    back(ctx)
    return await _next(ctx)


def back(ctx: Context) -> None:
    """Forget the last thing chosen, so that it is asked again."""
    for name in ("patient", "session", "doctor", "department"):
        if name in ctx.state.slots:
            ctx.state.slots.pop(name)
            if name == "session":  # show the sessions, even when one fits what was asked
                ctx.state.slots["list_sessions"] = True
            return


def _nav(ctx: Context) -> tuple[Choice, ...]:
    return (Choice("nav:back", ctx.say("nav.back")), Choice("nav:stop", ctx.say("nav.stop")))


def describe_offer(ctx: Context, offer: SessionOffer) -> dict[str, object]:
    english = ctx.language == "en"
    session = offer.session
    return {
        "hospital": offer.hospital.name_en if english else offer.hospital.name_zh,
        "department": offer.department.name_en if english else offer.department.name_zh,
        "doctor": doctor_name(ctx, offer.doctor),
        "date": session.visit_date.isoformat(),
        "weekday": ctx.say(f"weekday.{session.visit_date.weekday()}"),
        "part": ctx.say(f"part.{session.part.value}"),
        "fee": yuan(session.registration_fee_fen + session.consultation_fee_fen),
    }


def session_key(offer: SessionOffer) -> str:
    return f"session:{offer.session.id}:{offer.doctor.work_no}"


def session_label(ctx: Context, offer: SessionOffer) -> str:
    described = describe_offer(ctx, offer)
    return ctx.say(
        "book.session",
        date=described["date"],
        weekday=described["weekday"],
        part=described["part"],
        free=offer.free,
        fee=described["fee"],
    )


def patient_choices(patients: list[Patient]) -> tuple[Choice, ...]:
    """One choice a patient; a name two patients of the account share (a father and son both
    陈林) says whose ID number it is, masked."""
    names = [p.name.casefold() for p in patients]
    return tuple(
        Choice(
            f"patient:{p.id}",
            f"{p.name} {p.id_masked}" if names.count(p.name.casefold()) > 1 else p.name,
        )
        for p in patients
    )


def _doctor(catalogue: Catalogue, work_no: str) -> Doctor:
    return next(d for d in catalogue.doctors if d.work_no == work_no)


def doctor_name(ctx: Context, doctor: Doctor) -> str:
    """张伟（工号00868）: wherever a doctor is named, with the number GHDH takes."""
    return doctor_named(ctx.texts, ctx.language, doctor.name, doctor.name_en, doctor.work_no)


def _bookable_department(catalogue: Catalogue, code: str) -> bool:
    return any(d.code == code and d.bookable for d in catalogue.departments)


def _department_name(ctx: Context, catalogue: Catalogue, code: str) -> str:
    return department_name(ctx, next(d for d in catalogue.departments if d.code == code))


def _hospital_of(catalogue: Catalogue, department: str) -> str | None:
    return next((d.hospital_code for d in catalogue.departments if d.code == department), None)


def _doctor_choices(
    ctx: Context, catalogue: Catalogue, doctors: list[Doctor]
) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            f"doctor:{d.work_no}",
            ctx.say(
                "doctor_label",
                name=doctor_name(ctx, d),
                title=d.title,
                department=_department_name(ctx, catalogue, d.department_code),
            ),
        )
        for d in doctors
    ) + _nav(ctx)


def _part_of(clock_time: str | None) -> str | None:
    if clock_time is None:
        return None
    hour = int(clock_time[:2])
    return "am" if hour < 12 else "pm" if hour < 18 else "eve"
