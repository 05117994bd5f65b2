"""A search carried in the address without what was typed: the form is posted (with its CSRF
token), and the page it leads to is named by a sealed token (`?s=`) that only this member of
staff can open, for SEARCH_TTL. ID and phone numbers (and names) so stay out of proxy and
server logs, browser history and bookmarks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from booking.protect import Protector

SEARCH_TTL = timedelta(hours=1)
MAX_TOKEN = 1024
EXPIRED = "该查找已过期，请重新查找。This search has expired: search again."


def sealed(protector: Protector, now: datetime, staff_id: int, fields: dict[str, str]) -> str:
    return protector.seal(json.dumps({"by": staff_id, "fields": fields}), now)


def opened(protector: Protector, now: datetime, staff_id: int, token: str) -> dict[str, str] | None:
    """The search's fields, or None when the token is not this staff member's or too old."""
    if not token or len(token) > MAX_TOKEN:
        return None
    value = protector.unseal(token, now, SEARCH_TTL)
    if value is None:
        return None
    found = json.loads(value)
    if found.get("by") != staff_id:
        return None
    return {str(k): str(v) for k, v in found.get("fields", {}).items()}
