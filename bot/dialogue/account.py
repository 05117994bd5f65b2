"""What a chat account keeps besides its coming bookings: their history (visits, no-shows,
cancellations by the patient or the hospital), a few at a time, and its patients, one of whom
it may stop managing (删除就诊人: booking.patients.accounts says what that does and when it is
refused).

    我的预约 ─[历史预约]─▶ page 1 ─[更多]─▶ page 2 …
    删除就诊人 ─▶ which patient? ─▶ confirm ─▶ no longer on the account
                                        └─▶ refused: this account's bookings for them are
                                            still to come (退号 offered)
"""

from __future__ import annotations

import re
import unicodedata

from booking.appointments.listing import booking_history
from booking.appointments.model import AppointmentStatus, BookingView
from booking.catalogue.model import yuan
from booking.errors import BookingError, StillBooked
from booking.patients.accounts import unlink_patient
from booking.patients.registration import patients_of_account
from bot.dialogue import choice_keys
from bot.dialogue.context import Context, Turn
from bot.dialogue.tasks import UnlinkTask
from channels.messages import Choice, Outbound

# The kinds of choice key this module answers (history pages, 删除就诊人).
KINDS = ("history", "unlink")
PER_PAGE = 5
PER_SMS_PAGE = 3  # an SMS holds 70 Chinese characters: a page is a few SMS, not a dozen

_UNLINK = re.compile(
    r"^(?:我要|我想|帮我|请|麻烦)?(?:删除|删掉|删|移除|解绑|解除绑定|去掉)(?:一个|一位|这个)?"
    r"(?:就诊人|家人|家庭成员)$"
    r"|^(?:i want to |please |can i )?(?:remove|delete|unlink)(?: a| the| one| my)?"
    r"(?: family)? (?:patient|member)s?(?: please)?$"
)
_HISTORY = re.compile(
    r"^(?:查看?|看看?|我的)?(?:历史预约|以前的预约|过去的预约|预约历史|挂号记录|就诊记录)$"
    r"|^(?:show |see )?(?:my )?(?:past bookings|booking history|past appointments"
    r"|appointment history)(?: please)?$"
)


def asks(text: str) -> str | None:
    """ "unlink" or "history" when the whole message asks for that (删除就诊人, 历史预约)."""
    said = " ".join(unicodedata.normalize("NFKC", text).lower().strip(" .。!！?？").split())
    if _UNLINK.match(said):
        return "unlink"
    if _HISTORY.match(said):
        return "history"
    return None


def account_choices(ctx: Context, has_patients: bool) -> tuple[Choice, ...]:
    """What "my bookings" offers next to the coming bookings."""
    if not has_patients:
        return ()
    return (
        Choice(choice_keys.history(1), ctx.say("bookings.history")),
        Choice(choice_keys.UNLINK_START, ctx.say("patients.remove")),
    )


async def typed(ctx: Context, wanted: str) -> list[Outbound]:
    return await start_unlink(ctx) if wanted == "unlink" else await history(ctx, 1)


async def pressed(ctx: Context, turn: Turn) -> list[Outbound]:
    """history:<page>, unlink:start or unlink:<patient id> (the confirmation's own presses
    go to `continue_unlink`)."""
    key = turn.choice or ""
    pressed = choice_keys.read(key)
    value = pressed.value
    if pressed.kind == "history" and value.isdigit():
        return await history(ctx, int(value))
    if key == choice_keys.UNLINK_START:
        return await start_unlink(ctx)
    if value.isdigit():
        return await _confirm(ctx, int(value))
    ctx.state.finish()
    return [ctx.reply(ctx.say("choice_gone"))]


async def history(ctx: Context, page: int) -> list[Outbound]:
    per_page = PER_SMS_PAGE if ctx.channel == "sms" else PER_PAGE
    found = await booking_history(
        ctx.uows, *ctx.account, today=ctx.local(ctx.now()).date(), page=page, per_page=per_page
    )
    if not found.views:
        return [ctx.reply(ctx.say("bookings.history_none"))]
    catalogue = await ctx.catalogue()
    english = {d.work_no: d.name_en for d in catalogue.doctors if d.name_en}
    lines = [ctx.say("bookings.history_title", page=page)]
    lines += [_history_line(ctx, view, english) for view in found.views]
    more = (Choice(choice_keys.history(page + 1), ctx.say("bookings.more")),) if found.more else ()
    return [ctx.reply("\n".join(lines), more)]


