from datetime import date

import pytest
from stdnum.cn import ric

from booking.errors import InvalidIdNumber, InvalidName, InvalidPhone
from booking.patients.identity import (
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
        ("11010519491331002" + ric.calc_check_digit("110105194913310020"), "birth_date"),
        ("11010519490229002" + ric.calc_check_digit("110105194902290020"), "birth_date"),
        ("99010519491231002" + ric.calc_check_digit("990105194912310020"), "region"),
        ("11010518500101002" + ric.calc_check_digit("110105185001010020"), "birth_date"),
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


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    ("region", "born"),
    [
        ("440106", date(1950, 3, 8)),  # Guangzhou Tianhe, created in 1985
        ("310115", date(1938, 10, 1)),  # Shanghai Pudong New Area, created in 1992
        ("440306", date(1962, 7, 19)),  # Shenzhen Bao'an district, created in 1992
        ("500117", date(1945, 1, 1)),  # Chongqing Hechuan district, 2006
        ("469027", date(1969, 12, 31)),  # a Hainan county number stdnum does not list
        ("810000", date(1980, 2, 29)),  # a Hong Kong resident's residence permit
    ],
)
def test_a_county_newer_than_its_holder_or_unknown_to_the_table_is_valid(
    region: str, born: date
) -> None:
    """GB 11643: the address code is where the number was assigned, not where one was born."""
    number = _with_check_digit(f"{region}{born:%Y%m%d}123")
    resident = parse_id_number(number, today=date(2026, 12, 7))
    assert resident.birth_date == born
    assert resident.sex is Sex.MALE


def test_every_valid_number_of_a_generated_population_is_accepted() -> None:
    """Faker's zh_CN address codes and any birth date from 1930 to 2025."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(11643)
    codes = fake.provider("faker.providers.ssn").area_codes  # type: ignore[attr-defined]
    refused = []
    for _ in range(2000):
        born = fake.date_between(date(1930, 1, 1), date(2025, 12, 31))
        region, order = fake.random_element(codes), fake.numerify("###")
        number = _with_check_digit(f"{region}{born:%Y%m%d}{order}")
        try:
            assert parse_id_number(number, today=date(2026, 12, 7)).birth_date == born
        except InvalidIdNumber:
            refused.append(number)
    assert not refused, refused[:10]
