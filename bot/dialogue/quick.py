"""The SMS quick command from the hospital's design (C2.3): GHDH<work no.>,<MMDDhhmm>,<name>
books in one message, e.g. GHDH00868,11250830,张三 = doctor 00868 on 25 November, the first free
place from 08:30, for the account's patient 张三. A wrong command is answered with the part that
is wrong and the right form; nothing is asked back, as an SMS costs the patient a message."""

from __future__ import annotations

from datetime import date, datetime, time

from booking.appointments.book import book
from booking.catalogue.model import Catalogue
from booking.catalogue.schedule import is_released, release_moment
from booking.catalogue.search import SessionOffer, search_sessions
from booking.errors import BookingError, SlotFull
from booking.patients.identity import age_on
from booking.patients.model import Patient
from booking.patients.registration import patients_of_account
from bot.dialogue.context import Context, Turn
from bot.dialogue.for_whom import patient_choices
from bot.dialogue.offers import receipt_text, session_key, session_label
from bot.dialogue.tasks import BookTask
from channels.messages import Choice, Outbound


async def quick_book(ctx: Context, turn: Turn) -> list[Outbound]:
    assert turn.parse is not None
    problem = turn.parse.quick_command
    if problem != "ok":
        return [ctx.reply(ctx.say(f"quick.wrong_{problem}") + "\n" + ctx.say("quick.form"))]
    work_no, day, at, name = (turn.value(e) for e in ("doctor", "date", "time", "person_name"))
    assert work_no and day and at and name  # the parser gave every part when it says "ok"
    patients = await patients_of_account(ctx.uows, *ctx.account)
    named = [p for p in patients if p.name.casefold() == name.casefold()]
    if not named:
        return [ctx.reply(ctx.say("quick.no_patient", name=name))]
    catalogue = await ctx.catalogue()
    offers = await search_sessions(
        ctx.uows,
        ctx.clock,
        catalogue=catalogue,
        doctor=work_no,
        date_from=date.fromisoformat(day),
        date_to=date.fromisoformat(day),
    )
    wanted = datetime.combine(date.fromisoformat(day), time.fromisoformat(at))
    offer = next(
        (o for o in offers if ctx.local(o.session.starts_at).replace(tzinfo=None) <= wanted
         < ctx.local(o.session.ends_at).replace(tzinfo=None)),
        None,
    )  # fmt: skip
    if offer is None:
        return await _other_times(ctx, work_no, _why_no_session(ctx, catalogue, work_no, wanted))
    visit = offer.session.visit_date
    fitting = [p for p in named if offer.department.admits(age_on(p.birth_date, visit))] or named
    if len(fitting) > 1:
        return _which_patient(ctx, offer, fitting)
    patient = fitting[0]
    try:
        receipt = await book(
            ctx.uows,
            ctx.clock,
            patient_id=patient.id,
            session_id=offer.session.id,
            channel=ctx.channel,
            account=ctx.account,
            not_before=wanted.replace(tzinfo=ctx.local(offer.session.starts_at).tzinfo),
            address=ctx.address,
            request=ctx.request,
        )
    except SlotFull:
        return await _other_times(ctx, work_no, ctx.say("quick.full"))
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(await receipt_text(ctx, receipt))]


def _which_patient(ctx: Context, offer: SessionOffer, patients: list[Patient]) -> list[Outbound]:
    """Two patients of the account share the name (and both may see this doctor): asked,
    and the booking goes on as any booking does, from the patient step."""
    ctx.state.start(
        BookTask(
            department=offer.department.code,
            doctor=offer.doctor.work_no,
            session=offer.session.id,
        )
    )
    text = ctx.say("quick.which_patient", name=patients[0].name, count=len(patients))
    return [ctx.reply(text, patient_choices(patients))]


def _why_no_session(ctx: Context, catalogue: Catalogue, work_no: str, wanted: datetime) -> str:
    """A day not yet open is not a day without a clinic: say when it opens, if the doctor's
    weekly duties give a session then."""
    doctor = next(d for d in catalogue.doctors if d.work_no.casefold() == work_no.casefold())
    hospital = next(h for h in catalogue.hospitals if h.code == doctor.hospital_code)
    day, part = wanted.date(), hospital.part_at(wanted.time())
    released = is_released(day, ctx.now(), hospital.policy, hospital.timezone)
    if released or part is None or not doctor.on_duty(day.isoweekday(), part):
        return ctx.say("quick.no_session")
    opens = release_moment(day, hospital.policy, hospital.timezone)
    return ctx.say("quick.not_open_yet", **ctx.opening(opens.isoformat()))


async def _other_times(ctx: Context, work_no: str, why: str) -> list[Outbound]:
    """What the doctor has open instead, to book by pressing (or replying with its number)."""
    offers = await search_sessions(
        ctx.uows, ctx.clock, catalogue=await ctx.catalogue(), doctor=work_no
    )
    open_ = [o for o in offers if o.bookable and o.free > 0][:4]
    if not open_:
        return [ctx.reply(why + "\n" + ctx.say("quick.nothing_open"))]
    choices = tuple(Choice(session_key(o), session_label(ctx, o)) for o in open_)
    return [ctx.reply(why + "\n" + ctx.say("quick.open_instead"), choices)]
