"""Where one-time codes go without an SMS gateway: shown in the chat in development only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings

KEY = "5p9B_6bXvq5LzVKH6GWduqg_CeVwjhRcIOCmaZh33qo"  # random, as production needs
GATEWAY = {
    "SMS_GATEWAY_URL": "https://sms.example.org",
    "SMS_ACCOUNT_SID": "AC12345678",
    "SMS_AUTH_TOKEN": "a-token-of-sixteen-chars",
    "SMS_FROM": "+8610086",
}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_development_without_a_gateway_shows_the_codes_so_that_make_run_can_register() -> None:
    assert settings().codes_on_screen
    assert not settings(GUAHAO_SHOW_CODES=False).codes_on_screen


def test_a_gateway_always_texts_them() -> None:
    assert not settings(**GATEWAY).codes_on_screen
    assert not settings(GUAHAO_SHOW_CODES=True, **GATEWAY).codes_on_screen


def test_production_never_shows_them_and_refuses_to_be_asked() -> None:
    assert not settings(GUAHAO_ENV="production", GUAHAO_SECRET_KEY=KEY).codes_on_screen
    with pytest.raises(ValidationError, match="GUAHAO_SHOW_CODES"):
        settings(GUAHAO_ENV="production", GUAHAO_SECRET_KEY=KEY, GUAHAO_SHOW_CODES=True)
