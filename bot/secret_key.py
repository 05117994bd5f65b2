"""Is GUAHAO_SECRET_KEY random enough for production? Every ID and phone number is encrypted
and hashed with keys derived from it: a guessable key (``0123456789abcdef…``, a word repeated,
a placeholder from an example) makes that protection worthless to whoever copies the database.

The estimate is deliberately simple: each character that could not be predicted from the ones
before it (a run, a step sequence such as ``abcd`` or ``00 01 02`` counting, a repeat of a piece
already seen, anywhere inside four characters seen before) counts for the bits of the alphabet
the key is drawn from. It does not know words; a key with spaces (a sentence, a passphrase) is
refused outright, but words joined some other way pass if they are long enough."""

from __future__ import annotations

import math
import string

MIN_BITS = 128  # what the estimate must find, after discounting patterns
MIN_CAPACITY = 256  # 32 bytes: what the key could hold, its length times its alphabet's bits
HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
# Placeholders people copy from examples and forget to change.
PLACEHOLDERS = ("changeme", "change-me", "change_me", "example", "placeholder", "secret")
_HEX = frozenset(string.hexdigits)
_URLSAFE = frozenset(string.ascii_letters + string.digits + "-_")
_B64 = frozenset(string.ascii_letters + string.digits + "+/=")


def alphabet_bits(key: str) -> float:
    """Bits per character of the smallest usual alphabet the key is written in."""
    chars = set(key)
    if chars <= set(string.digits):
        return math.log2(10)
    if chars <= _HEX and (chars.isdisjoint(string.ascii_uppercase) or chars.isdisjoint("abcdef")):
        return 4.0
    if chars <= _URLSAFE or chars <= _B64:
        return 6.0
    return math.log2(95)


def _predictable(key: str, i: int) -> bool:
    c = [ord(ch) for ch in key]
    for lag in (1, 2, 3, 4):  # a run or step sequence, also interleaved (hex counting: 000102…)
        if i >= 2 * lag and c[i] - c[i - lag] == c[i - lag] - c[i - 2 * lag]:
            return True
    # The three characters ending here were seen before: a repeated piece.
    if i >= 2 and key[i - 2 : i + 1] in key[:i]:
        return True
    # Inside four characters that were seen before (all four, so that a piece repeated over
    # and over counts once: ``Tr0ub4dor&3xQ!zKp9`` three times has the bits of one).
    return any(
        key[start : start + 4] in key[: start + 3]
        for start in range(max(i - 3, 0), i + 1)
        if start + 4 <= len(key)
    )


def estimated_bits(key: str) -> float:
    surprising = sum(1 for i in range(len(key)) if not _predictable(key, i))
    return surprising * alphabet_bits(key)


def weakness(key: str | None) -> str | None:
    """Why this key is refused in production, or None when it will do."""
    if not key:
        return "GUAHAO_SECRET_KEY must be set in production"
    lowered = key.lower()
    if any(word in lowered for word in PLACEHOLDERS):
        return "GUAHAO_SECRET_KEY looks like a placeholder from an example"
    if any(char.isspace() for char in key):
        return (
            "GUAHAO_SECRET_KEY contains spaces: a sentence or passphrase is not a key "
            "(words are guessable), use random characters"
        )
    capacity = len(key) * alphabet_bits(key)
    if capacity < MIN_CAPACITY:
        return (
            f"GUAHAO_SECRET_KEY is too short for production: {len(key)} characters of its kind "
            f"hold at most {int(capacity)} bits, {MIN_CAPACITY} (32 random bytes) are needed, "
            "e.g. 43 URL-safe characters or 64 hex digits"
        )
    if estimated_bits(key) < MIN_BITS:
        return (
            "GUAHAO_SECRET_KEY is guessable (repeated or sequential characters); "
            f"about {int(estimated_bits(key))} bits of randomness, {MIN_BITS} needed"
        )
    return None


def refusal(key: str | None) -> str | None:
    """The start-up error for a weak key in production, with how to make a good one."""
    why = weakness(key)
    if why is None:
        return None
    return f"{why}; make one with: {HOW_TO_MAKE_ONE}"
