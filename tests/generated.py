"""People as a real city brings them (Faker's zh_CN and en_US), seeded so that a failure can be
replayed: names, resident ID numbers valid by GB 11643 and mobile numbers that can receive an
SMS. Tests use them where who the patient is matters, instead of friendly examples."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from faker import Faker

from booking.errors import BookingError
from booking.patients.identity import mask_phone, parse_id_number, parse_mobile


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    id_masked: str
    mobile: str  # as a patient types it: 11 digits
    e164: str
    mobile_masked: str


def people(seed: str, count: int, locale: str = "zh_CN") -> list[Person]:
    """`count` different people; English names with `locale="en_US"` (the ID numbers and
    mobiles are Chinese either way: a foreigner living here registers with a resident ID)."""
    names, numbers = Faker(locale), Faker("zh_CN")
    names.seed_instance(zlib.crc32(seed.encode()))
    numbers.seed_instance(zlib.crc32(seed.encode()) + 1)
    found: dict[str, Person] = {}
    while len(found) < count:
        name = names.name() if locale == "zh_CN" else f"{names.first_name()} {names.last_name()}"
        resident = parse_id_number(numbers.ssn())
        mobile = mobile_number(numbers)
        found.setdefault(
            resident.number,
            Person(name, resident.number, resident.masked, mobile, "+86" + mobile,
                   mask_phone("+86" + mobile)),
        )  # fmt: skip
    return list(found.values())


def mobile_number(fake: Faker) -> str:
    """A mobile number that can receive an SMS (Faker also draws data-only 149… cards)."""
    while True:
        number = str(fake.phone_number())
        try:
            parse_mobile(number)
        except BookingError:
            continue
        return number
