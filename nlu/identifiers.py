"""Numbers patients type: resident ID numbers (only with a valid GB 11643 checksum), mobile
phone numbers, booking numbers and complaint numbers. Works on normalised text."""

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


# GB/T 2260's provinces, Taiwan (71) and the residence permits (81-83): the same rule as the
# registration's (booking.identity), which this package may not import.
_PROVINCES = frozenset(
    str(code)
    for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
                 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)
)  # fmt: skip


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
        if _resident_id(candidate):
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


def _resident_id(number: str) -> bool:
    """What GB 11643 makes valid: the check digit, a real birth date, a province. Not
    python-stdnum's is_valid, which refuses a county newer than its holder (Guangzhou Tianhe,
    440106, for anyone born before 1985), although the number is that person's."""
    if number[:2] not in _PROVINCES or number[17] != ric.calc_check_digit(number):
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
