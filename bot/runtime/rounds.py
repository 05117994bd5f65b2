"""The application's rounds: background work done again every so often while it serves. A
round that fails is logged (by the kind of error, never with a patient's data) and the next
one tries again: answering patients matters more than any round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, what: str, work: Callable[[], Awaitable[object]]) -> None:
    """Do ``work`` now and then every ``seconds``, until cancelled; ``what`` names it in
    the log ("could not send notices")."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("could not %s", what)
        await asyncio.sleep(seconds)
