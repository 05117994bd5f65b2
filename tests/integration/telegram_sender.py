"""A process sending for the bot as `guahao worker` does (the Telegram channel, send only), for
tests that need several processes sharing one bot's limits.

    python -m tests.integration.telegram_sender BASE_URL --storage URI --bot NAME \\
        --chats 1001-1060

Prints "ready" once started, waits for a line on its standard input, then sends one message to
each chat, all at once, and prints "failed N": how many Telegram did not take in the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from channels.messages import Inbound, Outbound
from channels.telegram import Pacing, TelegramChannel
from tests.fakes.bot_api import TOKEN


async def nothing(_: Inbound) -> list[Outbound]:
    return []


async def send(base_url: str, storage: str, bot: str, chats: range) -> int:
    pacing = Pacing(storage=storage, bot=bot)
    channel = TelegramChannel(
        TOKEN, nothing, now=lambda: datetime.now(UTC), base_url=base_url, pacing=pacing
    )
    await channel.start(receive=False)
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        sent = await asyncio.gather(
            *(channel.send(str(chat), [Outbound(f"提醒 {chat}")]) for chat in chats),
            return_exceptions=True,
        )
    finally:
        await channel.stop()
    return sum(isinstance(outcome, Exception) for outcome in sent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--storage", default="async+memory://")
    parser.add_argument("--bot", default="")
    parser.add_argument("--chats", required=True, help="first-last, e.g. 1001-1060")
    args = parser.parse_args()
    first, last = (int(n) for n in args.chats.split("-"))
    failed = asyncio.run(send(args.base_url, args.storage, args.bot, range(first, last + 1)))
    print(f"failed {failed}", flush=True)


if __name__ == "__main__":
    main()
