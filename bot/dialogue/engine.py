"""The dialogue engine: one Inbound message in, the replies out, for every channel.

A message delivered twice is answered once, with the same replies; one user's messages are
handled in turn; emergency signs are answered first whatever the conversation was doing; a
press (or a numbered reply) must be one of the choices last offered; and when the bot is
unsure what the patient wants it asks, offering its best guesses, instead of guessing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from booking.accounts import set_quiet
from booking.clock import Clock
from booking.complaints import ComplaintCaps
from booking.ports import UnitOfWorkFactory
from booking.protect import Protector
from bot.conversations import Conversations
from bot.dialogue import (
    account,
    book,
    bookings,
    choice_keys,
    complaint,
    duty,
    fields,
    offers,
    quick,
    register,
    reschedule,
    triage,
    waitlist,
)
from bot.dialogue.context import CatalogueCache, Context, TextSender, Turn
from bot.dialogue.state import DialogueState
from bot.texts import Texts
from channels.messages import Choice, Inbound, Outbound, picked
from nlu.commands import goes_back, language_named, stops_booking, stops_registering
from nlu.result import Parse, Understanding
from nlu.text import han_count, latin_words

log = logging.getLogger(__name__)

# A chat message longer than this is not read further (the NLU looks at less still).
MAX_TEXT = 4000
# Below this confidence the bot asks instead of acting on its best guess.
SURE_ENOUGH = 0.45
# The tasks the dialogue can carry out, as offered when it asks what the patient wants.
TASK_INTENTS = fields.TASKS
# Commands (Telegram's, and the web page's buttons): the same in every language.
COMMANDS = {
    "/start": "greet",
    "/book": "book",
    "/my": "my_appointments",
    "/cancel": "cancel",
    "/help": "help",
    "/lang": "switch_language",
}
# TD / 退订 (and back): the whole message, in any case. STOP and START too by SMS, where they
# are the carriers' words; in a chat "stop" ends a booking under way.
_QUIET_WORDS = {"td": True, "退订": True, "unsubscribe": True}
_QUIET_WORDS |= {"订阅": False, "subscribe": False, "恢复提醒": False}
_SMS_QUIET_WORDS = _QUIET_WORDS | {"stop": True, "start": False}


class DialogueEngine:
    def __init__(
        self,
        *,
        nlu: Understanding,
        conversations: Conversations,
        texts: Texts,
        uows: UnitOfWorkFactory,
        clock: Clock,
        protector: Protector,
        triage: dict[str, object] | None = None,
        texting: TextSender | None = None,
        complaint_filed: Callable[[str], Awaitable[None]] | None = None,
        complaint_within: timedelta = timedelta(hours=24),
        catalogues: CatalogueCache | None = None,
        show_codes: bool = False,
        complaint_caps: ComplaintCaps | None = None,
    ) -> None:
        """`triage`: the catalogue's symptom hints ({"hints": {"CARD": ["心慌", …]}});
        `texting`: sends an SMS, for one-time codes (without it, a phone cannot be proven on
        the web chat or Telegram, and registering there is refused politely); `catalogues`:
        the cache the NLU's names follow, so that buttons and typed names show the same
        doctors; `show_codes`: development only, the codes are also shown in the chat."""
        self._triage = triage or {}
        self._texting = texting
        self._show_codes = show_codes
        self._complaint_filed = complaint_filed
        self._complaint_within = complaint_within
        self._complaint_caps = complaint_caps
        self._catalogues = catalogues or CatalogueCache(uows)
        self._protector = protector
        self._nlu = nlu
        self._conversations = conversations
        self._texts = texts
        self._uows = uows
        self._clock = clock

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        store = self._conversations
        async with store.one_at_a_time(inbound.channel, inbound.user_id):
            for _ in range(3):  # another process answered this user meanwhile: read again
                # Inside the user's turn, and again when another process got there first.
                conversation, earlier = await store.resume(
                    inbound.channel, inbound.user_id, inbound.message_id
                )
                if earlier is not None:  # delivered again: handled once, the same answer
                    return [_outbound(reply) for reply in earlier]
                context = Context(
                    DialogueState(conversation.state),
                    self._texts,
                    self._uows,
                    self._clock,
                    self._protector,
                    inbound.channel,
                    inbound.user_id,
                    self._catalogues,
                    self._texting,
                    self._complaint_filed,
                    self._complaint_within,
                    self._show_codes,
                    self._triage,
                    store.request(inbound.channel, inbound.user_id, inbound.message_id),
                    complaint_caps=self._complaint_caps,
                    network_address=inbound.address,
                )
                replies = await self._respond(context, inbound)
                answered = (
                    (inbound.message_id, [_stored(reply) for reply in replies])
                    if inbound.message_id is not None
                    else None
                )
                if await store.save(inbound.channel, inbound.user_id, conversation, answered):
                    break
        return replies

    async def _respond(self, ctx: Context, inbound: Inbound) -> list[Outbound]:
        state = ctx.state
        text = (inbound.text or "").strip()[:MAX_TEXT]
        choice = inbound.choice
        if choice is None and text:
            numbered = picked(text, state.offered)
            choice = numbered.key if numbered else None
        if choice is not None:
            if state.language is None:
                state.language = inbound.language_hint or "zh"
            if choice_keys.read(choice).kind == "notice":  # a button under a reminder or a notice
                state.finish()
                return await _from_notice(ctx, text, choice)
            if choice not in {offered.key for offered in state.offered}:
                return [ctx.reply(ctx.say("choice_gone"), state.offered)]
            return await self._act(ctx, Turn(text, choice=choice))
        words = text.split()
        command = COMMANDS.get(words[0].lower().split("@")[0]) if words else None
        if command is not None:
            if state.language is None:
                state.language = inbound.language_hint or "zh"
            if command == "switch_language":
                state.language = "en" if state.language == "zh" else "zh"
                return [ctx.reply(ctx.say("language_now"), self._menu(ctx))]
            state.finish()  # a command leaves whatever was under way
            if command == "greet" and len(words) > 1:  # a link such as t.me/bot?start=CARD
                start = await _deep_link(ctx, words[1])
                if start is not None:
                    return await self._act(ctx, Turn(text, choice=start))
            return await self._act(ctx, Turn(text, choice=choice_keys.intent(command)))
        quiet = (_SMS_QUIET_WORDS if ctx.channel == "sms" else _QUIET_WORDS).get(text.lower())
        if quiet is not None:
            if state.language is None:
                english = text.lower() in ("unsubscribe", "subscribe", "stop", "start")
                state.language = "en" if english else (inbound.language_hint or "zh")
            await set_quiet(ctx.uows, ctx.clock, ctx.account, quiet)
            return [ctx.reply(ctx.say("quiet_on" if quiet else "quiet_off"))]
        chosen = state.slots.get("department") if state.task == "book" else None
        parse = self._nlu.parse(
            text,
            now=ctx.now(),
            lang_hint=state.language or inbound.language_hint,
            department=str(chosen) if chosen else None,
        )
        field = fields.awaited(state)
        if field is None and _clearly_in(text, parse.language):
            state.language = parse.language
        elif state.language is None:  # an ID number or "TD" says nothing of the language
            wordless = not any(ch.isalpha() and ch not in "xX" for ch in text)  # 11010…X
            state.language = (inbound.language_hint or "zh") if wordless else parse.language
        if parse.intent == "emergency" and (field is None or parse.confidence >= fields.SIGN_FOUND):
            # Before anything else, in every state; the conversation stays where it was.
            return [Outbound(ctx.say("emergency"), state.offered)]
        if field is not None and fields.asks_for_language(field, text, parse):
            # Asked outright while the bot waits for a field: the same question, in that language.
            state.language = _other_language(text, state.language or "zh")
            return [Outbound(ctx.say("language_now")), *_ask_again(ctx, field)]
        if field is None and parse.intent == "switch_language":
            state.language = _other_language(text, state.language or "zh")
            return [ctx.reply(ctx.say("language_now"), self._menu(ctx))]
        if parse.quick_command is not None:  # GHDH…: one message, one booking
            state.finish()
            return await quick.quick_book(ctx, Turn(text, parse=parse))
        return await self._act(ctx, Turn(text, parse=parse))

    async def _act(self, ctx: Context, turn: Turn) -> list[Outbound]:
        if ctx.state.task == "book":
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
            ctx.state.finish()  # the patient has moved on to something else
        if ctx.state.task == "register":
            typed = turn.choice is None
            if turn.choice == choice_keys.NAV_STOP or (typed and stops_registering(turn.text)):
                ctx.state.finish()
                return [ctx.reply(ctx.say("what_next"), self._menu(ctx))]
            field = fields.awaited(ctx.state)
            # 实名注册 again (not an answer) starts over, like any other task asked for.
            leaving = typed and field is not None and fields.leaves(field, turn.text, turn.parse)
            if (typed and not leaving) or choice_keys.read(turn.choice or "").kind == "code":
                # Answers are free text: a name may look like anything.
                return await register.continue_register(ctx, turn)
            ctx.state.finish()
        if ctx.state.task == "complaint_status":
            if turn.value("complaint_no"):
                return await complaint.status(ctx, turn)
            ctx.state.finish()
        for task, step in (
            ("cancel", bookings.continue_cancel),
            ("reschedule", reschedule.continue_reschedule),
            ("complaint", complaint.continue_complaint),
            ("unlink", account.continue_unlink),
        ):
            if ctx.state.task == task:
                replies = await step(ctx, turn)
                if replies is not None:
                    return replies
                ctx.state.finish()  # the patient has moved on to something else
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
        if intent is None:
            return self._ask(ctx, turn.parse)
        if intent == "book":
            return await book.start_book(ctx, turn)
        if intent == "query_schedule":
            return await duty.duty(ctx, turn)
        if intent == "triage":
            return triage.answer(ctx, turn, await ctx.catalogue())
        if intent == "my_appointments":
            return await bookings.show(ctx)
        if intent == "cancel":
            return await bookings.start_cancel(ctx, turn)
        if intent == "complaint":
            return complaint.start_complaint(ctx, turn)
        if intent == "complaint_status":
            return await complaint.status(ctx, turn)
        if intent == "register":
            return await register.start_register(ctx, turn)
        if intent == "reschedule":
            return await reschedule.start_reschedule(ctx, turn)
        if intent in ("greet", "help"):
            return [ctx.reply(ctx.say(intent), self._menu(ctx))]
        if intent in ("thanks", "goodbye"):
            return [ctx.reply(ctx.say(intent))]
        if intent == "out_of_scope":
            return [ctx.reply(ctx.say("out_of_scope"), self._menu(ctx))]
        return self._ask(ctx, turn.parse)

    def _menu(self, ctx: Context) -> tuple[Choice, ...]:
        return tuple(
            Choice(choice_keys.intent(name), ctx.say(f"intent.{name}")) for name in TASK_INTENTS
        )

    def _ask(self, ctx: Context, parse: Parse | None) -> list[Outbound]:
        """Not sure, or not something the dialogue does: the best guesses it can act on."""
        guesses = [s.name for s in parse.ranking if s.name in TASK_INTENTS] if parse else []
        names = list(dict.fromkeys([*guesses[:2], *TASK_INTENTS]))[:3]
        choices = tuple(
            Choice(choice_keys.intent(name), ctx.say(f"intent.{name}")) for name in names
        )
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


async def _from_notice(ctx: Context, text: str, choice: str) -> list[Outbound]:
    """Notices come outside the conversation, so their buttons were never offered in it:
    each says what it is about, and the step it starts checks it is this account's."""
    pressed = choice_keys.read(choice).notice
    action, value = pressed.kind, pressed.value
    if action == "coming":
        return await bookings.confirm_from_notice(ctx, value)
    if action == "cancel":
        return await bookings.cancel_from_notice(ctx, value)
    if action == "move":
        return await reschedule.move_from_notice(ctx, value)
    if action == "take":  # 候补: the place held for the patient
        return await waitlist.take(ctx, value, offers.receipt_text)
    if action == "pass":
        return await waitlist.let_go(ctx, value, leaving=False)
    if action == "rebook":  # 停诊: one press moves the stopped booking to another session
        return await bookings.rebook_from_notice(ctx, value, pressed.extra, offers.receipt_text)
    if action == "again" and await _deep_link(ctx, value):
        return await book.start_book(ctx, Turn(text, choice=choice_keys.department(value.upper())))
    return [ctx.reply(ctx.say("choice_gone"))]


