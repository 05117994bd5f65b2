"""Normalising a message (with a map back to the patient's own offsets) and telling its language."""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import opencc

# Only the start of a very long message is analysed: nobody books in the 2,000th character, and
# the time per message must stay bounded. Emergency signs are still looked for in the whole text.
ANALYSED_CHARS = 1000

_DROPPED = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
# The one definition of a Chinese (Han) character, for every module that asks "is this Chinese":
# the unified ideographs, extension A and the compatibility ideographs.
HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN = re.compile(f"[{HAN_CHARS}]")
_LATIN_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class Normalised:
    """The text in one form for matching: NFKC (full-width digits and letters become ASCII),
    Latin letters lower-cased, traditional characters simplified (幫我掛號 -> 帮我挂号), control
    characters turned into spaces, zero-width marks dropped.
    `origin[i]` is the index in the original text of normalised character i."""

    text: str
    origin: tuple[int, ...]
    original_length: int
    cased: str = ""  # the same text before lower-casing: "Li Lei" is a name, "li" may not be
    # Where character i ends in the original, when it stands for several (后 read from "hou"):
    # `origin` is then where it starts. Empty when every character stands for one.
    ends: tuple[int, ...] = ()

    def head(self, length: int) -> "Normalised":
        """The first `length` normalised characters, with their map."""
        if len(self.text) <= length:
            return self
        return Normalised(
            self.text[:length],
            self.origin[:length],
            self.original_length,
            self.cased[:length],
            self.ends[:length],
        )

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's (start, end) for a non-empty span of the normalised text."""
        last = self.ends[end - 1] if self.ends else self.origin[end - 1]
        return self.origin[start], last + 1


def normalise(text: str) -> Normalised:
    if text.isascii():
        cleaned = "".join(" " if (ch < " " or ch == "\x7f") else ch for ch in text)
        return Normalised(cleaned.lower(), tuple(range(len(text))), len(text), cleaned)
    pieces: list[str] = []
    cased: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _DROPPED:
            continue
        category = unicodedata.category(char)
        if category[0] == "C" and category != "Co":  # control, format, unassigned, surrogate
            kept = folded = " "
        else:
            kept = unicodedata.normalize("NFKC", char)
            folded = kept.lower()
            if len(folded) != len(kept):
                kept = folded
        pieces.append(folded)
        cased.append(kept)
        origin.extend([index] * len(folded))
    folded = "".join(pieces)
    if HAN.search(folded):
        simplified = to_simplified(folded)
        if len(simplified) == len(folded):  # keep the offsets right; it nearly always is
            folded = simplified
    return Normalised(folded, tuple(origin), len(text), "".join(cased))


def to_simplified(text: str) -> str:
    """Traditional characters to simplified ones (OpenCC, a few microseconds a message)."""
    return _converter().convert(text) if HAN.search(text) else text


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def has_han(text: str) -> bool:
    """Whether the text has a Chinese character in it."""
    return HAN.search(text) is not None


def is_han(char: str) -> bool:
    """Whether one character is a Chinese character."""
    return HAN.fullmatch(char) is not None


def han_count(text: str) -> int:
    return len(HAN.findall(text))


def latin_words(text: str) -> int:
    return len(_LATIN_WORD.findall(text))


def detect_language(text: str, hint: str | None = None) -> str:
    """Chinese when the message has at least as many Han characters as English words
    ("帮我book明天的号" is Chinese, "can I book 心内科 tomorrow" English); the hint (the
    conversation's language) decides messages with neither, such as "1" or "👍"."""
    hans = han_count(text)
    words = latin_words(text)
    if hans and hans >= words:
        return "zh"
    if words:
        return "en"
    return hint if hint in ("zh", "en") else "zh"
