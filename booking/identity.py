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


def parse_id_number(raw: str, today: date | None = None) -> ResidentId:
    """An 18-digit resident ID (GB 11643): checksum, birth date and region must all be right."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    try:
        number = ric.validate(text)
    except ValidationError as exc:
        kind = {
            "InvalidLength": "length",
            "InvalidFormat": "format",
            "InvalidChecksum": "checksum",
        }.get(type(exc).__name__, "birth_date_or_region")
        raise InvalidIdNumber(f"not a valid resident ID number ({kind})", problem=kind) from exc
    birth = ric.get_birth_date(number)
    if today is not None and birth > today:
        raise InvalidIdNumber("the birth date in this ID number is in the future", problem="future")
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(number=number, birth_date=birth, sex=sex)


def mask_id_number(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


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
