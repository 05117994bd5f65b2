"""How long one notice's send may take (GUAHAO_NOTICE_SEND_SECONDS), by channel."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_lane_has_thirty_seconds_unless_told() -> None:
    assert settings().notice_deadlines() == (30.0, {})
    assert settings(GUAHAO_NOTICE_SEND_SECONDS="20").notice_deadlines() == (20.0, {})


def test_a_lane_can_have_its_own_deadline() -> None:
    chosen = settings(GUAHAO_NOTICE_SEND_SECONDS="20, sms = 45,telegram=7.5")
    assert chosen.notice_deadlines() == (20.0, {"sms": 45.0, "telegram": 7.5})
    assert settings(GUAHAO_NOTICE_SEND_SECONDS="sms=45").notice_deadlines() == (30.0, {"sms": 45})


@pytest.mark.parametrize("wrong", ["", "fast", "sms=", "sms=0", "0", "sms:45", "20;sms=45", "9999"])
def test_a_deadline_that_is_not_one_is_refused_with_the_settings_name(wrong: str) -> None:
    with pytest.raises(ValidationError, match="GUAHAO_NOTICE_SEND_SECONDS"):
        settings(GUAHAO_NOTICE_SEND_SECONDS=wrong)


def test_a_lane_that_does_not_exist_is_refused_not_ignored() -> None:
    with pytest.raises(ValidationError, match="no lane smss; the lanes: telegram, sms, web, ops"):
        settings(GUAHAO_NOTICE_SEND_SECONDS="30,smss=45")


@pytest.mark.parametrize("deadlines", ["120", "30,sms=300"])
def test_a_claim_is_held_longer_than_any_send_may_take(deadlines: str) -> None:
    # Otherwise the claim runs out mid-send, and another dispatcher sends the notice again.
    with pytest.raises(ValidationError, match="GUAHAO_NOTICE_HOLD_SECONDS must be longer"):
        settings(GUAHAO_NOTICE_SEND_SECONDS=deadlines)
    chosen = settings(GUAHAO_NOTICE_SEND_SECONDS=deadlines, GUAHAO_NOTICE_HOLD_SECONDS=600)
    every, by_lane = chosen.notice_deadlines()
    assert max([every, *by_lane.values()]) < 600
