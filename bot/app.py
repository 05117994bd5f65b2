"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000
uvicorn --factory bot.app:create_app --no-access-log --no-proxy-headers
    # back-office search addresses carry what staff typed: keep them out of logs; who sent a
    # request is decided by GUAHAO_TRUSTED_PROXIES (bot.addresses), not by uvicorn
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

import backoffice
from booking import complaint_handling as handling
from booking.attendance import mark_noshows
from booking.audit import SCHEDULE
from booking.blacklist import REMOVAL_SHARE, ListFetcher, SyncReport, SyncStatus
from booking.blacklist import pull as pull_blacklist
from booking.complaints import ComplaintCaps
from booking.retention import Purged, Retention, purge_old_records
from booking.search import load_catalogue
from booking.staff import SessionLimits
from booking.waitlist import tend_waitlists
from bot.addresses import ClientAddresses
from bot.channel_setup import mail_for, sms_for, start_telegram, telegram_for
from bot.cli_runtime import read_catalogue
from bot.complaint_answers import ComplaintAnswers
from bot.conversations import Conversations
from bot.dialogue.context import CatalogueCache
from bot.dialogue.engine import DialogueEngine
from bot.fhir_api import bad_token_gate, fhir_router
from bot.mail import handle_mail
from bot.nlu_setup import CatalogueFollower, build_nlu
from bot.notices import NoticeDispatcher
from bot.rounds import every
from bot.settings import Settings
from bot.staff import StaffDesk, StaffRooms
from bot.texts import Texts
from bot.web_errors import LARGEST_BODY, guard_errors
from bot.wiring import Services, build
from channels.email import Mail, MailReply
from channels.flood import FloodGate
from channels.messages import Inbound, Outbound
from channels.telegram import StaffCommand, StaffPress
from channels.webchat import webchat_router
from nlu.text import has_han

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(days=1)


class Unreachable(Exception):
    """No way to reach this channel's users outside a conversation (the web chat)."""

    permanent = True

    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel} users cannot be reached outside a conversation")


