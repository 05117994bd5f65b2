"""One lifecycle for every process: `guahao serve` (the web app's lifespan), `guahao worker`,
one-off rounds (`guahao demo forward`) and `guahao chat` start and stop the application and its
channels the same way, in the same order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from bot.runtime.application import Application
from bot.runtime.build import NO_CHANNELS, build
from bot.runtime.channels import Channels, channels_for, start_telegram
from bot.runtime.front import Front
from bot.settings import Settings
from bot.texts import Texts


@asynccontextmanager
async def running(
    application: Application,
    channels: Channels = NO_CHANNELS,
    *,
    receive: bool = True,
    rounds: bool = True,
) -> AsyncIterator[Application]:
    """The application at work until the block ends, then stopped: background rounds first,
    then the channels, then the database. `receive`: the channels also take messages
    (`guahao serve`); without it they only send. `rounds`: the background work runs."""
    telegram = channels.telegram
    try:
        if rounds:
            application.start_rounds()
        if telegram is not None:
            if receive:
                await start_telegram(telegram, application)
            else:
                await telegram.start(receive=False)
        if receive and channels.mail is not None:
            await channels.mail.start()
        yield application
    finally:
        try:
            await application.stop_background()
            if telegram is not None:
                with suppress(Exception):  # it may never have started
                    await telegram.stop()
            if receive and channels.sms is not None:
                await channels.sms.stop()
            if channels.gateway is not None:
                await channels.gateway.aclose()
            if channels.mail is not None:
                await channels.mail.stop()
        finally:
            await application.close()


async def run_round(settings: Settings) -> tuple[int, int]:
    """One round of the background work at the settings' clock (`guahao demo forward`), on
    every configured channel but e-mail, sending only."""
    front, texts = Front(), Texts.load()
    channels = channels_for(settings, front, texts, mail=False)
    application = await build(settings, channels, texts=texts)
    front.attach(application)
    async with running(application, channels, receive=False, rounds=False):
        return await application.one_round()


async def run_worker(settings: Settings) -> None:
    """`guahao worker`: reminders, notices and complaint rounds in a process of its own (as
    many as wanted: each notice is claimed by one), sending on every configured channel but
    taking no messages; until cancelled."""
    front, texts = Front(), Texts.load()
    channels = channels_for(settings, front, texts)
    application = await build(settings, channels, texts=texts)
    front.attach(application)
    async with running(application, channels, receive=False):
        await asyncio.Event().wait()
