from datetime import date, timedelta

import pytest

from booking.appointments.model import QuotaUse, check_quotas, new_booking_no
from booking.catalogue.policy import BookingPolicy
from booking.errors import QuotaExceeded

DAY = date(2026, 11, 25)
POLICY = BookingPolicy()


def quota_of(uses: list[QuotaUse], day: date = DAY, dept: str = "CARD") -> str | None:
    try:
        check_quotas(POLICY, uses, day, dept)
    except QuotaExceeded as refused:
        return str(refused.details["quota"])
    return None


def test_first_booking_is_always_within_quota() -> None:
    assert quota_of([]) is None


def test_one_booking_per_department_per_day() -> None:
    assert quota_of([QuotaUse(DAY, "CARD")]) == "per_department_per_day"
    assert quota_of([QuotaUse(DAY, "RESP")]) is None


def test_two_bookings_per_day() -> None:
    assert quota_of([QuotaUse(DAY, "RESP"), QuotaUse(DAY, "GAST")]) == "per_day"


@pytest.mark.parametrize("offsets", [(-6, -3, -1), (-2, 1, 2), (1, 4, 6), (-1, 1, 3)])
def test_three_bookings_in_any_seven_days(offsets: tuple[int, ...]) -> None:
    uses = [QuotaUse(DAY + timedelta(days=o), "RESP") for o in offsets]
    assert quota_of(uses) == "per_period"


def test_seven_days_means_a_run_of_seven_visit_days() -> None:
    uses = [QuotaUse(DAY + timedelta(days=o), "RESP") for o in (-6, 6, 7)]
    assert quota_of(uses) is None


def test_bookings_a_week_apart_do_not_add_up() -> None:
    uses = [QuotaUse(DAY - timedelta(days=7), "RESP"), QuotaUse(DAY + timedelta(days=7), "RESP")]
    uses.append(QuotaUse(DAY + timedelta(days=8), "GAST"))
    assert quota_of(uses) is None


def test_policy_numbers_come_from_the_hospital() -> None:
    generous = BookingPolicy(max_per_day=5, max_per_period=10, max_per_department_per_day=3)
    check_quotas(generous, [QuotaUse(DAY, "CARD")] * 2, DAY, "CARD")


def test_booking_numbers_are_digits_that_start_with_the_visit_date() -> None:
    number = new_booking_no(DAY)
    assert number.isdigit() and len(number) == 14 and number.startswith("261125")
