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

from booking.clock import Clock
from booking.complaints.model import ComplaintCaps
from booking.patients.accounts import set_quiet
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.conversations import Conversations
from bot.dialogue import (
    book,
    bookings,
    choice_keys,
    dispatch,
    fields,
    offers,
    quick,
    register,
    reschedule,
    waitlist,
)
from bot.dialogue.context import CatalogueCache, Context, TextSender, Turn
from bot.dialogue.state import DialogueState
from bot.texts import Texts
from channels.messages import Choice, Inbound, Outbound, picked
from nlu.commands import asks_quiet, language_named
from nlu.result import Understanding
from nlu.text import han_count, latin_words

log = logging.getLogger(__name__)

# A chat message longer than this is not read further (the NLU looks at less still).
MAX_TEXT = 4000
# Commands (Telegram's, and the web page's buttons): the same in every language.
COMMANDS = {
    "/start": "greet",
    "/book": "book",
    "/my": "my_appointments",
    "/cancel": "cancel",
    "/help": "help",
    "/lang": "switch_language",
}


class DialogueEngine:
    def __init__(
        self,
        *,
        nlu: Understanding,
        conversations: Conversations,
        texts: Texts,
        uows: UnitOfWorkFactory[HospitalWork],
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
                conversation.state = context.state.to_json()
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
            return await dispatch.act(ctx, Turn(text, choice=choice))
        words = text.split()
        command = COMMANDS.get(words[0].lower().split("@")[0]) if words else None
        if command is not None:
            if state.language is None:
                state.language = inbound.language_hint or "zh"
            if command == "switch_language":
                state.language = "en" if state.language == "zh" else "zh"
                return [ctx.reply(ctx.say("language_now"), dispatch.menu(ctx))]
            state.finish()  # a command leaves whatever was under way
            if command == "greet" and len(words) > 1:  # a link such as t.me/bot?start=CARD
                start = await _deep_link(ctx, words[1])
                if start is not None:
                    return await dispatch.act(ctx, Turn(text, choice=start))
            return await dispatch.act(ctx, Turn(text, choice=choice_keys.intent(command)))
        asked = asks_quiet(text, by_sms=ctx.channel == "sms")
        if asked is not None:
            if state.language is None:
                state.language = "en" if asked.english else (inbound.language_hint or "zh")
            await set_quiet(ctx.uows, ctx.clock, ctx.account, asked.quiet)
            return [ctx.reply(ctx.say("quiet_on" if asked.quiet else "quiet_off"))]
        chosen = state.book.department if state.task == "book" else None
        parse = self._nlu.parse(
            text,
            now=ctx.now(),
            lang_hint=state.language or inbound.language_hint,
            department=chosen,
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
            return [ctx.reply(ctx.say("language_now"), dispatch.menu(ctx))]
        if parse.quick_command is not None:  # GHDH…: one message, one booking
            state.finish()
            return await quick.quick_book(ctx, Turn(text, parse=parse))
        return await dispatch.act(ctx, Turn(text, parse=parse))


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