class Bot:
    """The dialogue engine behind every channel, built when the application starts."""

    HOUSEKEEPING_EVERY = 3600.0  # seconds
    COMPLAINT_ROUNDS_EVERY = 15.0
    NOTICE_ROUNDS_EVERY = 1.0
    NOSHOW_ROUNDS_EVERY = 300.0
    WAITLIST_ROUNDS_EVERY = 5.0
    # A doctor added in the back office is understood by name and GHDH within 45 s in every
    # process: the cache keeps the catalogue 30 s, and a round every 15 s looks at what it holds.
    CATALOGUE_KEPT = 30.0
    CATALOGUE_ROUNDS_EVERY = 15.0

    def __init__(self) -> None:
        self.services: Services | None = None
        self.engine: DialogueEngine | None = None
        self.conversations: Conversations | None = None
        self.texts = Texts.load()
        # How to reach a user outside a conversation, by channel: (user id, messages).
        self.senders: dict[str, Callable[[str, list[Outbound]], Awaitable[None]]] = {}
        self.staff: StaffDesk | None = None
        self.answers: ComplaintAnswers | None = None  # to complaints, told to the patients
        self.rooms: StaffRooms | None = None  # set when a staff group is configured
        self.notices: NoticeDispatcher | None = None
        self.complaint_within = timedelta(hours=24)
        self.complaint_caps = ComplaintCaps()
        self._rounds: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._purged_at: datetime | None = None

    async def start(self, settings: Settings, *, rounds: bool = True) -> None:
        """`rounds`: also start the background work (notices, complaints, no-shows,
        housekeeping); without it, one round is run by `one_round`."""
        services = build(settings)
        self.complaint_within = timedelta(hours=settings.complaint_hours)
        self.complaint_caps = ComplaintCaps(
            per_account=settings.complaints_per_hour_account,
            per_address=settings.complaints_per_hour_address,
        )
        catalogue = await load_catalogue(services.uows)
        if not catalogue.triage and settings.demo_file.exists():
            # The symptom hints and emergency signs are not kept in the database yet: they
            # come from the catalogue file the hospital was loaded from.
            catalogue = replace(catalogue, triage=read_catalogue(settings.demo_file).triage)
        self.services = services
        self.conversations = Conversations(services.uows, services.protector, services.clock)
        conversations = self.conversations

        async def to_web(session: str, messages: list[Outbound]) -> None:
            await conversations.leave("web", session, messages)

        self.senders["web"] = to_web  # kept until the page asks
        catalogues = CatalogueCache(services.uows, self.CATALOGUE_KEPT)
        nlu = build_nlu(settings, catalogue)
        follower = CatalogueFollower(nlu, catalogues, catalogue)
        # Development without an SMS gateway: a code is "sent" nowhere (nor logged) and shown
        # in the chat instead (bot.settings: GUAHAO_SHOW_CODES).
        on_screen = _screen_only if settings.codes_on_screen and "sms" not in self.senders else None
        self.engine = DialogueEngine(
            nlu=nlu,
            conversations=self.conversations,
            texts=self.texts,
            uows=services.uows,
            clock=services.clock,
            protector=services.protector,
            triage=catalogue.triage,
            texting=self._text if "sms" in self.senders else on_screen,
            complaint_filed=self.complaint_filed,
            complaint_within=self.complaint_within,
            complaint_caps=self.complaint_caps,
            catalogues=catalogues,
            show_codes=on_screen is not None,
        )

        if self.rooms is not None and "telegram" in self.senders:
            self.staff = StaffDesk(
                services.uows,
                services.protector,
                services.clock,
                self.texts,
                self.senders["telegram"],
                self.tell,
                self.rooms,
            )
        self.answers = (
            self.staff.answers
            if self.staff is not None
            else ComplaintAnswers(
                services.uows, services.protector, services.clock, self.texts, self.tell
            )
        )
        every_lane, by_lane = settings.notice_deadlines()
        self.notices = NoticeDispatcher(
            services.uows,
            services.protector,
            services.clock,
            self.texts,
            self.senders,
            self.conversations,
            alert=self.staff.alert if self.staff is not None else None,
            hold=timedelta(seconds=settings.notice_hold_seconds),
            deadline=every_lane,
            deadlines=by_lane,
        )
        if not rounds:
            return
        notices = self.notices
        fetch = services.blacklist_pull
        work: list[tuple[float, str, Callable[[], Awaitable[object]]]] = [
            (self.COMPLAINT_ROUNDS_EVERY, "look after complaints", self.look_after_complaints),
            # A round for each channel's notices: a channel that hangs holds up only its own.
            *(
                (self.NOTICE_ROUNDS_EVERY, f"send {lane} notices", partial(notices.run_lane, lane))
                for lane in notices.lanes
            ),
            (self.NOSHOW_ROUNDS_EVERY, "mark no-shows", self.mark_noshows),
            (self.WAITLIST_ROUNDS_EVERY, "tend the waitlists", self.tend_waitlists),
            (self.CATALOGUE_ROUNDS_EVERY, "follow the catalogue", follower.follow),
            (
                self.HOUSEKEEPING_EVERY,
                "keep house",
                partial(self.keep_house, settings.conversation_days, settings.retention),
            ),
        ]
        if fetch is not None:
            minutes = settings.blacklist_pull_minutes
            share = settings.blacklist_max_removal_share
            pulling = partial(self.pull_blacklist, fetch, share)
            work.append((minutes * 60.0, "pull the blacklist", pulling))
        self._rounds = [asyncio.create_task(every(*each)) for each in work]

    async def one_round(self) -> tuple[int, int]:
        """What the background does, once, now: (no-shows marked, notices sent)."""
        assert self.services is not None and self.notices is not None
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

    async def stop(self) -> None:
        await self.stop_background()
        if self.services is not None:
            await self.services.close()

    async def handle_mail(self, mail: Mail) -> MailReply:
        assert self.services is not None
        s = self.services
        return await handle_mail(
            mail, uows=s.uows, protector=s.protector, clock=s.clock, texts=self.texts,
            on_filed=self.complaint_filed, accept_within=self.complaint_within,
            caps=self.complaint_caps,
        )  # fmt: skip

    async def collect_web(self, session: str) -> list[Outbound]:
        """The notices left for a web chat; none for now when they cannot be read (the page
        asks again in 15 seconds, and they are given only once read)."""
        assert self.conversations is not None
        try:
            return await self.conversations.collect("web", session)
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

    async def _text(self, phone: str, text: str) -> None:
        await self.senders["sms"](phone, [Outbound(text)])

    async def forget_old_conversations(self, days: int) -> int:
        """Conversations untouched, and answered messages kept, for `days`: what a patient
        typed is not kept longer than a conversation needs it."""
        assert self.services is not None and self.conversations is not None
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
        assert self.services is not None and self.answers is not None
        await self.answers.tell_due()
        s = self.services
        await handling.escalate_overdue(s.uows, s.clock, accept_within=self.complaint_within)

    async def mark_noshows(self) -> int:
        """Bookings nobody checked in for, an hour after their session: no-shows, and the
        bans that follow, told to the patient."""
        assert self.services is not None
        marked = await mark_noshows(self.services.uows, self.services.clock)
        if marked:
            log.info("%d bookings marked as no-shows", marked)
        return marked

    async def tend_waitlists(self) -> None:
        """候补: offers not taken in time pass on, free places go to whoever waits, lines
        close at their time (each change writes its notice, sent by the dispatcher)."""
        assert self.services is not None
        await tend_waitlists(self.services.uows, self.services.clock)

    async def pull_blacklist(
        self, fetch: ListFetcher, removal_share: float = REMOVAL_SHARE
    ) -> SyncReport:
        """The hospital's blacklist from its server (GUAHAO_BLACKLIST_URL). A failed pull is
        kept as a report (seen at /admin/blacklist), changes nothing, and is tried again next
        round; the log says the reason, never the URL or a number."""
        assert self.services is not None
        s = self.services
        report = await pull_blacklist(
            s.uows, s.clock, s.protector, fetch, actor=SCHEDULE,
            removal_share=removal_share,
        )  # fmt: skip
        if report.status is SyncStatus.APPLIED:
            log.info("blacklist pulled: %d added, %d updated, %d removed",
                     report.added, report.updated, report.removed)  # fmt: skip
        else:
            why = report.failure or f"{report.rejected} bad rows"
            log.warning("blacklist pull %s (%s)", report.status.value, why)
        return report

    async def purge_old_records(self, retention: Retention) -> Purged:
        """B8: log entries past their year, audit rows past theirs; the purge is audited."""
        assert self.services is not None
        return await purge_old_records(self.services.uows, self.services.clock, retention)

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

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Every message gets an answer: an unexpected failure is logged (never what the
        patient typed) and the patient is asked to try again."""
        assert self.engine is not None, "the bot has not started"
        try:
            return await self.engine.handle(inbound)
        except Exception:
            log.exception("could not handle a %s message", inbound.channel)
            return [Outbound(self._try_again(inbound))]

    def _try_again(self, inbound: Inbound) -> str:
        """Asks to try again in the patient's language. That is kept with the conversation,
        which may be what could not be read (the database down), so it is taken from the
        message or the channel; when neither tells it (a button pressed, an ID number typed),
        in both languages."""
        language = _language_of(inbound)
        languages = ("zh", "en") if language is None else (language,)
        return "\n".join(self.texts.say(each, "refusal.try_again") for each in languages)

    async def handle_gated(self, gate: FloodGate, inbound: Inbound) -> list[Outbound]:
        """`handle`, for a chat that may send only so many messages a minute."""
        if await gate.admit(inbound.channel, inbound.user_id, None) is not None:
            return [Outbound(self.texts.say("zh", "too_fast"))]
        return await self.handle(inbound)

    def now(self) -> datetime:
        assert self.services is not None
        return self.services.clock.now()


async def _screen_only(phone: str, text: str) -> None:
    """The SMS of development without a gateway: not sent, not logged; the dialogue shows the
    code in the chat."""


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


async def run_round(settings: Settings) -> tuple[int, int]:
    """One round of the background work at the settings' clock (`guahao demo forward`), on
    every configured channel, sending only."""
    bot = Bot()
    telegram = telegram_for(settings, bot)
    _, gateway = sms_for(settings, bot)
    await bot.start(settings, rounds=False)
    try:
        if telegram is not None:
            await telegram.start(receive=False)
        return await bot.one_round()
    finally:
        if telegram is not None:
            with suppress(Exception):
                await telegram.stop()
        if gateway is not None:
            await gateway.aclose()
        await bot.stop()


async def run_worker(settings: Settings) -> None:
    """`guahao worker`: reminders, notices and complaint rounds in a process of its own (as
    many as wanted: each notice is claimed by one), sending on every configured channel but
    taking no messages; until cancelled."""
    bot = Bot()
    telegram = telegram_for(settings, bot)
    _, gateway = sms_for(settings, bot)
    mail = mail_for(settings, bot)
    await bot.start(settings)
    try:
        if telegram is not None:
            await telegram.start(receive=False)
        await asyncio.Event().wait()
    finally:
        await bot.stop_background()
        if telegram is not None:
            with suppress(Exception):
                await telegram.stop()
        if gateway is not None:
            await gateway.aclose()
        if mail is not None:
            await mail.stop()
        await bot.stop()


def login_gate(per_address: str, storage: str) -> Callable[[str | None], Awaitable[int | None]]:
    """The back-office logins one network address may try (GUAHAO_ADMIN_LOGINS_PER_ADDRESS):
    the seconds to wait, or None."""
    gate = FloodGate(per_address, "1000000/minute", storage)

    async def wait(address: str | None) -> int | None:
        refused = await gate.admit("admin-login", address or "unknown", None)
        return None if refused is None else refused.retry_after

    return wait


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    bot = Bot()
    telegram = telegram_for(settings, bot)
    sms, gateway = sms_for(settings, bot)
    mail = mail_for(settings, bot)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bot.start(settings)
        try:
            if telegram is not None:
                await start_telegram(telegram, bot)
            if mail is not None:
                await mail.start()
            yield
        finally:
            try:
                await bot.stop_background()
                if telegram is not None:
                    with suppress(Exception):  # it may never have started
                        await telegram.stop()
                if sms is not None and gateway is not None:
                    await sms.stop()
                    await gateway.aclose()
                if mail is not None:
                    await mail.stop()
            finally:
                await bot.stop()

    docs = settings.api_docs_served
    app = FastAPI(
        title="guahao",
        summary="Hospital outpatient booking by chat (预约挂号)",
        lifespan=lifespan,
        max_body_size=LARGEST_BODY,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    guard_errors(app)
    app.add_middleware(ClientAddresses, proxies=settings.proxy_networks())
    gate = FloodGate(
        settings.webchat_per_chat, settings.webchat_per_address, settings.rate_limit_storage
    )
    # A page asks for notices every 15 s: its own count, generous for a lobby behind one address.
    polls = FloodGate(
        "60/minute", settings.webchat_notices_per_address, settings.rate_limit_storage
    )
    app.include_router(webchat_router(bot.handle, bot.now, gate, bot.collect_web, polls))
    app.include_router(
        backoffice.router(
            lambda: bot.services,
            passwords=backoffice.Argon2Passwords(),
            secure_cookies=settings.env == "production",
            limits=SessionLimits(
                idle=timedelta(minutes=settings.admin_idle_minutes),
                absolute=timedelta(hours=settings.admin_session_hours),
            ),
            prefix="/admin",
            login_gate=login_gate(settings.admin_logins_per_address, settings.rate_limit_storage),
            complaint_within=timedelta(hours=settings.complaint_hours),
        )
    )
    bad_tokens = bad_token_gate(settings.fhir_bad_tokens_per_address, settings.rate_limit_storage)
    app.include_router(fhir_router(lambda: bot.services, bad_tokens=bad_tokens))  # the HIS
    if telegram is not None:
        app.include_router(telegram.router())
    if sms is not None:
        app.include_router(sms.router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def server_config(app: FastAPI, host: str, port: int, log_level: str) -> uvicorn.Config:
    """How uvicorn serves the app: without its own reading of X-Forwarded-For (which believes
    anyone at 127.0.0.1; bot.addresses decides instead) and without access logs (search
    addresses carry what staff typed)."""
    import uvicorn

    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, proxy_headers=False, access_log=False
    )
