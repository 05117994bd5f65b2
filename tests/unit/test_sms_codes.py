"""The limits on one-time SMS codes, as a rule on the codes already sent (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.errors import CodeTooSoon, TooManyCodes
from booking.patients.model import PendingCode
from booking.patients.sms_codes import (
    GAP,
    PER_ACCOUNT_DAY,
    PER_ACCOUNT_HOUR,
    PER_PHONE_DAY,
    PER_PHONE_HOUR,
    TRIES,
    VALID_FOR,
    WRONG_PER_PHONE_DAY,
    check_limits,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def sent(ago: timedelta, *, tries: int = 0, spent: bool = False, account: int = 1) -> PendingCode:
    at = NOW - ago
    return PendingCode(
        account_id=account, phone_hash="p", code_hash="h",
        expires_at=at if spent else at + VALID_FOR, tries=tries, sent_at=at,
    )  # fmt: skip


def test_a_first_code_goes() -> None:
    check_limits([], [], NOW)


def test_send_again_waits_a_minute_while_the_code_sent_still_works() -> None:
    with pytest.raises(CodeTooSoon):
        check_limits([sent(timedelta(seconds=30))], [], NOW)
    check_limits([sent(GAP)], [], NOW)


def test_a_code_used_or_mistyped_five_times_does_not_hold_the_next_one_back() -> None:
    # A parent registering a second child on the same phone right after the first.
    check_limits([sent(timedelta(seconds=20), spent=True)], [], NOW)
    check_limits([sent(timedelta(seconds=20), tries=TRIES)], [], NOW)


def test_a_phone_gets_at_most_so_many_an_hour_and_a_day_whoever_asks() -> None:
    hour = [sent(timedelta(minutes=2 + n), account=n) for n in range(PER_PHONE_HOUR)]
    with pytest.raises(TooManyCodes):
        check_limits(hour, [], NOW)
    check_limits(hour[:-1], [], NOW)
    day = [sent(timedelta(hours=2 + n), account=n) for n in range(PER_PHONE_DAY)]
    with pytest.raises(TooManyCodes):
        check_limits(day, [], NOW)
    check_limits([sent(timedelta(hours=25)) for _ in range(PER_PHONE_DAY)], [], NOW)


def test_wrong_guesses_at_one_phone_are_limited_by_the_day() -> None:
    guessed = [
        sent(timedelta(hours=3 + n), tries=TRIES) for n in range(WRONG_PER_PHONE_DAY // TRIES)
    ]
    with pytest.raises(TooManyCodes):
        check_limits(guessed, [], NOW)


def test_an_account_cannot_spray_codes_at_many_phones() -> None:
    hour = [sent(timedelta(minutes=2 + n)) for n in range(PER_ACCOUNT_HOUR)]
    with pytest.raises(TooManyCodes):
        check_limits([], hour, NOW)
    day = [sent(timedelta(hours=2, minutes=n)) for n in range(PER_ACCOUNT_DAY)]
    with pytest.raises(TooManyCodes):
        check_limits([], day, NOW)
    check_limits([], day[:-1], NOW)
