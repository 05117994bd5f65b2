"""Production refuses a guessable GUAHAO_SECRET_KEY at start-up: the keys that encrypt and
hash every ID and phone number come from it."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from bot.settings import Settings

HOW = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
GUESSABLE = [
    "0123456789abcdef0123456789abcdef",  # 32 characters: what production took before
    "0123456789abcdef" * 4,  # as long as a real hex key
    "".join(f"{i:02x}" for i in range(32)),  # hex counting 000102…1f
    "a" * 64,
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "Hospital-2026!" * 4,
    "change-me-to-a-long-random-value-before-going-live-please",
    "my-example-key-Qm9vW2x8Lk3Jd7Hs5Fa1Zp0Rt6Yu4Ie8Wo2",
    secrets.token_hex(16),  # random, but 16 bytes of it
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


@pytest.mark.parametrize("key", [secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_keys_made_as_the_message_says_are_accepted(key: str) -> None:
    for _ in range(200):  # whatever the draw
        assert production(secrets.token_urlsafe(32)).secret_key
    assert production(key).secret_key == key


def test_development_keeps_taking_a_short_test_key() -> None:
    assert Settings(_env_file=None, GUAHAO_SECRET_KEY="0123456789abcdef")  # type: ignore[call-arg]
