"""Issue 15: ID and mobile numbers in what a patient wrote are masked for the staff group, as
they are written by people (in groups, with +86, in full-width digits); other numbers stay."""

import pytest

from booking.identity import mask_in_text


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("身份证110101199003074514。", "身份证1101**********4514。"),
        ("ID 110101 19900307 451x", "ID 1101**********451x"),
        ("手机13912342222，", "手机139****2222，"),
        ("call +86 139-1234-2222 please", "call 139****2222 please"),
        ("电话１３９１２３４２２２２", "电话139****2222"),
        ("旧身份证110101900307451", "旧身份证1101*******7451"),
    ],
)
def test_id_and_mobile_numbers_are_masked(written: str, shown: str) -> None:
    assert mask_in_text(written) == shown


@pytest.mark.parametrize(
    "kept",
    [
        "预约号 261126004217",
        "投诉 TS2611250427 的进度",
        "等了3个小时，排在第12号",
        "座机 010-65123456",
    ],
)
def test_other_numbers_are_kept(kept: str) -> None:
    assert mask_in_text(kept) == kept
