"""Real-name registration of a patient (实名制) in conversation: name, ID number, phone, each
checked as it is typed, so a mistake is asked again at once with what was wrong.

The phone is proven before anything is looked up that could change an answer: by SMS the
sender's number is the phone (and an SMS that is only an ID number registers or finds the
patient at once, C2.1); on the web chat and Telegram a six-digit code goes to the number typed,
and the patient types it back. Until then a registered and an unregistered ID number get the
same answers, so that someone who knows an ID number learns nothing from it. A proven phone
adds a new ID number, or one registered with that phone (the patient on another channel, a
family member holding the registered phone); an ID number registered with another phone asks
for that phone, proven in its turn; when it is no longer the patient's, the desk changes it on
sight of the ID card.

    name ─▶ ID number ─▶ phone ─┬─ by SMS from that phone ──────────────────▶ added
                                └─ code to the phone typed ─▶ code ─────────▶ added
                                     (registered with another phone: ask that phone again)
"""

from __future__ import annotations

import contextlib

from booking.errors import (
    AccountFull,
    BookingError,
    CodeExpired,
    CodeTooSoon,
    NeedsPhoneCode,
    NotFound,
    RegisteredPhoneDiffers,
    WrongCode,
)
from booking.patients.identity import clean_name, parse_id_number, parse_mobile
from booking.patients.model import Patient
from booking.patients.registration import (
    patients_of_account,
    register_from_chat,
    register_with_code,
    send_phone_code,
)
from booking.patients.sms_codes import CodeToSend
from bot.dialogue import choice_keys
from bot.dialogue.context import Context, Turn
from bot.dialogue.tasks import RegisterTask, Registration
from channels.messages import Choice, Outbound

_QUESTIONS = {
    "name": "register.ask_name",
    "id_number": "register.ask_id",
    "phone": "register.ask_phone",
}
PHONE = "phone"  # `code_for` while a code waits to be typed back


def start_registration(ctx: Context, name: str | None = None) -> list[Outbound]:
    """Ask for what is not known yet: the name, unless the patient said it (给王小红挂号)."""
    answers = _known(ctx)
    if name is not None:
        with contextlib.suppress(BookingError):  # not a name after all: asked for, then
            answers.name = clean_name(name)
    ctx.state.registering.registration = answers
    return [ask(ctx, answers.missing()[0])]


# Typed instead of an answer, these leave a registration (on its own; inside a booking, the
# booking's words apply): what people say, and the stop button's own label.
def _known(ctx: Context) -> Registration:
    """By SMS the patient's phone is the one writing (a parent's for a child, too)."""
    if ctx.channel != "sms":
        return Registration()
    try:
        return Registration(phone=parse_mobile(ctx.user_id))
    except BookingError:  # a gateway's short code or a foreign number: ask for it
        return Registration()


def ask(ctx: Context, step: str) -> Outbound:
    """The question for one step of registration (or for the code sent)."""
    if step == "code":
        return ctx.reply(ctx.say("register.code_format"), _code_choices(ctx))
    return ctx.reply(ctx.say(_QUESTIONS[step]), (_stop(ctx),))


def _stop(ctx: Context) -> Choice:
    """Stopping a registration inside a booking stops the booking (不挂了); on its own, only
    the registration (不添加了)."""
    return Choice(
        choice_keys.NAV_STOP, ctx.say("nav.stop" if ctx.state.task == "book" else "register.stop")
    )


async def continue_registration(ctx: Context, turn: Turn) -> tuple[bool, list[Outbound]]:
    """(finished, replies): finished with the new patient's id in the task's `patient`."""
    answers = ctx.state.registering.registration
    if answers.code_for:
        return await _check_code(ctx, turn)
    step = answers.missing()[0]
    _also_given(ctx, turn, answers, step)
    given = turn.value(step if step != "name" else "person_name") or turn.text
    try:
        if step == "name":
            answers.name = clean_name(given)
        elif step == "id_number":
            answers.id_number = parse_id_number(given, today=ctx.now().date()).number
        else:
            answers.phone = parse_mobile(given)
    except BookingError as error:
        return False, [ctx.reply(ctx.say(f"refusal.{error.reason}")), ask(ctx, step)]
    answered = answers.answered()
    if answered is None:
        return False, [ask(ctx, answers.missing()[0])]
    name, id_number, phone = answered
    try:
        patient = await register_from_chat(
            ctx.uows,
            ctx.protector,
            ctx.clock,
            name=name,
            id_number=id_number,
            phone=phone,
            account=ctx.account,
            # Proof of the phone only when it is the number the SMS came from (the gateway
            # signs it), not one typed by someone writing from another phone.
            phone_proven=phone == _known(ctx).phone,
        )
    except NeedsPhoneCode as asked:
        answers.code_for = PHONE
        return False, await _text_code(ctx, for_registered=asked.to_registered_phone)
    except RegisteredPhoneDiffers:
        return False, _ask_registered_phone(ctx)
    except BookingError as error:  # e.g. the account has all the patients it may have
        return False, _refused(ctx, error)
    return True, _added(ctx, patient)


def _also_given(ctx: Context, turn: Turn, answers: Registration, step: str) -> None:
    """ "我叫王小明，身份证110101199003074514": the fields after the one asked for, when the
    message gives them too and they are right; any other is asked for in its turn."""
    number = turn.value("id_number") if step != "id_number" and answers.id_number is None else None
    if number is not None:
        with contextlib.suppress(BookingError):
            answers.id_number = parse_id_number(number, today=ctx.now().date()).number
    phone = turn.value("phone") if step != "phone" and answers.phone is None else None
    if phone is not None:
        with contextlib.suppress(BookingError):
            answers.phone = parse_mobile(phone)


