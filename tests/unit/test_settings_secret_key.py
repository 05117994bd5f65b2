"""Production refuses a guessable GUAHAO_SECRET_KEY at start-up: the keys that encrypt and
hash every ID and phone number come from it."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from bot.secret_key import refusal, weakness
from bot.settings import Settings

HOW = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
# By a name of its own: a random draw in a test's id would differ between pytest-xdist's workers.
GUESSABLE = [
    pytest.param(key, id=name)
    for name, key in [
        ("32-characters", "0123456789abcdef0123456789abcdef"),  # what production took before
        ("hex-repeated", "0123456789abcdef" * 4),  # as long as a real hex key
        ("hex-counting", "".join(f"{i:02x}" for i in range(32))),  # 000102…1f
        ("one-letter", "a" * 64),
        ("alphabet", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
        ("word-repeated", "Hospital-2026!" * 4),
        ("change-me", "change-me-to-a-long-random-value-before-going-live-please"),
        ("example", "my-example-key-Qm9vW2x8Lk3Jd7Hs5Fa1Zp0Rt6Yu4Ie8Wo2"),
        ("random-16-bytes", secrets.token_hex(16)),  # random, but 16 bytes of it
        ("random-18-repeated-3", "Tr0ub4dor&3xQ!zKp9" * 3),  # 18 characters, repeated
        ("random-18-repeated-4", "Tr0ub4dor&3xQ!zKp9" * 4),
        ("random-96-bits-repeated", secrets.token_urlsafe(12) * 4),  # 96 random bits, 4 times
        ("sentence", "the quick brown fox jumps over the lazy dog 12345"),  # not a key
        ("passphrase-and-key", "correct horse battery staple " + secrets.token_urlsafe(32)),
        ("ideographic-space", secrets.token_urlsafe(32) + "\u3000"),
    ]
]


def production(key: str | None) -> Settings:
    return Settings(_env_file=None, GUAHAO_ENV="production", GUAHAO_SECRET_KEY=key)  # type: ignore[call-arg]


@pytest.mark.parametrize("key", GUESSABLE)
def test_a_guessable_key_is_refused_in_production_naming_the_setting_and_the_remedy(
    key: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        production(key)
    message = " ".join(str(e["msg"]) for e in refused.value.errors())
    assert "GUAHAO_SECRET_KEY" in message
    assert HOW in message
    assert key not in message  # the key itself is never printed


@pytest.mark.parametrize(
    "key", [secrets.token_urlsafe(32), secrets.token_hex(32)], ids=["token_urlsafe", "token_hex"]
)
def test_keys_made_as_the_message_says_are_accepted(key: str) -> None:
    assert production(key).secret_key == key


@pytest.mark.parametrize("make", [secrets.token_urlsafe, secrets.token_hex])
def test_random_keys_are_never_refused_whatever_the_draw(make: Callable[[int], str]) -> None:
    # 10,000 of each were checked when the repetition rule was added; none came near the limit.
    refused = [weakness(key) for key in (make(32) for _ in range(2000))]
    assert refused == [None] * 2000


def test_a_passphrase_is_refused_with_how_to_make_a_key() -> None:
    why = refusal("the quick brown fox jumps over the lazy dog 12345")
    assert why is not None
    assert "passphrase is not a key" in why
    assert HOW in why


def test_development_keeps_taking_a_short_test_key() -> None:
    assert Settings(_env_file=None, GUAHAO_SECRET_KEY="0123456789abcdef")  # type: ignore[call-arg]
