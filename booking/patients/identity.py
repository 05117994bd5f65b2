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


# In free text (a complaint) ID and mobile numbers are written in every way people write them:
# in groups joined by spaces of any kind, dashes, dots, slashes, underscores or brackets, with
# zero-width characters inside, after +86 or a letter (ID110101…, sfz…), one straight after
# another, in full-width digits. So: take each run of digits joined by such separators, read
# its digits, and mask the ID numbers (18 characters, or the old 15 digits: a province and a
# real birth date; the check digit is not needed, a mistyped number is still private) and
# mobile numbers (1[3-9] and 9 more digits) found in it. Any other 15+ digits written together
# are masked too (a bank card, a number we cannot read: privacy first). Kept readable: booking
# numbers (14 digits, starting with the visit date) and complaint numbers (TS and 10 digits),
# dates, times, amounts and landlines. Numbers in Chinese numerals (一三九…) are not read.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋－", "0123456789Xx+-")
_JOINERS = frozenset("-_./()+−﹣．／（）＿＋")
_OPENING, _CLOSING = "(（", ")）"
_MOBILE = re.compile(r"1[3-9]\d{9}")
_BOOKING_NO = re.compile(r"(?<!\d)\d{14}(?!\d)")
_COMPLAINT_NO = re.compile(r"TS\d{10}(?!\d)", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"\d{15,}")


def _joins(char: str) -> bool:
    return (
        char in _JOINERS
        or char.isspace()
        or unicodedata.category(char) in ("Cf", "Pd")  # zero-width characters; dashes
    )


def _digit(char: str) -> str | None:
    value = unicodedata.decimal(char, None)
    return None if value is None else str(value)


def _real_date(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def _id_at(digits: str, i: int) -> int:
    """The length of the ID number starting here (18 or 15), or 0."""
    if digits[i : i + 2] not in PROVINCES:
        return 0
    long = digits[i : i + 18]
    if (
        len(long) == 18
        and long[:17].isdigit()
        and (long[17].isdigit() or long[17] in "Xx")
        and long[6:8] in ("18", "19", "20")
        and _real_date(long[6:14])
    ):
        return 18
    old = digits[i : i + 15]
    if len(old) == 15 and old.isdigit() and _real_date("19" + old[6:12]):
        return 15
    return 0


def _kept(text: str) -> set[int]:
    """Where the booking and complaint numbers are: never masked, never joined to others."""
    kept: set[int] = set()
    for found in _BOOKING_NO.finditer(text):
        number = found.group(0)
        # Not one that is the start of an ID number written 14 + 4 (440106 19900307 4514).
        if number[0] != "1" and _real_date("20" + number[:6]) and _id_at(number + "0000", 0) != 18:
            kept.update(range(found.start(), found.end()))
    for found in _COMPLAINT_NO.finditer(text):
        kept.update(range(found.start(), found.end()))
    return kept


def _runs(text: str) -> list[list[tuple[int, str]]]:
    """Runs of digits joined by separators, as (place in the text, digit) pairs. An X is a
    digit only straight after one and before no letter or digit (an ID's check character)."""
    kept = _kept(text)
    runs: list[list[tuple[int, str]]] = []
    run: list[tuple[int, str]] = []
    for place, char in enumerate(text):
        digit = None if place in kept else _digit(char)
        if digit is None and char in "Xx" and run and run[-1][0] == place - 1:
            after = text[place + 1 : place + 2]
            if not (after.isascii() and after.isalnum()):
                digit = char
        if digit is not None:
            run.append((place, digit))
        elif not (run and _joins(char) and place not in kept):
            if run:
                runs.append(run)
            run = []
    if run:
        runs.append(run)
    return runs


def _numbers_in(run: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(first place, place after, masked) for each ID and mobile number in a run."""
    digits = "".join(d for _, d in run)
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(digits):
        length = _id_at(digits, i)
        if length:
            masked = mask_id_number(digits[i : i + length])
        elif _MOBILE.match(digits, i):
            length = 11
            national = digits[i : i + 11]
            masked = national[:3] + "****" + national[-4:]
            if i >= 2 and digits[i - 2 : i] == "86" and (not found or found[-1][1] <= i - 2):
                i, length = i - 2, 13  # +86 goes with the number
        else:
            i += 1
            continue
        found.append((i, i + length, masked))
        i += length
    return [(run[a][0], run[b - 1][0] + 1, masked) for a, b, masked in found]


def _widened(text: str, start: int, end: int) -> tuple[int, int]:
    """A masked number takes its +86's plus and the bracket a ) or ( inside it pairs with."""
    inside = text[start:end]
    opened = sum(inside.count(c) for c in _OPENING) - sum(inside.count(c) for c in _CLOSING)
    if opened < 0:
        before = start - 1
        while before >= 0 and _joins(text[before]) and text[before] not in _OPENING:
            before -= 1
        if before >= 0 and text[before] in _OPENING:
            start = before
    if start > 0 and text[start - 1] == "+":
        start -= 1
    if opened > 0:
        after = end
        while after < len(text) and _joins(text[after]) and text[after] not in _CLOSING:
            after += 1
        if after < len(text) and text[after] in _CLOSING:
            end = after + 1
    return start, end


def mask_in_text(text: str) -> str:
    """Free text with the ID numbers and mobile numbers in it masked as they are shown
    elsewhere (1101**********1234, 139****2222), for places wider than the record (a staff
    group chat). Full-width digits are read, and shown, as plain ones; nothing else changes."""
    text = text.translate(_FULL_WIDTH)
    spans = [
        (*_widened(text, start, end), masked)
        for run in _runs(text)
        for start, end, masked in _numbers_in(run)
    ]
    covered = {place for start, end, _ in spans for place in range(start, end)}
    kept = _kept(text)
    for found in _LONG_DIGITS.finditer(text):
        places = range(found.start(), found.end())
        if covered.isdisjoint(places) and kept.isdisjoint(places):
            spans.append((found.start(), found.end(), mask_id_number(found.group(0))))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + masked + text[end:]
    return text


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
