"""How neutral messages look on Telegram: texts cut to Telegram's length, choices as inline
buttons whose data fits Telegram's 64 bytes, and the patient's language from Telegram's code."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.messages import Choice

# Telegram counts a message's length in UTF-16 code units.
MAX_MESSAGE = 4096
MAX_CALLBACK_DATA = 64  # bytes
# What a button whose token this process does not know (any more) comes back as: a key no
# dialogue offers, so the dialogue answers that the choice has expired.
EXPIRED = "expired"
_STAND_IN = "~"  # no dialogue key starts so


def language_of(code: str | None) -> str | None:
    """The dialogue's language for a Telegram language code: "zh-hans" -> "zh", "en-US" -> "en"."""
    primary = (code or "").split("-")[0].lower()
    return primary if primary in ("zh", "en") else None


def _units(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def pieces(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The text in messages Telegram accepts: cut at line breaks, and a line longer than a
    message between characters (never inside a surrogate pair: Python cuts code points)."""
    if _units(text) <= limit:
        return [text] if text.strip() else []
    found: list[str] = []
    current: list[str] = []
    size = 0
    for line in _short_lines(text, limit):
        length = _units(line)
        if size + length > limit:
            found.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += length
    found.append("".join(current))
    return [piece.rstrip("\n") for piece in found if piece.strip()]


def _short_lines(text: str, limit: int) -> Iterable[str]:
    for line in text.splitlines(keepends=True):
        while _units(line) > limit:
            end = _fitting(line, limit)
            yield line[:end]
            line = line[end:]
        yield line


def _fitting(line: str, limit: int) -> int:
    """How many characters of the line fit in `limit` code units."""
    size = 0
    for end, char in enumerate(line):
        size += _units(char)
        if size > limit:
            return end
    return len(line)


class CallbackKeys:
    """Button data for choice keys. A key longer than Telegram carries travels as a random
    token remembered here (the most recent `capacity` of them). Tokens are random so that a
    button from before a restart can never stand for another choice after it."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[str, str] = OrderedDict()  # token -> key
        self._tokens: dict[str, str] = {}  # key -> token

    def data_for(self, key: str) -> str:
        if len(key.encode()) <= MAX_CALLBACK_DATA and not key.startswith(_STAND_IN):
            return key
        token = self._tokens.get(key)
        if token is None:
            token = _STAND_IN + secrets.token_urlsafe(12)
            self._tokens[key] = token
            if len(self._keys) >= self._capacity:
                _, forgotten = self._keys.popitem(last=False)
                self._tokens.pop(forgotten, None)
        self._keys[token] = key
        self._keys.move_to_end(token)
        return token

    def key_for(self, data: str) -> str:
        if not data.startswith(_STAND_IN):
            return data
        return self._keys.get(data, EXPIRED)

    def keyboard(self, choices: Iterable[Choice]) -> InlineKeyboardMarkup | None:
        """One button a row: labels are whole doctor names and times, too long side by side."""
        rows = [
            [InlineKeyboardButton(choice.label, callback_data=self.data_for(choice.key))]
            for choice in choices
        ]
        return InlineKeyboardMarkup(rows) if rows else None
