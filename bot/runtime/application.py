"""The application: the dialogue behind every channel, the notice dispatcher, the staff desk
and the background rounds, made whole by ``bot.runtime.build`` and run by
``bot.runtime.lifecycle``."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from booking.complaints import handling
from booking.complaints.model import ComplaintCaps
from booking.patients.blacklist import REMOVAL_SHARE, ListFetcher
from booking.patients.model import SyncReport
from booking.staff.retention import Purged, Retention
from bot.complaints import mail
from bot.complaints.answers import ComplaintAnswers
from bot.complaints.staff_chats import StaffDesk
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.notices.dispatcher import NoticeDispatcher
from bot.runtime import housework
from bot.runtime.nlu import CatalogueFollower
from bot.runtime.rounds import every
from bot.runtime.services import Services
from bot.settings import Settings
from bot.texts import Texts
from channels.email import Mail, MailReply
from channels.flood import FloodGate
from channels.messages import Inbound, Outbound
from channels.telegram import StaffCommand, StaffPress
from nlu.text import has_han

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(days=1)
# How to reach a user outside a conversation, on one channel: (user id, messages).
Send = Callable[[str, list[Outbound]], Awaitable[None]]


class Unreachable(Exception):
    """No way to reach this channel's users outside a conversation (the web chat)."""

    permanent = True

    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel} users cannot be reached outside a conversation")


@dataclass(frozen=True)
class Every:
    """How often each background round runs, in seconds."""

    housekeeping: float = 3600.0
    complaints: float = 15.0
    notices: float = 1.0
    noshows: float = 300.0
    waitlists: float = 5.0
    # A doctor added in the back office is understood by name and GHDH within 45 s in every
    # process: the cache keeps the catalogue 30 s, and a round every 15 s looks at what it holds.
    catalogue_kept: float = 30.0
    catalogue: float = 15.0


