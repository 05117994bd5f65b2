"""预约挂号 in conversation: department → doctor → session → patient → confirm → booked.

Whatever the first message already says (明天上午心内科张伟) fills its slots
(bot.dialogue.booking_slots), and the steps already answered are skipped. A later message that
names a department, doctor, day or part of day changes that slot ("不对，改成下午") and
whatever depended on it. Whom it is for is bot.dialogue.for_whom's to settle.
"""

from __future__ import annotations

from datetime import date

from booking.appointments.book import book
from booking.catalogue.model import Catalogue, Doctor, Part
from booking.catalogue.schedule import is_released, release_moment
from booking.catalogue.search import SessionOffer, search_doctors, search_sessions
from booking.errors import BookingError, SlotFull
from booking.patients.identity import age_on
from booking.patients.registration import patients_of_account
from bot.dialogue import choice_keys, waitlist
from bot.dialogue.booking_slots import absorb, names_something
from bot.dialogue.context import Context, Turn
from bot.dialogue.departments import department_choices, department_name
from bot.dialogue.for_whom import ask_patient, wrong_age
from bot.dialogue.offers import (
    describe_offer,
    doctor_choices,
    doctor_name,
    find_doctor,
    receipt_text,
    session_key,
    session_label,
)
from bot.dialogue.register import continue_registration, start_registration
from bot.dialogue.tasks import BookTask
from channels.messages import Choice, Outbound

OFFERED_SESSIONS = 6


async def start_book(ctx: Context, turn: Turn) -> list[Outbound]:
    ctx.state.start(BookTask())
    return await continue_book(ctx, turn)


async def continue_book(ctx: Context, turn: Turn) -> list[Outbound]:
    task = ctx.state.book
    if task.registering:
        done, replies = await continue_registration(ctx, turn)
        if not done:
            return replies
        task.registering = False
        return replies + await _next(ctx)
    catalogue = await ctx.catalogue()
    if turn.choice is not None:
        pressed = choice_keys.read(turn.choice)
        kind, value = pressed.kind, pressed.value
        if kind == "confirm":
            if value != "yes":
                return stop(ctx)
            return await _join(ctx) if task.waitlist else await _book(ctx)
        if kind == "patient" and value == "new":
            task.registering = True
            return start_registration(ctx)
        if kind in ("session", "waitlist"):  # session:<id>:<doctor's work number>
            session_id, work_no = value, pressed.extra
            task.choose("doctor", work_no)
            task.department = find_doctor(catalogue, work_no).department_code
            task.session = int(session_id)
            task.waitlist = kind == "waitlist"
        elif kind == "patient":
            task.patient = int(value)
        elif kind == "department":
            task.choose("department", value)
        elif kind == "doctor":
            task.choose("doctor", value)
            task.candidates = []
            task.department = find_doctor(catalogue, value).department_code
    elif turn.parse is not None:
        at_confirmation = task.session is not None and task.patient is not None
        if at_confirmation and turn.intent == "affirm":
            return await _join(ctx) if task.waitlist else await _book(ctx)
        if turn.intent == "deny" and not names_something(turn):
            return stop(ctx)
        absorb(ctx, turn, catalogue)
    return await _next(ctx, catalogue)


def stays(ctx: Context, turn: Turn) -> bool:
    """Whether a typed message belongs to the booking under way, rather than starting
    something else ("我的预约" in the middle of a booking)."""
    if ctx.state.book.registering or turn.parse is None:
        return True
    if turn.intent in ("book", "inform", "affirm", "deny") or names_something(turn):
        return True
    return turn.parse.confidence < 0.7


async def _next(ctx: Context, catalogue: Catalogue | None = None) -> list[Outbound]:
    """Ask for the first thing still missing, or confirm when nothing is."""
    task = ctx.state.book
    catalogue = catalogue or await ctx.catalogue()
    if task.session is None:
        if task.candidates:
            doctors = [find_doctor(catalogue, no) for no in task.candidates]
            return [
                ctx.reply(
                    ctx.say("book.which_doctor"),
                    doctor_choices(ctx, catalogue, doctors) + _nav(ctx),
                )
            ]
        if task.doctor is None:
            if task.department is None and task.specialty:
                specialty = task.specialty
                doctors = search_doctors(catalogue, specialty=specialty)
                text = ctx.say("duty.specialty", specialty=specialty)
                return [ctx.reply(text, doctor_choices(ctx, catalogue, doctors) + _nav(ctx))]
            if task.department is None:
                return [_ask_department(ctx, catalogue)]
            return await _ask_doctor(ctx, catalogue, task.department)
        return await _ask_session(ctx, catalogue, task.doctor)
    if task.patient is None:
        asked = await ask_patient(ctx)
        if asked is not None:
            return asked
    return await _confirm(ctx, catalogue)


def _ask_department(ctx: Context, catalogue: Catalogue) -> Outbound:
    task = ctx.state.book
    codes, task.department_candidates = task.department_candidates, []
    if codes:
        shared = [d for d in catalogue.departments if d.code in codes]
        choices = department_choices(ctx, catalogue, shared, stop=True)
        return ctx.reply(ctx.say("book.which_department"), choices)
    text = ctx.say("book.ask_department")
    missing, task.not_here = task.not_here, None
    hospital = task.hospital
    if missing is not None and hospital is not None:
        named = next(h for h in catalogue.hospitals if h.code == hospital)
        text = ctx.say(
            "book.not_in_hospital",
            hospital=named.name_en if ctx.language == "en" else named.name_zh,
            department=_department_name(ctx, catalogue, missing),
        )
    return ctx.reply(text, department_choices(ctx, catalogue, hospital=hospital, stop=True))


