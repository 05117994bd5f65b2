"""What a reply looks like as SMS: plain text, choices as numbered lines, and each SMS within
one segment, so that no phone shows half a message or a broken character.

A segment holds 160 GSM-7 characters (the extension characters such as [ ] { } € take two), or
70 UCS-2 units as soon as one character is outside GSM-7 (any Chinese character; an emoji takes
two units). A reply longer than that is sent as several SMS, cut at line breaks where possible,
each starting with its place, "(1/3) ", so the patient knows more is coming and in what order.
"""

from __future__ import annotations

from channels.messages import Outbound, numbered

GSM7_SEGMENT = 160
UCS2_SEGMENT = 70
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as an escape character and then the character itself.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# Where a line too long for one SMS is best cut: after these, rather than mid-word.
_BREAKS = frozenset(" ，。；、,.;")


def segment_cost(text: str) -> tuple[int, int]:
    """How much of a segment `text` takes, and how much the segment holds."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        return len(text) + sum(char in _GSM7_EXTENSION for char in text), GSM7_SEGMENT
    # UTF-16 code units: characters beyond the Basic Multilingual Plane take two.
    return len(text.encode("utf-16-le")) // 2, UCS2_SEGMENT


def fits_one_sms(text: str) -> bool:
    used, room = segment_cost(text)
    return used <= room


def sms_texts(message: Outbound) -> list[str]:
    """The SMS that carry one reply: its text with the choices as numbered lines."""
    return sms_parts(numbered(message))


def sms_parts(text: str) -> list[str]:
    """`text` as one SMS, or as several "(i/n) " SMS of one segment each."""
    text = text.strip()
    if not text:
        return []
    if fits_one_sms(text):
        return [text]
    digits = 1
    while True:
        # Room for the widest place mark, "(99/99) ", whatever the part's own number.
        mark = f"({'9' * digits}/{'9' * digits}) "
        parts = _pack(text, mark)
        if len(str(len(parts))) <= digits:
            return [f"({n}/{len(parts)}) {part}" for n, part in enumerate(parts, 1)]
        digits += 1


def _pack(text: str, mark: str) -> list[str]:
    """Whole lines together while they fit after `mark`; a line too long is cut."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        joined = f"{current}\n{line}" if current else line
        if fits_one_sms(mark + joined):
            current = joined
            continue
        if current:
            parts.append(current)
        current = ""
        while line and not fits_one_sms(mark + line):
            head, line = _cut(line, mark)
            parts.append(head)
        current = line
    if current.strip():
        parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def _cut(line: str, mark: str) -> tuple[str, str]:
    """The longest start of `line` that fits after `mark` (cut after a space or a punctuation
    mark when one is near the end), and the rest. Python strings are code points, so an emoji
    is never cut in half."""
    low, high = 1, len(line)  # `line` does not fit; its first character always does
    while low < high:
        middle = (low + high + 1) // 2
        if fits_one_sms(mark + line[:middle]):
            low = middle
        else:
            high = middle - 1
    end = low
    for at in range(end, max(end * 2 // 3, 1), -1):
        if line[at - 1] in _BREAKS:
            end = at
            break
    return line[:end].rstrip(), line[end:].lstrip(" ")
