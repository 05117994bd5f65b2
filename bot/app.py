"""The ASGI application: the web chat (and, as they come, the other channels) on one engine.

guahao serve --host 127.0.0.1 --port 8000       # or: uvicorn --factory bot.app:create_app
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from fastapi import FastAPI

from booking.search import load_catalogue
from bot.cli_runtime import read_catalogue
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.nlu_setup import build_nlu
from bot.settings import Settings
from bot.texts import Texts
from bot.wiring import Services, build
from channels.messages import Inbound, Outbound
from channels.webchat import webchat_router

log = logging.getLogger(__name__)


class Bot:
    """The dialogue engine behind every channel, built when the application starts."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.engine: DialogueEngine | None = None
        self.texts = Texts.load()

    async def start(self, settings: Settings) -> None:
        services = build(settings)
        catalogue = await load_catalogue(services.uows)
        if not catalogue.triage and settings.demo_file.exists():
            # The symptom hints and emergency signs are not kept in the database yet: they
            # come from the catalogue file the hospital was loaded from.
            catalogue = replace(catalogue, triage=read_catalogue(settings.demo_file).triage)
        self.services = services
        self.engine = DialogueEngine(
            nlu=build_nlu(settings, catalogue),
            conversations=Conversations(services.uows, services.protector, services.clock),
            texts=self.texts,
            uows=services.uows,
            clock=services.clock,
            protector=services.protector,
            triage=catalogue.triage,
        )

    async def stop(self) -> None:
        if self.services is not None:
            await self.services.close()

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
    app.include_router(webchat_router(bot.handle, bot.now))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
