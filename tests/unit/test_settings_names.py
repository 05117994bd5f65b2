"""Settings renamed so that a word has one meaning keep their older names readable: a hospital's
configuration written before the rename goes on working."""

from __future__ import annotations

from bot.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_back_office_login_lasts_twelve_hours_unless_told() -> None:
    assert settings().admin_login_hours == 12
    assert settings(GUAHAO_ADMIN_LOGIN_HOURS="8").admin_login_hours == 8


def test_the_older_name_of_the_login_hours_is_still_read() -> None:
    assert settings(GUAHAO_ADMIN_SESSION_HOURS="5").admin_login_hours == 5