async def _deep_link(ctx: Context, payload: str) -> str | None:
    """What `/start PAYLOAD` asks to book: a department code or a doctor's work number."""
    catalogue = await ctx.catalogue()
    wanted = payload.strip().upper()
    if any(d.code == wanted and d.bookable for d in catalogue.departments):
        return choice_keys.department(wanted)
    typed = payload.strip().casefold()  # a work number as the hospital writes it, any case
    doctor = next(
        (d for d in catalogue.doctors if d.work_no.casefold() == typed and d.active), None
    )
    return choice_keys.doctor(doctor.work_no) if doctor else None


def _clearly_in(text: str, language: str) -> bool:
    """Whether a message is plainly written in a language: the bot then answers in it. "ok",
    "1" or a name leave the conversation's language as it was."""
    if language == "zh":
        return han_count(text) >= 2
    return latin_words(text) >= 2 and han_count(text) == 0


def _ask_again(ctx: Context, field: str) -> list[Outbound]:
    """The question the bot was waiting on, asked again (in the language just chosen)."""
    if field == "complaint_text":
        return [ctx.reply(ctx.say("complaint.ask_text"))]
    return [register.ask(ctx, field)]


def _other_language(text: str, current: str) -> str:
    return language_named(text) or ("en" if current == "zh" else "zh")


def _stored(reply: Outbound) -> dict[str, Any]:
    return {"text": reply.text, "choices": [asdict(choice) for choice in reply.choices]}


def _outbound(saved: dict[str, Any]) -> Outbound:
    choices = tuple(Choice(str(c["key"]), str(c["label"])) for c in saved.get("choices") or [])
    return Outbound(str(saved["text"]), choices, repeat=True)