def _added(ctx: Context, patient: Patient) -> list[Outbound]:
    task = ctx.state.registering
    task.registration, task.patient = Registration(), patient.id
    done = ctx.say("register.done", name=patient.name, id_masked=patient.id_masked)
    return [ctx.reply(done)]


def _refused(ctx: Context, error: BookingError) -> list[Outbound]:
    """Registration ends with the reason; a full account is offered to remove a patient."""
    ctx.state.finish()
    if isinstance(error, AccountFull):
        remove = Choice(choice_keys.UNLINK_START, ctx.say("patients.remove"))
        return [ctx.reply(ctx.say("refusal.account_full"), (remove,))]
    return [ctx.refusal(error)]


def _ask_registered_phone(ctx: Context) -> list[Outbound]:
    """A proven phone that is not the one registered for this ID number: that one is asked
    for (its code proves it), without showing it or saying whether the name was right."""
    ctx.state.registering.registration.forget_phone()
    return [ctx.reply(ctx.say("register.ask_registered_phone"), (_stop(ctx),))]


async def _text_code(ctx: Context, *, for_registered: bool = False) -> list[Outbound]:
    """A code by SMS to the number being registered; `for_registered`: it is the phone of a
    patient registered already, whose owner is warned that another account is adding them."""
    answers = ctx.state.registering.registration
    if ctx.texting is None:  # no SMS gateway: nothing can be proven here
        ctx.state.finish()
        return [ctx.reply(ctx.say("register.cannot_text"))]
    assert answers.phone is not None  # a code is sent to the phone given
    try:
        sent = await send_phone_code(
            ctx.uows, ctx.protector, ctx.clock, account=ctx.account, phone=answers.phone
        )
    except CodeTooSoon as error:  # "send again" pressed at once: the code sent still works
        return [ctx.reply(ctx.say(f"refusal.{error.reason}"), _code_choices(ctx))]
    except BookingError as error:  # too many codes: later, or the desk
        return _refused(ctx, error)
    answers.phone_masked = sent.phone_masked
    sms = "register.code_sms" if for_registered else "register.phone_code_sms"
    await ctx.texting(sent.phone, ctx.say(sms, code=sent.code))
    said = ctx.say("register.phone_code_sent", phone_masked=sent.phone_masked)
    return [ctx.reply(_with_code_shown(ctx, said, sent), _code_choices(ctx))]


def _with_code_shown(ctx: Context, said: str, sent: CodeToSend) -> str:
    """In development without an SMS gateway (bot.settings: GUAHAO_SHOW_CODES), the code is
    shown in the chat, so that a reader of `make run` can register; never in production."""
    if not ctx.show_codes:
        return said
    return f"{said}\n{ctx.say('register.dev_code', code=sent.code)}"


def _code_choices(ctx: Context) -> tuple[Choice, ...]:
    return (
        Choice(choice_keys.CODE_AGAIN, ctx.say("register.code_again")),
        Choice(choice_keys.CODE_OTHER_PHONE, ctx.say("register.other_phone")),  # a number mistyped
        _stop(ctx),
    )


async def _check_code(ctx: Context, turn: Turn) -> tuple[bool, list[Outbound]]:
    answers = ctx.state.registering.registration
    if turn.choice == choice_keys.CODE_AGAIN:
        return False, await _text_code(ctx)
    if turn.choice == choice_keys.CODE_OTHER_PHONE:
        answers.forget_phone()
        return False, [ask(ctx, "phone")]
    code = "".join(ch for ch in turn.text if ch.isdigit())
    if len(code) != 6:
        return False, [ctx.reply(ctx.say("register.code_format"), _code_choices(ctx))]
    answered = answers.answered()
    assert answered is not None  # a code is sent once all three are given
    name, id_number, phone = answered
    try:
        patient = await register_with_code(
            ctx.uows, ctx.protector, ctx.clock, name=name, id_number=id_number, phone=phone,
            account=ctx.account, code=code,
        )  # fmt: skip
    except WrongCode as wrong:
        left = int(wrong.details["tries_left"])
        return False, [ctx.reply(ctx.say("register.code_wrong", left=left), _code_choices(ctx))]
    except (CodeExpired, NotFound):  # NotFound: voided by a code asked for elsewhere since
        return False, [ctx.reply(ctx.say("register.code_expired"), _code_choices(ctx))]
    except RegisteredPhoneDiffers:
        return False, _ask_registered_phone(ctx)
    except BookingError as error:
        return False, _refused(ctx, error)
    return True, _added(ctx, patient)


async def by_id_number(ctx: Context, turn: Turn) -> list[Outbound]:
    """An ID number on its own (by SMS, how a phone is registered: C2.1) starts a
    registration with it; the name comes next. Nothing is looked up before the name is given,
    so an ID number alone tells nobody whether its owner is a patient here."""
    task = ctx.state.start(RegisterTask())
    number = parse_id_number(turn.value("id_number") or "", today=ctx.now().date()).number
    task.registration = _known(ctx)
    task.registration.id_number = number
    if turn.value("person_name"):  # "王小明 110101…", "register Li Lei 110101…"
        return await continue_register(ctx, turn)
    return [ask(ctx, "name")]


async def start_register(ctx: Context, turn: Turn) -> list[Outbound]:
    """实名注册 / 添加就诊人: the account's patients (masked), then a new one."""
    ctx.state.start(RegisterTask())
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
        done, more = await continue_registration(ctx, turn)  # 我叫王小明: the name is given
        if done:
            ctx.state.finish()
        return replies + more
    return replies + first


async def continue_register(ctx: Context, turn: Turn) -> list[Outbound]:
    done, replies = await continue_registration(ctx, turn)
    if done:
        ctx.state.finish()
    return replies
