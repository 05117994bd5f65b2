"""Real-name registration of a patient (实名制) in conversation: name, ID number, phone, each
checked as it is typed, so a mistake is asked again at once with what was wrong."""

from __future__ import annotations

from booking.errors import BookingError
from booking.identity import clean_name, parse_id_number, parse_mobile
from booking.registration import patients_of_account, register_patient
from bot.dialogue.context import Context, Turn
from channels.messages import Choice, Outbound

_STEPS = ("name", "id_number", "phone")
_QUESTIONS = {
    "name": "register.ask_name",
    "id_number": "register.ask_id",
    "phone": "register.ask_phone",
}


def start_registration(ctx: Context) -> list[Outbound]:
    ctx.state.slots["registration"] = {}
    return [_ask(ctx, "name")]


def _ask(ctx: Context, step: str) -> Outbound:
    return ctx.reply(ctx.say(_QUESTIONS[step]), (Choice("nav:stop", ctx.say("nav.stop")),))


async def continue_registration(ctx: Context, turn: Turn) -> tuple[bool, list[Outbound]]:
    """(finished, replies): finished with the new patient's id in the `patient` slot."""
    answers: dict[str, str] = ctx.state.slots.setdefault("registration", {})
    step = next(s for s in _STEPS if s not in answers)
    given = turn.value(step if step != "name" else "person_name") or turn.text
    try:
        if step == "name":
            answers["name"] = clean_name(given)
        elif step == "id_number":
            answers["id_number"] = parse_id_number(given, today=ctx.now().date()).number
        else:
            answers["phone"] = parse_mobile(given)
    except BookingError as error:
        return False, [ctx.reply(ctx.say(f"refusal.{error.reason}")), _ask(ctx, step)]
    missing = [s for s in _STEPS if s not in answers]
    if missing:
        return False, [_ask(ctx, missing[0])]
    try:
        patient = await register_patient(
            ctx.uows,
            ctx.protector,
            ctx.clock,
            name=answers["name"],
            id_number=answers["id_number"],
            phone=answers["phone"],
            account=ctx.account,
        )
    except BookingError as error:  # e.g. the account has all the patients it may have
        ctx.state.finish()
        return False, [ctx.refusal(error)]
    ctx.state.slots.pop("registration", None)
    ctx.state.slots["patient"] = patient.id
    done = ctx.say("register.done", name=patient.name, id_masked=patient.id_masked)
    return True, [ctx.reply(done)]


async def start_register(ctx: Context, turn: Turn) -> list[Outbound]:
    """实名注册 / 添加就诊人: the account's patients (masked), then a new one."""
    ctx.state.start("register")
    patients = await patients_of_account(ctx.uows, *ctx.account)
    replies = []
    if patients:
        lines = [ctx.say("patients.title")]
        lines += [
            ctx.say(
                "patients.line", name=p.name, id_masked=p.id_masked, phone_masked=p.phone_masked
            )
            for p in patients
        ]
        replies.append(ctx.reply("\n".join(lines)))
    first = start_registration(ctx)
    if turn.parse is not None and turn.value("person_name"):
        _, more = await continue_registration(ctx, turn)  # 我叫王小明: the name is given
        return replies + more
    return replies + first


async def continue_register(ctx: Context, turn: Turn) -> list[Outbound]:
    done, replies = await continue_registration(ctx, turn)
    if done:
        ctx.state.finish()
    return replies
