"""A real uvicorn server of the application on 127.0.0.1, with the demo hospital on SQLite."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database, upgrade
from bot.app import create_app, server_config
from bot.runtime.services import make_clock
from bot.settings import Settings
from tests.support import SECRET, demo_catalogue

MONDAY_MORNING = "2026-11-23T09:00:00+08:00"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(folder: Path, **settings_: str) -> Iterator[str]:
    """The base URL of a fresh server; stopped on exit. `settings_`: more environment
    settings, e.g. GUAHAO_WEBCHAT_PER_CHAT="5/minute"; "{base}" in one stands for the server's
    own base URL (a webhook's address)."""
    url = f"sqlite+aiosqlite:///{folder / 'web.sqlite3'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        DATABASE_URL=url,
        GUAHAO_SECRET_KEY=SECRET,
        GUAHAO_NOW=MONDAY_MORNING,
        GUAHAO_NLU_MODELS=folder / "models",
        **{name: value.replace("{base}", base) for name, value in settings_.items()},
    )
    upgrade(url)

    async def load() -> None:
        db = Database(url)
        await import_catalogue(db, demo_catalogue())
        await generate_sessions(db, make_clock(settings))
        await db.dispose()

    asyncio.run(load())
    config = server_config(create_app(settings), "127.0.0.1", port, "error")  # as guahao serve
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not web.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web chat did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        web.should_exit = True
        thread.join(10)
