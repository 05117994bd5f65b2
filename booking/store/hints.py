"""Sessions found full moments ago, so that a crowd on a full session is turned away without
waiting for the database. A hint is trusted for a short time only: that bounds how long a
place freed by another process can go unseen."""

from __future__ import annotations

import time
from collections.abc import Iterable

TRUST_SECONDS = 2.0


class SoldOutHints:
    def __init__(self, trust_seconds: float = TRUST_SECONDS) -> None:
        self._trust = trust_seconds
        self._until: dict[int, float] = {}

    def mark(self, session_id: int) -> None:
        self._until[session_id] = time.monotonic() + self._trust

    def is_sold_out(self, session_id: int) -> bool:
        until = self._until.get(session_id)
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[session_id]
            return False
        return True

    def forget(self, session_ids: Iterable[int]) -> None:
        for session_id in session_ids:
            self._until.pop(session_id, None)