async def _ask_doctor(ctx: Context, catalogue: Catalogue, department: str) -> list[Outbound]:
    task = ctx.state.book
    offers = await _offers(ctx, department=department, day=task.date, part=task.part)
    rejected = task.not_doctor
    working = {o.doctor.work_no for o in offers} - {rejected}
    doctors = [
        d
        for d in catalogue.doctors
        if d.department_code == department and d.active and d.work_no != rejected
    ]
    if working:  # only those who work when the patient asked, if anyone does
        doctors = [d for d in doctors if d.work_no in working]
    name = _department_name(ctx, catalogue, department)
    return [
        ctx.reply(
            ctx.say("book.ask_doctor", department=name),
            doctor_choices(ctx, catalogue, doctors) + _nav(ctx),
        )
    ]


async def _ask_session(ctx: Context, catalogue: Catalogue, work_no: str) -> list[Outbound]:
    task = ctx.state.book
    doctor = find_doctor(catalogue, work_no)
    wanted = await _offers(ctx, doctor=doctor.work_no, day=task.date, part=task.part)
    if (
        len(wanted) == 1
        and task.date is not None
        and task.part is not None
        and not task.list_sessions
    ):
        task.session = wanted[0].session.id
        return await _next(ctx, catalogue)
    name = doctor_name(ctx, doctor)
    text = ctx.say("book.ask_session", doctor=name)
    lines: tuple[Choice, ...] = ()
    if not wanted:
        full = waitlist.open_lines(
            ctx,
            await _offers(
                ctx, doctor=doctor.work_no, day=task.date, part=task.part, full=True,
            ),
        )  # fmt: skip
        lines = tuple(waitlist.choice(ctx, o, describe_offer(ctx, o)) for o in full)
        wanted = await _offers(ctx, doctor=doctor.work_no)
        text = ctx.say("book.no_sessions" if wanted else "book.none_at_all", doctor=name)
        if lines:
            text = ctx.say("waitlist.full_asked", doctor=name)
        text = "\n".join(filter(None, [_why_none(ctx, catalogue, doctor, task.date), text]))
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
    task = ctx.state.book
    task.date = task.part = None
    found = await search_sessions(
        ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=task.doctor
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
    task.list_sessions, task.waitlist = True, False
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
    task = ctx.state.book
    offers = await search_sessions(
        ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=task.doctor
    )
    offer = next((o for o in offers if o.session.id == task.session), None)
    patients = await patients_of_account(ctx.uows, *ctx.account)
    patient = next((p for p in patients if p.id == task.patient), None)
    if offer is None or patient is None:
        task.session = task.patient = None
        return await _next(ctx, catalogue)
    day = offer.session.visit_date
    if not offer.department.admits(age_on(patient.birth_date, day)):
        return [wrong_age(ctx, offer, patient, patients)]
    waiting = task.waitlist and offer.free == 0
    if waiting:
        text = waitlist.confirm_text(ctx, offer, patient.name, describe_offer(ctx, offer))
    else:
        task.waitlist = False  # places again: booked at once, no need to wait
        text = ctx.say("book.confirm", patient=patient.name, **describe_offer(ctx, offer))
    choices = (
        Choice(
            choice_keys.CONFIRM_YES,
            ctx.say("waitlist.confirm_yes" if waiting else "book.confirm_yes"),
        ),
        # Nothing booked: 不挂了 said once.
        Choice(choice_keys.CONFIRM_NO, ctx.say("book.confirm_no")),
        Choice(choice_keys.NAV_BACK, ctx.say("nav.back")),
    )
    return [ctx.reply(text, choices)]


async def _book(ctx: Context) -> list[Outbound]:
    task = ctx.state.book
    if task.session is None or task.patient is None:
        return await _next(ctx)
    try:
        receipt = await book(
            ctx.uows,
            ctx.clock,
            patient_id=task.patient,
            session_id=task.session,
            channel=ctx.channel,
            account=ctx.account,
            address=ctx.address,
            request=ctx.request,
        )
    except SlotFull:
        full, task.session = task.session, None
        return await _full(ctx, full)
    except BookingError as error:
        ctx.state.finish()
        return [ctx.refusal(error)]
    ctx.state.finish()
    return [ctx.reply(await receipt_text(ctx, receipt))]


async def _join(ctx: Context) -> list[Outbound]:
    task = ctx.state.book
    if task.session is None or task.patient is None:
        return await _next(ctx)
    joined = await waitlist.join(ctx, task.session, task.patient)
    if joined is None:  # a place came free meanwhile: confirm a booking instead
        task.waitlist = False
        return await _next(ctx)
    return joined


def stop(ctx: Context) -> list[Outbound]:
    ctx.state.finish()
    return [ctx.reply(ctx.say("book.stopped"))]


async def go_back(ctx: Context) -> list[Outbound]:
    back(ctx)
    return await _next(ctx)


def back(ctx: Context) -> None:
    """Forget the last thing chosen, so that it is asked again."""
    task = ctx.state.book
    if task.patient is not None:
        task.patient = None
    elif task.session is not None:
        task.session = None
        task.list_sessions = True  # show the sessions, even when one fits what was asked
    elif task.doctor is not None:
        task.doctor = None
    elif task.department is not None:
        task.department = None


def _nav(ctx: Context) -> tuple[Choice, ...]:
    return ctx.navigation()


def _department_name(ctx: Context, catalogue: Catalogue, code: str) -> str:
    return department_name(ctx, next(d for d in catalogue.departments if d.code == code))
