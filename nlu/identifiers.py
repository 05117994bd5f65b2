"""Numbers patients type: resident ID numbers (only with a valid GB 11643 checksum), mobile
phone numbers, booking numbers and complaint numbers. Works on normalised text.

An ID number is recognised by its check digit and a real birth date; whether it is valid
otherwise (its province, a birth date not in the future) is the booking domain's to say, in a
sentence. python-stdnum's validate() is not used: it refuses every address code its table does
not hold for the birth year, and GB 11643 takes the code of when the number was assigned."""

import re
from dataclasses import dataclass

import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

# Digits glued to letters or other digits belong to something else (an order number, a URL).
_ID_NUMBER = re.compile(r"(?<![0-9a-z])(\d{6})[ -]?(\d{8})[ -]?(\d{3}[0-9x])(?![0-9a-z])")
_PHONE = re.compile(r"(?<![0-9a-z+])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9a-z])")
_BOOKING_NO = re.compile(r"(?<![0-9a-z])(\d{2})(\d{2})(\d{2})\d{8}(?![0-9a-z])")
_COMPLAINT_NO = re.compile(r"(?<![0-9a-z])ts ?(\d{10})(?![0-9a-z])")


@dataclass(frozen=True, slots=True)
class Number:
    entity: str  # id_number | phone | booking_no | complaint_no
    value: str
    start: int
    end: int


def find_numbers(text: str) -> list[Number]:
    found: list[Number] = []
    for match in _ID_NUMBER.finditer(text):
        candidate = "".join(match.groups()).upper()
        if _looks_valid(candidate):
            found.append(Number("id_number", candidate, match.start(), match.end()))
    for match in _COMPLAINT_NO.finditer(text):
        found.append(Number("complaint_no", "TS" + match.group(1), match.start(), match.end()))
    for match in _BOOKING_NO.finditer(text):
        month, day = int(match.group(2)), int(match.group(3))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append(Number("booking_no", match.group(0), match.start(), match.end()))
    for match in _PHONE.finditer(text):
        digits = "".join(match.groups())
        if _is_mobile(digits):
            found.append(Number("phone", digits, match.start(), match.end()))
    return _without_overlaps(found)


def _looks_valid(number: str) -> bool:
    if number[17] != ric.calc_check_digit(number):
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return True


def _is_mobile(digits: str) -> bool:
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _without_overlaps(found: list[Number]) -> list[Number]:
    kept: list[Number] = []
    for number in sorted(found, key=lambda n: (-(n.end - n.start), n.start)):
        if all(number.end <= other.start or number.start >= other.end for other in kept):
            kept.append(number)
    return sorted(kept, key=lambda n: n.start)
