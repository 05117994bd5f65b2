"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000       # or: uvicorn --factory bot.app:create_app
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta

from fastapi import FastAPI

from booking.search import load_catalogue
from bot.cli_runtime import read_catalogue
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.nlu_setup import build_nlu
from bot.settings import Settings
from bot.texts import Texts
from bot.wiring import Services, build
from channels.flood import FloodGate
from channels.messages import Inbound, Outbound
from channels.sms import SmsChannel, SmsGateway
from channels.telegram import TelegramChannel
from channels.webchat import webchat_router

log = logging.getLogger(__name__)


class Bot:
    """The dialogue engine behind every channel, built when the application starts."""

    HOUSEKEEPING_EVERY = 3600.0  # seconds

    def __init__(self) -> None:
        self.services: Services | None = None
        self.engine: DialogueEngine | None = None
        self.conversations: Conversations | None = None
        self.texts = Texts.load()
        # How to reach a user outside a conversation, by channel: (user id, messages).
        self.senders: dict[str, Callable[[str, list[Outbound]], Awaitable[None]]] = {}
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self, settings: Settings) -> None:
        services = build(settings)
        catalogue = await load_catalogue(services.uows)
        if not catalogue.triage and settings.demo_file.exists():
            # The symptom hints and emergency signs are not kept in the database yet: they
            # come from the catalogue file the hospital was loaded from.
            catalogue = replace(catalogue, triage=read_catalogue(settings.demo_file).triage)
        self.services = services
        self.conversations = Conversations(services.uows, services.protector, services.clock)
        self.engine = DialogueEngine(
            nlu=build_nlu(settings, catalogue),
            conversations=self.conversations,
            texts=self.texts,
            uows=services.uows,
            clock=services.clock,
            protector=services.protector,
            triage=catalogue.triage,
            texting=self._text if "sms" in self.senders else None,
        )

        self._housekeeping = asyncio.create_task(self._keep_house(settings.conversation_days))

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with suppress(asyncio.CancelledError):
                await self._housekeeping
        if self.services is not None:
            await self.services.close()

    async def _text(self, phone: str, text: str) -> None:
        await self.senders["sms"](phone, [Outbound(text)])

    async def forget_old_conversations(self, days: int) -> int:
        """Conversations untouched, and answered messages kept, for `days`: what a patient
        typed is not kept longer than a conversation needs it."""
        assert self.services is not None and self.conversations is not None
        before = self.services.clock.now() - timedelta(days=days)
        return await self.conversations.purge(before)

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
            return [Outbound(self.texts.say("zh", "refusal.try_again"))]

    def now(self) -> datetime:
        assert self.services is not None
        return self.services.clock.now()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    bot = Bot()
    telegram = _telegram(settings, bot)
    sms, gateway = _sms(settings, bot)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bot.start(settings)
        try:
            if telegram is not None:
                await telegram.start()
            yield
        finally:
            try:
                if telegram is not None:
                    await telegram.stop()
                if sms is not None and gateway is not None:
                    await sms.stop()
                    await gateway.aclose()
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
    app.include_router(webchat_router(bot.handle, bot.now, gate))
    if telegram is not None:
        app.include_router(telegram.router())
    if sms is not None:
        app.include_router(sms.router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _telegram(settings: Settings, bot: Bot) -> TelegramChannel | None:
    """The Telegram bot, when a token is configured: long polling, or the webhook."""
    if settings.telegram_bot_token is None:
        return None
    channel = TelegramChannel(
        settings.telegram_bot_token,
        bot.handle,
        now=bot.now,
        base_url=settings.telegram_api_base_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
    )
    bot.senders["telegram"] = channel.send
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
