from datetime import date

import pytest
from stdnum.cn import ric

from booking.errors import InvalidIdNumber, InvalidName, InvalidPhone
from booking.identity import (
    Sex,
    clean_name,
    mask_id_number,
    mask_phone,
    parse_id_number,
    parse_mobile,
)
from booking.protect import Protector
from tests.support import id_number


def test_a_valid_id_number_gives_birth_date_and_sex() -> None:
    resident = parse_id_number("11010519491231002X")
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex is Sex.FEMALE
    assert resident.masked == "1101**********002X"


def test_id_numbers_are_read_the_way_people_type_them() -> None:
    assert parse_id_number(" 11010519491231002x ").number == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("110105194912310021", "checksum"),
        ("1101051949123100", "length"),
        ("11010519491331002" + ric.calc_check_digit("110105194913310020"), "birth_date_or_region"),
        ("abcdefghijklmnopqr", "format"),
        ("", "length"),
    ],
)
def test_wrong_id_numbers_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(text)
    assert caught.value.details["problem"] == problem


def test_an_id_number_born_in_the_future_is_refused() -> None:
    future = id_number(1, born=date(2030, 1, 1))
    with pytest.raises(InvalidIdNumber):
        parse_id_number(future, today=date(2026, 11, 25))


def test_masks_keep_only_the_ends() -> None:
    assert mask_id_number("110105194912310021") == "1101**********0021"
    assert mask_phone("+8613812345678") == "138****5678"
    assert "2345" not in mask_phone("+447912345678")


@pytest.mark.parametrize("text", ["13812345678", "+86 138 1234 5678", "138-1234-5678"])
def test_chinese_mobile_numbers_in_any_common_form(text: str) -> None:
    assert parse_mobile(text) == "+8613812345678"


@pytest.mark.parametrize("text", ["12345", "01012345678", "hello", ""])
def test_landlines_and_nonsense_are_not_mobile_numbers(text: str) -> None:
    with pytest.raises(InvalidPhone):
        parse_mobile(text)


def test_foreign_mobiles_are_accepted_with_their_country_code() -> None:
    assert parse_mobile("+44 7912 345678") == "+447912345678"


def test_names() -> None:
    assert clean_name("  张  三 ") == "张 三"
    assert clean_name("阿卜杜·热合曼") == "阿卜杜·热合曼"
    for bad in ["", "张3", "x" * 41, "<script>"]:
        with pytest.raises(InvalidName):
            clean_name(bad)


def test_protected_numbers_are_found_by_hash_and_read_back_only_with_the_key() -> None:
    one, other = Protector("a" * 32), Protector("b" * 32)
    assert one.lookup_hash("id", "x") == one.lookup_hash("id", "x")
    assert one.lookup_hash("id", "x") != other.lookup_hash("id", "x")
    assert one.lookup_hash("id", "x") != one.lookup_hash("phone", "x")
    token = one.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert one.decrypt(token) == "11010519491231002X"