def _history_line(ctx: Context, view: BookingView, names_en: dict[str, str]) -> str:
    """One line, within one SMS: in English the doctor's name as written in Latin letters
    (a single Chinese character makes an SMS hold 70 characters instead of 160)."""
    english = ctx.language == "en"
    return ctx.say(
        "bookings.history_line",
        date=view.visit_date.isoformat(),
        part=ctx.say(f"part.{view.part.value}"),
        department=view.department_name_en if english else view.department_name_zh,
        doctor=names_en.get(view.doctor_work_no, view.doctor_name) if english else view.doctor_name,
        patient=view.patient_name,
        status=ctx.say(
            f"bookings.status.{_status(view)}",
            fee=yuan(view.registration_fee_fen + view.consultation_fee_fen),
        ),
    )


def _status(view: BookingView) -> str:
    """The booking's state in the patient's words: FHIR's status, and for a cancellation who
    cancelled it (the patient, a clinic stop, the hospital's staff)."""
    if view.status is AppointmentStatus.CANCELLED:
        return {"hospital_stop": "hospital_stop", "staff": "staff"}.get(
            view.cancel_reason or "", "cancelled"
        )
    if view.status is AppointmentStatus.BOOKED:  # its day has passed, not yet marked
        return "past"
    return view.status.value


async def start_unlink(ctx: Context) -> list[Outbound]:
    patients = await patients_of_account(ctx.uows, *ctx.account)
    if not patients:
        ctx.state.finish()
        return [ctx.reply(ctx.say("patients.none"))]
    ctx.state.start(UnlinkTask())
    choices = tuple(
        Choice(
            choice_keys.unlink(p.id), ctx.say("patients.pick", name=p.name, id_masked=p.id_masked)
        )
        for p in patients
    )
    return [ctx.reply(ctx.say("patients.which_to_remove"), (*choices, _keep(ctx)))]


async def _confirm(ctx: Context, patient_id: int) -> list[Outbound]:
    patients = await patients_of_account(ctx.uows, *ctx.account)
    patient = next((p for p in patients if p.id == patient_id), None)
    if patient is None:
        ctx.state.finish()
        return [ctx.reply(ctx.say("choice_gone"))]
    ctx.state.start(UnlinkTask(patient=patient_id))
    text = ctx.say("patients.confirm_remove", name=patient.name, id_masked=patient.id_masked)
    yes = Choice(choice_keys.UNLINK_YES, ctx.say("patients.remove_yes"))
    return [ctx.reply(text, (yes, _keep(ctx)))]


def _keep(ctx: Context) -> Choice:
    return Choice(choice_keys.UNLINK_NO, ctx.say("patients.remove_no"))


async def continue_unlink(ctx: Context, turn: Turn) -> list[Outbound] | None:
    """The confirmation (pressed, or typed 是 / 不), a patient picked; None when the message
    is about something else."""
    pressed = choice_keys.read(turn.choice or "")
    if pressed.kind == "unlink" and pressed.value.isdigit():
        return await _confirm(ctx, int(pressed.value))
    patient_id = ctx.state.unlink.patient
    yes = turn.choice == choice_keys.UNLINK_YES or (turn.choice is None and turn.intent == "affirm")
    no = turn.choice == choice_keys.UNLINK_NO or (turn.choice is None and turn.intent == "deny")
    if yes and patient_id is not None:
        ctx.state.finish()
        return await _unlink(ctx, patient_id)
    if no:
        ctx.state.finish()
        return [ctx.reply(ctx.say("patients.kept"))]
    return None


async def _unlink(ctx: Context, patient_id: int) -> list[Outbound]:
    patients = {p.id: p for p in await patients_of_account(ctx.uows, *ctx.account)}
    try:
        patient = await unlink_patient(ctx.uows, ctx.clock, ctx.account, patient_id)
    except StillBooked as ahead:
        name = patients[patient_id].name if patient_id in patients else ""
        count = int(ahead.details["bookings"]) + int(ahead.details["waiting"])
        then = (
            Choice(choice_keys.intent("cancel"), ctx.say("intent.cancel")),
            Choice(choice_keys.intent("my_appointments"), ctx.say("intent.my_appointments")),
        )
        return [ctx.reply(ctx.say("patients.still_booked", name=name, count=count), then)]
    except BookingError as error:
        return [ctx.refusal(error)]
    return [ctx.reply(ctx.say("patients.removed", name=patient.name))]
