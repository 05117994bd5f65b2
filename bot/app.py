"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000       # or: uvicorn --factory bot.app:create_app
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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
        )

        self._housekeeping = asyncio.create_task(self._keep_house(settings.conversation_days))

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with suppress(asyncio.CancelledError):
                await self._housekeeping
        if self.services is not None:
            await self.services.close()

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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await bot.start(settings)
        try:
            yield
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

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
