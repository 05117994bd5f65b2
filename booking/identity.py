"""Real-name identity (实名制): resident ID numbers, mobile numbers, names, and masked display."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import phonenumbers
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from booking.errors import InvalidIdNumber, InvalidName, InvalidPhone


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


# The provinces of GB/T 2260 (the first two digits of the address code), with Taiwan (71) and
# the residence permits of Hong Kong, Macao and Taiwan residents (81, 82, 83).
PROVINCES = frozenset(
    f"{code}"
    for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
                 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)
)  # fmt: skip
# No one alive was born before this: an earlier year is a typing mistake.
EARLIEST_BIRTH = date(1880, 1, 1)


def parse_id_number(raw: str, today: date | None = None) -> ResidentId:
    """An 18-character resident ID (GB 11643): the checksum, a real birth date not in the
    future, and a province that exists. The county is not checked against the birth date: the
    address code is that of the household registration when the number was assigned, so
    Guangzhou Tianhe (440106, created in 1985) is right for someone born in 1950, and a county
    newer than python-stdnum's table is no error either."""
    number = ric.compact(unicodedata.normalize("NFKC", raw or ""))
    if len(number) != 18:
        raise _wrong("length", "a resident ID number has 18 characters")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _wrong("format", "17 digits and a digit or X")
    if number[17] != ric.calc_check_digit(number):
        raise _wrong("checksum", "the check digit does not match")
    try:
        birth = ric.get_birth_date(number)
    except ValidationError as exc:
        raise _wrong("birth_date", "no such birth date") from exc
    if birth < EARLIEST_BIRTH:
        raise _wrong("birth_date", "the birth date is too long ago")
    if today is not None and birth > today:
        raise _wrong("future", "the birth date is in the future")
    if number[:2] not in PROVINCES:
        raise _wrong("region", "no province has this code")
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, birth_date=birth, sex=sex)


def _wrong(problem: str, why: str) -> InvalidIdNumber:
    return InvalidIdNumber(f"not a valid resident ID number ({problem}): {why}", problem=problem)


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on a day (a birthday on 29 February comes on 1 March)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def mask_id_number(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# In free text (a complaint): an 18-character resident ID number (or an old 15-digit one),
# maybe written in groups, and a Chinese mobile number, maybe with +86 and in groups; not
# inside a longer run of digits or letters (booking and complaint numbers are shorter).
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{6}[ -]?\d{8}[ -]?\d{3}[0-9Xx]|\d{15})(?![0-9A-Za-z])"
)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋－", "0123456789Xx+-")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9+])(?:\+?86[ -]?)?(1[3-9]\d(?:[ -]?\d){8})(?!\d)")


def mask_in_text(text: str) -> str:
    """Free text with the ID numbers and mobile numbers in it masked as they are shown
    elsewhere (1101**********1234, 139****2222), for places wider than the record (a staff
    group chat). Full-width digits are read, and shown, as plain ones; nothing else changes."""
    text = text.translate(_FULL_WIDTH)

    def masked_id(found: re.Match[str]) -> str:
        return mask_id_number(re.sub(r"[ -]", "", found.group(0)))

    def masked_mobile(found: re.Match[str]) -> str:
        national = re.sub(r"[ -]", "", found.group(1))
        return national[:3] + "****" + national[-4:]

    return _MOBILE_IN_TEXT.sub(masked_mobile, _ID_IN_TEXT.sub(masked_id, text))


def parse_mobile(raw: str, default_region: str = "CN") -> str:
    """A mobile number in E.164 form; Chinese numbers may be written without +86."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    kind = phonenumbers.number_type(parsed)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhone("not a mobile number; text messages need a mobile phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+8613812345678 → 138****5678; other countries keep the country code and last 4 digits."""
    if e164.startswith("+86") and len(e164) == 14:
        national = e164[3:]
        return national[:3] + "****" + national[-4:]
    return e164[:3] + "*" * max(len(e164) - 7, 0) + e164[-4:]


_NAME = re.compile(r"^[\w·•.'\- ]+$")


def clean_name(raw: str) -> str:
    """A patient's name as on the ID card: Chinese or Latin letters, 1–40 characters."""
    name = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not name or len(name) > 40 or not _NAME.match(name) or any(c.isdigit() for c in name):
        raise InvalidName("a name has 1–40 letters and no digits")
    return name
