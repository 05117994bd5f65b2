"""The application around the engine: start-up settings and housekeeping."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from booking.clock import FixedClock
from booking.protect import Protector
from booking.store import Database, upgrade
from bot.conversations import Conversation, Conversations
from bot.runtime.build import build
from bot.settings import Settings
from tests.support import SECRET

GUAHAO = str(Path(sys.executable).with_name("guahao"))


def test_a_malformed_rate_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GUAHAO_WEBCHAT_PER_CHAT": "lots",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    done = subprocess.run([GUAHAO, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: settings: GUAHAO_WEBCHAT_PER_CHAT: 'lots' is not a rate such as '30/minute'"
    ]


async def test_conversations_untouched_for_a_month_are_forgotten_when_the_bot_starts(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    protector = Protector(SECRET)
    long_ago = FixedClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    await Conversations(db, protector, long_ago).save("web", "old-chat", Conversation({"x": 1}))
    recent = FixedClock(long_ago.now() + timedelta(days=50))
    await Conversations(db, protector, recent).save("web", "new-chat", Conversation({"y": 2}))
    await db.dispose()

    bot = await build(
        Settings(
            DATABASE_URL=url,
            GUAHAO_SECRET_KEY=SECRET,
            GUAHAO_NOW=recent.now().isoformat(),
            GUAHAO_NLU_MODELS=tmp_path / "models",
            GUAHAO_CONVERSATION_DAYS=30,
        )  # type: ignore[call-arg]
    )
    bot.start_rounds()
    try:
        assert bot.conversations is not None
        for _ in range(100):  # the first round runs as the bot starts
            if await bot.conversations.load("web", "old-chat") == Conversation():
                break
            await asyncio.sleep(0.05)
        assert await bot.conversations.load("web", "old-chat") == Conversation()
        assert (await bot.conversations.load("web", "new-chat")).state == {"y": 2}
    finally:
        await bot.stop()
