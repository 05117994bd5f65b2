"""Which step answers a turn, from two tables.

The task in progress picks its step from ``TASKS``, as python-telegram-bot's ConversationHandler
maps states to handlers; a step returns None when the message is about something else, and the
task is then left. Between tasks a pressed key's kind, or else the intent, picks the step from
``INTENTS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dialogue import (
    account,
    book,
    bookings,
    choice_keys,
    complaint,
    duty,
    fields,
    register,
    reschedule,
    triage,
    waitlist,
)
from bot.dialogue.context import Context, Turn
from channels.messages import Choice, Outbound
from nlu.commands import goes_back, stops_booking, stops_registering
from nlu.result import Parse

# Below this confidence the bot asks instead of acting on its best guess.
SURE_ENOUGH = 0.45
# The tasks the dialogue can carry out, as offered when it asks what the patient wants.
TASK_INTENTS = fields.TASKS

TaskStep = Callable[[Context, Turn], Awaitable[list[Outbound] | None]]
IntentStep = Callable[[Context, Turn], Awaitable[list[Outbound]]]


async def act(ctx: Context, turn: Turn) -> list[Outbound]:
    """The task in progress answers the turn; when it is about something else, or no task is
    in progress, what it asks for does."""
    step = TASKS.get(ctx.state.task or "")
    if step is not None:
        replies = await step(ctx, turn)
        if replies is not None:
            return replies
        ctx.state.finish()  # the patient has moved on to something else
    return await _between_tasks(ctx, turn)


async def _in_book(ctx: Context, turn: Turn) -> list[Outbound] | None:
    typed = turn.choice is None
    if turn.choice == choice_keys.NAV_STOP or (typed and stops_booking(turn.text)):
        return book.stop(ctx)
    if turn.choice == choice_keys.NAV_BACK or (typed and goes_back(turn.text)):
        return await book.go_back(ctx)
    field = fields.awaited(ctx.state)  # a name is free text, whatever it looks like
    if typed and field is not None:
        if not fields.leaves(field, turn.text, turn.parse):
            return await book.continue_book(ctx, turn)
    elif typed and turn.intent == "out_of_scope":
        # A question the bot cannot answer: say so, and keep the booking where it was.
        return [Outbound(ctx.say("out_of_scope"), ctx.state.offered)]
    elif not typed or book.stays(ctx, turn):
        return await book.continue_book(ctx, turn)
    return None


async def _in_register(ctx: Context, turn: Turn) -> list[Outbound] | None:
    typed = turn.choice is None
    if turn.choice == choice_keys.NAV_STOP or (typed and stops_registering(turn.text)):
        ctx.state.finish()
        return [ctx.reply(ctx.say("what_next"), menu(ctx))]
    field = fields.awaited(ctx.state)
    # 实名注册 again (not an answer) starts over, like any other task asked for.
    leaving = typed and field is not None and fields.leaves(field, turn.text, turn.parse)
    if (typed and not leaving) or choice_keys.read(turn.choice or "").kind == "code":
        # Answers are free text: a name may look like anything.
        return await register.continue_register(ctx, turn)
    return None


async def _in_complaint_status(ctx: Context, turn: Turn) -> list[Outbound] | None:
    return await complaint.status(ctx, turn) if turn.value("complaint_no") else None


TASKS: dict[str, TaskStep] = {
    "book": _in_book,
    "register": _in_register,
    "complaint_status": _in_complaint_status,
    "cancel": bookings.continue_cancel,
    "reschedule": reschedule.continue_reschedule,
    "complaint": complaint.continue_complaint,
    "unlink": account.continue_unlink,
}


async def _between_tasks(ctx: Context, turn: Turn) -> list[Outbound]:
    pressed = choice_keys.read(turn.choice or "")
    if pressed.kind in choice_keys.BOOKING_KINDS:
        return await book.start_book(ctx, turn)
    if pressed.kind == "leave":  # a 候补 line
        return await waitlist.let_go(ctx, pressed.value, leaving=True)
    if pressed.kind in account.KINDS:
        return await account.pressed(ctx, turn)  # history pages, 删除就诊人
    if turn.choice is None and (wanted := account.asks(turn.text)):
        return await account.typed(ctx, wanted)
    if turn.value("id_number") and len(turn.text) <= 40:
        # An ID number on its own (by SMS, how a phone is registered: C2.1).
        return await register.by_id_number(ctx, turn)
    intent = _intent_of(turn)
    step = INTENTS.get(intent) if intent is not None else None
    return await step(ctx, turn) if step is not None else ask(ctx, turn.parse)


async def _triage(ctx: Context, turn: Turn) -> list[Outbound]:
    return triage.answer(ctx, turn, await ctx.catalogue())


async def _my_appointments(ctx: Context, turn: Turn) -> list[Outbound]:
    return await bookings.show(ctx)


async def _complaint(ctx: Context, turn: Turn) -> list[Outbound]:
    return complaint.start_complaint(ctx, turn)


def _with_menu(intent: str) -> IntentStep:
    """Greeting, help: said with the menu."""

    async def step(ctx: Context, turn: Turn) -> list[Outbound]:
        return [ctx.reply(ctx.say(intent), menu(ctx))]

    return step


def _said(intent: str) -> IntentStep:
    """Thanks, goodbye: a word back, nothing more."""

    async def step(ctx: Context, turn: Turn) -> list[Outbound]:
        return [ctx.reply(ctx.say(intent))]

    return step


async def _out_of_scope(ctx: Context, turn: Turn) -> list[Outbound]:
    return [ctx.reply(ctx.say("out_of_scope"), menu(ctx))]


INTENTS: dict[str, IntentStep] = {
    "book": book.start_book,
    "query_schedule": duty.duty,
    "triage": _triage,
    "my_appointments": _my_appointments,
    "cancel": bookings.start_cancel,
    "complaint": _complaint,
    "complaint_status": complaint.status,
    "register": register.start_register,
    "reschedule": reschedule.start_reschedule,
    "greet": _with_menu("greet"),
    "help": _with_menu("help"),
    "thanks": _said("thanks"),
    "goodbye": _said("goodbye"),
    "out_of_scope": _out_of_scope,
}


def menu(ctx: Context) -> tuple[Choice, ...]:
    return tuple(
        Choice(choice_keys.intent(name), ctx.say(f"intent.{name}")) for name in TASK_INTENTS
    )


def ask(ctx: Context, parse: Parse | None) -> list[Outbound]:
    """Not sure, or not something the dialogue does: the best guesses it can act on."""
    guesses = [s.name for s in parse.ranking if s.name in TASK_INTENTS] if parse else []
    names = list(dict.fromkeys([*guesses[:2], *TASK_INTENTS]))[:3]
    choices = tuple(Choice(choice_keys.intent(name), ctx.say(f"intent.{name}")) for name in names)
    return [ctx.reply(ctx.say("fallback_ask"), choices)]


def _intent_of(turn: Turn) -> str | None:
    if turn.choice is not None:
        pressed = choice_keys.read(turn.choice)
        return pressed.value if pressed.kind == "intent" else None
    if turn.parse is None:
        return None
    if turn.parse.intent in ("out_of_scope", "greet", "thanks", "goodbye"):
        return turn.parse.intent
    if turn.parse.intent == "inform":
        # Outside any task, "明天下午李明医生" or "a cardiologist on Friday" asks for a booking,
        # and "头疼两天了" or "孩子39度" for advice on where to go.
        if turn.value("doctor") or turn.value("department"):
            return "book"
        return "triage" if turn.value("symptom") or turn.value("temperature") else None
    complaint = turn.value("symptom") or turn.value("temperature")
    if complaint and (turn.parse.intent == "triage" or turn.parse.confidence < SURE_ENOUGH):
        return "triage"  # unsure of the words around it, but a complaint is what it is about
    named = any(turn.value(kind) for kind in ("doctor", "department", "specialty"))
    if complaint and turn.parse.intent == "query_schedule" and not named:
        # "Which doctor do I need? My knee hurts": nobody treats "knee hurts" by name; the
        # question is which department.
        return "triage"
    return turn.parse.intent if turn.parse.confidence >= SURE_ENOUGH else None
