"""``guahao chat``: the same dialogue in a terminal, choices as numbered lines (reply 2 to
pick the second). One patient per terminal; the conversation is kept like any other."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from bot.cli.common import configure_logging, load_settings
from bot.runtime.application import Application
from bot.runtime.build import build
from bot.runtime.lifecycle import running
from bot.runtime.services import migrate
from bot.settings import Settings
from channels.messages import Inbound, numbered


def chat(
    user: Annotated[str, typer.Option(help="Who you are to the bot (one conversation each).")] = (
        "terminal"
    ),
) -> None:
    """Talk to the booking bot in this terminal; an empty line or Ctrl-D ends."""
    settings = load_settings()
    configure_logging(settings)
    migrate(settings)
    asyncio.run(_talk(user, settings))


async def _talk(user: str, settings: Settings) -> None:
    async with running(await build(settings), receive=False) as bot:
        interactive = sys.stdin.isatty()
        for reply in await bot.handle(_inbound(bot, user, "/start")):
            typer.echo(numbered(reply) + "\n")
        while True:
            if interactive:
                typer.echo("> ", nl=False)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                break
            for reply in await bot.handle(_inbound(bot, user, line.strip())):
                typer.echo(numbered(reply) + "\n")


def _inbound(bot: Application, user: str, text: str) -> Inbound:
    return Inbound("console", user, bot.now(), text=text)
