"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000       # or: uvicorn --factory bot.app:create_app
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
from typing import Any

from fastapi import FastAPI

import backoffice
from booking.attendance import mark_noshows
from booking.search import load_catalogue
from booking.staff import SessionLimits
from booking.waitlist import tend_waitlists
from bot.cli_runtime import read_catalogue
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.mail import handle_mail
from bot.nlu_setup import build_nlu
from bot.notices import NoticeDispatcher
from bot.settings import Settings
from bot.staff import StaffDesk, StaffRooms
from bot.texts import Texts
from bot.wiring import Services, build
from channels.email import Mail, MailDesk, MailReply
from channels.flood import FloodGate
from channels.messages import Inbound, Outbound
from channels.sms import SmsChannel, SmsGateway
from channels.telegram import Pacing, StaffCommand, StaffPress, TelegramChannel
from channels.webchat import webchat_router

log = logging.getLogger(__name__)


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

    def __init__(self) -> None:
        self.services: Services | None = None
        self.engine: DialogueEngine | None = None
        self.conversations: Conversations | None = None
        self.texts = Texts.load()
        # How to reach a user outside a conversation, by channel: (user id, messages).
        self.senders: dict[str, Callable[[str, list[Outbound]], Awaitable[None]]] = {}
        self._housekeeping: asyncio.Task[None] | None = None
        self.staff: StaffDesk | None = None
        self.rooms: StaffRooms | None = None  # set when a staff group is configured
        self._staff_rounds: asyncio.Task[None] | None = None
        self._dispatching: asyncio.Task[None] | None = None
        self._attendance: asyncio.Task[None] | None = None
        self._waitlists: asyncio.Task[None] | None = None
        self.notices: NoticeDispatcher | None = None
        self.complaint_within = timedelta(hours=24)
        self._background: set[asyncio.Task[None]] = set()

    async def start(self, settings: Settings, *, rounds: bool = True) -> None:
        """`rounds`: also start the background work (notices, complaints, no-shows,
        housekeeping); without it, one round is run by `one_round`."""
        services = build(settings)
        self.complaint_within = timedelta(hours=settings.complaint_hours)
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
        self.engine = DialogueEngine(
            nlu=build_nlu(settings, catalogue),
            conversations=self.conversations,
            texts=self.texts,
            uows=services.uows,
            clock=services.clock,
            protector=services.protector,
            triage=catalogue.triage,
            texting=self._text if "sms" in self.senders else None,
            complaint_filed=self.complaint_filed,
            complaint_within=self.complaint_within,
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
        self.notices = NoticeDispatcher(
            services.uows,
            services.protector,
            services.clock,
            self.texts,
            self.senders,
            self.conversations,
            alert=self.staff.alert if self.staff is not None else None,
            hold=timedelta(seconds=settings.notice_hold_seconds),
        )
        if not rounds:
            return
        if self.staff is not None:
            self._staff_rounds = asyncio.create_task(self._watch_complaints(self.staff))
        self._dispatching = asyncio.create_task(self._dispatch(self.notices))
        self._attendance = asyncio.create_task(self._mark_noshows())
        self._waitlists = asyncio.create_task(self._tend_waitlists())
        self._housekeeping = asyncio.create_task(self._keep_house(settings.conversation_days))

    async def one_round(self) -> tuple[int, int]:
        """What the background does, once, now: (no-shows marked, notices sent)."""
        assert self.services is not None and self.notices is not None
        marked = await mark_noshows(self.services.uows, self.services.clock)
        await tend_waitlists(self.services.uows, self.services.clock)
        if self.staff is not None:
            await self.staff.send_pending()
            await self.staff.escalate_overdue()
        return marked, await self.notices.run_once()

    async def stop_background(self) -> None:
        """Stop what runs in the background (first, before the channels close)."""
        rounds = (
            self._housekeeping,
            self._staff_rounds,
            self._dispatching,
            self._attendance,
            self._waitlists,
        )
        for task in (*rounds, *self._background):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

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

    async def _watch_complaints(self, staff: StaffDesk) -> None:
        """Complaints filed in conversations reach the staff group, answers not yet delivered
        are tried again, and those nobody accepted in time go one level up."""
        while True:
            try:
                await staff.send_pending()
                await staff.escalate_overdue()
            except Exception:
                log.exception("could not look after complaints")
            await asyncio.sleep(self.COMPLAINT_ROUNDS_EVERY)

    async def _dispatch(self, notices: NoticeDispatcher) -> None:
        """Reminders and change notices as they fall due (within a second or two)."""
        while True:
            try:
                await notices.run_once()
            except Exception:
                log.exception("could not send notices")
            await asyncio.sleep(self.NOTICE_ROUNDS_EVERY)

    async def _mark_noshows(self) -> None:
        """Bookings nobody checked in for, an hour after their session: no-shows, and the
        bans that follow, told to the patient."""
        assert self.services is not None
        while True:
            try:
                marked = await mark_noshows(self.services.uows, self.services.clock)
                if marked:
                    log.info("%d bookings marked as no-shows", marked)
            except Exception:
                log.exception("could not mark no-shows")
            await asyncio.sleep(self.NOSHOW_ROUNDS_EVERY)

    async def _tend_waitlists(self) -> None:
        """候补: offers not taken in time pass on, free places go to whoever waits, lines
        close at their time (each change writes its notice, sent by the dispatcher)."""
        assert self.services is not None
        while True:
            try:
                await tend_waitlists(self.services.uows, self.services.clock)
            except Exception:
                log.exception("could not tend the waitlists")
            await asyncio.sleep(self.WAITLIST_ROUNDS_EVERY)

    async def _keep_house(self, days: int) -> None:
        while True:
            try:
                forgotten = await self.forget_old_conversations(days)
                if forgotten:
                    log.info("forgot %d conversations and answered messages", forgotten)
            except Exception:  # the next round tries again; answering patients matters more
                log.exception("could not forget old conversations")
            await asyncio.sleep(self.HOUSEKEEPING_EVERY)

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


_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _language_of(inbound: Inbound) -> str | None:
    """The patient's language as one message tells it: Chinese characters, English words
    (not a command, which is the same in both), or the language the channel reports."""
    text = inbound.text or ""
    if _HAN.search(text):
        return "zh"
    if not text.startswith("/") and _LATIN_WORD.search(text):
        return "en"
    hint = (inbound.language_hint or "").lower()
    return next((language for language in ("zh", "en") if hint.startswith(language)), None)


async def run_round(settings: Settings) -> tuple[int, int]:
    """One round of the background work at the settings' clock (`guahao demo forward`), on
    every configured channel, sending only."""
    bot = Bot()
    telegram = _telegram(settings, bot)
    _, gateway = _sms(settings, bot)
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
    telegram = _telegram(settings, bot)
    _, gateway = _sms(settings, bot)
    mail = _mail(settings, bot)
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
    telegram = _telegram(settings, bot)
    sms, gateway = _sms(settings, bot)
    mail = _mail(settings, bot)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bot.start(settings)
        try:
            if telegram is not None:
                await _start_telegram(telegram, bot)
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

    app = FastAPI(
        title="guahao",
        summary="Hospital outpatient booking by chat (预约挂号)",
        lifespan=lifespan,
    )
    gate = FloodGate(
        settings.webchat_per_chat, settings.webchat_per_address, settings.rate_limit_storage
    )
    app.include_router(webchat_router(bot.handle, bot.now, gate, bot.collect_web))
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
        )
    )
    if telegram is not None:
        app.include_router(telegram.router())
    if sms is not None:
        app.include_router(sms.router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _start_telegram(channel: TelegramChannel, bot: Bot) -> None:
    """Telegram cannot be reached from every hospital network: when it fails at start, the
    web chat, SMS and e-mail serve all the same while it is tried again in the background."""
    try:
        await channel.start()
        return
    except Exception as error:
        log.warning("Telegram did not start (%s): trying again", type(error).__name__)

    async def again() -> None:
        delay = 5.0
        while True:
            await asyncio.sleep(delay)
            try:
                await channel.start()
            except Exception as error:
                delay = min(delay * 2, 300.0)
                log.warning("Telegram did not start (%s): next try in %.0f s",
                            type(error).__name__, delay)  # fmt: skip
            else:
                log.info("Telegram started")
                return

    bot.in_background(again())


def _telegram(settings: Settings, bot: Bot) -> TelegramChannel | None:
    """The Telegram bot, when a token is configured: long polling, or the webhook. With a
    staff group, complaints go there too (bot.staff)."""
    if settings.telegram_bot_token is None:
        return None
    gate = FloodGate(settings.webchat_per_chat, "100000/minute", settings.rate_limit_storage)
    # Telegram's limits are the bot's: every process with this token counts in one storage.
    bot_id = settings.telegram_bot_token.split(":", 1)[0]
    channel = TelegramChannel(
        settings.telegram_bot_token,
        partial(bot.handle_gated, gate),
        now=bot.now,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        on_staff=bot.staff_press,
        on_staff_command=bot.staff_command,
        pacing=Pacing(storage=settings.rate_limit_storage, bot=bot_id),
    )
    bot.senders["telegram"] = channel.send
    if settings.telegram_staff_chat_id is not None:
        bot.rooms = StaffRooms(
            default_chat=settings.telegram_staff_chat_id,
            department_chats=settings.department_chats(),
            office_chat=settings.telegram_staff_chat_id,
            management_chat=settings.telegram_ops_chat_id,
            staff_ids=settings.staff_user_ids(),
            deadline=timedelta(hours=settings.complaint_hours),
        )
    return channel


def _sms(settings: Settings, bot: Bot) -> tuple[SmsChannel | None, SmsGateway | None]:
    """Text messages through a Twilio-style gateway, when one is configured."""
    if not settings.sms_enabled:
        return None, None
    assert settings.sms_gateway_url and settings.sms_account_sid  # all four, or none
    assert settings.sms_auth_token and settings.sms_from
    gateway = SmsGateway(
        settings.sms_gateway_url,
        settings.sms_account_sid,
        settings.sms_auth_token,
        settings.sms_from,
    )
    # Every message comes from the gateway's address: only the per-sender limit means much.
    gate = FloodGate(settings.webchat_per_chat, "100000/minute", settings.rate_limit_storage)
    channel = SmsChannel(
        bot.handle,
        gateway,
        auth_token=settings.sms_auth_token,
        now=bot.now,
        public_url=settings.sms_webhook_url,
        gate=gate,
    )
    bot.senders["sms"] = channel.send
    return channel, gateway


def _mail(settings: Settings, bot: Bot) -> MailDesk | None:
    """Complaints and suggestions by e-mail (seed §4.2), when a port to listen on is set."""
    if settings.mail_listen_port is None:
        return None
    assert settings.mail_from and settings.smtp_host  # checked with the settings
    desk = MailDesk(
        bot.handle_mail,
        # Anyone can write From: someone-else: a sender's mails are few, or not answered.
        gate=FloodGate("10/hour", "1000/hour", settings.rate_limit_storage),
        host=settings.mail_listen_host,
        port=settings.mail_listen_port,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        from_address=settings.mail_from,
        smtp_user=settings.smtp_user,
        smtp_password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        now=bot.now,
    )

    async def by_mail(address: str, messages: list[Outbound]) -> None:
        subject = bot.texts.say("zh", "mail.subject")
        await desk.send(address, subject, "\n\n".join(m.text for m in messages))

    bot.senders["email"] = by_mail
    return desk