class Application:
    """Everything a running process serves with; every part is made when it is built."""

    def __init__(
        self,
        *,
        settings: Settings,
        services: Services,
        texts: Texts,
        conversations: Conversations,
        engine: DialogueEngine,
        senders: Mapping[str, Send],
        staff: StaffDesk | None,
        answers: ComplaintAnswers,
        notices: NoticeDispatcher,
        follower: CatalogueFollower,
        every: Every,
    ) -> None:
        self.settings = settings
        self.services = services
        self.texts = texts
        self.conversations = conversations
        self.engine = engine
        self.senders = senders
        self.staff = staff  # None: no staff group configured
        self.answers = answers  # to complaints, told to the patients
        self.notices = notices
        self.follower = follower
        self.every = every
        self.complaint_within = timedelta(hours=settings.complaint_hours)
        self.complaint_caps = complaint_caps(settings)
        self._rounds: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._purged_at: datetime | None = None

    def start_rounds(self) -> None:
        """Start the background work: notices, complaints, no-shows, waitlists, the
        catalogue, housekeeping (and the blacklist pull, when configured)."""
        settings, times, notices = self.settings, self.every, self.notices
        work: list[tuple[float, str, Callable[[], Awaitable[object]]]] = [
            (times.complaints, "look after complaints", self.look_after_complaints),
            # A round for each channel's notices: a channel that hangs holds up only its own.
            *(
                (times.notices, f"send {lane} notices", partial(notices.run_lane, lane))
                for lane in notices.lanes
            ),
            (times.noshows, "mark no-shows", self.mark_noshows),
            (times.waitlists, "tend the waitlists", self.tend_waitlists),
            (times.catalogue, "follow the catalogue", self.follower.follow),
            (
                times.housekeeping,
                "keep house",
                partial(self.keep_house, settings.conversation_days, settings.retention),
            ),
        ]
        fetch = self.services.blacklist_pull
        if fetch is not None:
            minutes = settings.blacklist_pull_minutes
            share = settings.blacklist_max_removal_share
            pulling = partial(self.pull_blacklist, fetch, share)
            work.append((minutes * 60.0, "pull the blacklist", pulling))
        self._rounds = [asyncio.create_task(every(*each)) for each in work]

    async def one_round(self) -> tuple[int, int]:
        """What the background does, once, now: (no-shows marked, notices sent)."""
        marked = await self.mark_noshows()
        await self.tend_waitlists()
        await self.look_after_complaints()
        return marked, await self.notices.run_once()

    async def stop_background(self) -> None:
        """Stop what runs in the background (first, before the channels close)."""
        for task in (*self._rounds, *self._background):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._rounds = []

    async def close(self) -> None:
        await self.services.close()

    async def stop(self) -> None:
        await self.stop_background()
        await self.close()

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Every message gets an answer: an unexpected failure is logged (never what the
        patient typed) and the patient is asked to try again."""
        try:
            return await self.engine.handle(inbound)
        except Exception:
            log.exception("could not handle a %s message", inbound.channel)
            return [Outbound(self._try_again(inbound))]

    async def handle_gated(self, gate: FloodGate, inbound: Inbound) -> list[Outbound]:
        """`handle`, for a chat that may send only so many messages a minute."""
        if await gate.admit(inbound.channel, inbound.user_id, None) is not None:
            return [Outbound(self.texts.say("zh", "too_fast"))]
        return await self.handle(inbound)

    async def handle_mail(self, mail_in: Mail) -> MailReply:
        s = self.services
        return await mail.handle_mail(
            mail_in, uows=s.uows, protector=s.protector, clock=s.clock, texts=self.texts,
            on_filed=self.complaint_filed, accept_within=self.complaint_within,
            caps=self.complaint_caps,
        )  # fmt: skip

    async def collect_web(self, chat: str) -> list[Outbound]:
        """The notices left for a web chat; none for now when they cannot be read (the page
        asks again in 15 seconds, and they are given only once read)."""
        try:
            return await self.conversations.collect("web", chat)
        except Exception as error:
            log.warning("could not collect a web chat's notices (%s)", type(error).__name__)
            return []

    async def staff_press(self, press: StaffPress) -> str | None:
        if self.staff is None:
            return None
        return await self.staff.press(press.chat_id, press.user_id, press.user_name, press.data)

    async def staff_command(self, typed: StaffCommand) -> list[Outbound] | None:
        if self.staff is None:
            return None
        return await self.staff.command(typed.chat_id, typed.user_id, typed.user_name, typed.text)

    async def tell(self, channel: str, user_id: str, messages: list[Outbound]) -> None:
        """Reach a patient outside a conversation, on the channel they wrote from."""
        send = self.senders.get(channel)
        if send is None:  # the web chat (or a channel switched off) cannot be reached
            raise Unreachable(channel)
        await send(user_id, messages)

    async def complaint_filed(self, complaint_no: str) -> None:
        """A complaint was filed (by chat, SMS or e-mail): staff are told, in the background,
        since posting to a group is paced and the patient is waiting for the number."""
        if self.staff is not None:
            self.in_background(self.staff.complaint_filed(complaint_no))

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        async def logged() -> None:
            try:
                await work
            except Exception:  # the next round of _watch_complaints does it again
                log.exception("background work failed")

        task = asyncio.create_task(logged())
        self._background.add(task)  # kept until done: the loop holds tasks only weakly
        task.add_done_callback(self._background.discard)

    async def text(self, phone: str, text: str) -> None:
        """An SMS of the dialogue's own (a registration code)."""
        await self.senders["sms"](phone, [Outbound(text)])

    async def forget_old_conversations(self, days: int) -> int:
        """Conversations untouched, and answered messages kept, for `days`: what a patient
        typed is not kept longer than a conversation needs it."""
        before = self.services.clock.now() - timedelta(days=days)
        return await self.conversations.purge(before)

    async def look_after_complaints(self) -> None:
        """Complaints filed in conversations reach the staff group, answers not yet delivered
        (from the group or the web console) are tried again, and those nobody accepted in
        time go one level up: posted to the group above, when there are staff groups."""
        if self.staff is not None:
            await self.staff.send_pending()
            await self.staff.escalate_overdue()
            return
        await self.answers.tell_due()
        s = self.services
        await handling.escalate_overdue(s.uows, s.clock, accept_within=self.complaint_within)

    async def mark_noshows(self) -> int:
        return await housework.mark_noshows(self.services)

    async def tend_waitlists(self) -> None:
        await housework.tend_waitlists(self.services)

    async def pull_blacklist(
        self, fetch: ListFetcher, removal_share: float = REMOVAL_SHARE
    ) -> SyncReport:
        return await housework.pull_blacklist(self.services, fetch, removal_share)

    async def purge_old_records(self, retention: Retention) -> Purged:
        return await housework.purge_old_records(self.services, retention)

    async def keep_house(self, days: int, retention: Retention) -> None:
        """Forget old conversations; once a day, purge the logs past their retention."""
        try:
            forgotten = await self.forget_old_conversations(days)
            if forgotten:
                log.info("forgot %d conversations and answered messages", forgotten)
        except Exception:  # the purge is still due
            log.exception("could not forget old conversations")
        # Once a day is enough for a retention counted in days (one audit row a day).
        if self._purged_at is None or self.now() - self._purged_at >= PURGE_EVERY:
            purged = await self.purge_old_records(retention)
            self._purged_at = self.now()
            counts = (purged.booking_log, purged.operation_errors, purged.audit_log)
            log.info("purged %d booking log, %d error log and %d audit entries", *counts)

    def now(self) -> datetime:
        return self.services.clock.now()

    def _try_again(self, inbound: Inbound) -> str:
        """Asks to try again in the patient's language. That is kept with the conversation,
        which may be what could not be read (the database down), so it is taken from the
        message or the channel; when neither tells it (a button pressed, an ID number typed),
        in both languages."""
        language = _language_of(inbound)
        languages = ("zh", "en") if language is None else (language,)
        return "\n".join(self.texts.say(each, "refusal.try_again") for each in languages)


def complaint_caps(settings: Settings) -> ComplaintCaps:
    return ComplaintCaps(
        per_account=settings.complaints_per_hour_account,
        per_address=settings.complaints_per_hour_address,
    )


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _language_of(inbound: Inbound) -> str | None:
    """The patient's language as one message tells it: Chinese characters, English words
    (not a command, which is the same in both), or the language the channel reports."""
    text = inbound.text or ""
    if has_han(text):
        return "zh"
    if not text.startswith("/") and _LATIN_WORD.search(text):
        return "en"
    hint = (inbound.language_hint or "").lower()
    return next((language for language in ("zh", "en") if hint.startswith(language)), None)
