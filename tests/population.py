"""A generated population of patients, for tests that no hand-picked example can pass by luck.

Faker's zh_CN and en_US locales give the names; ID numbers are built as GB 11643 says (one of
Faker's zh_CN address codes, a birth date from 1930 to 2025, an order number whose last digit
is the sex, the check digit); mobile numbers are Faker's, kept when libphonenumber knows them
as mobiles (Faker's zh_CN list still has the 149 block, which is not assigned to phones).
Each family is an account holder with up to two relatives: a child (paediatrics) or an
elderly parent. Everything follows from the seed, so a failure can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from faker import Faker
from stdnum.cn import ric

from booking.errors import BookingError
from booking.patients.identity import parse_mobile

# Adults' departments of the demo hospital by how they are said, in each language.
ADULT_DEPARTMENTS = {
    "CARD": ("心内科", "cardiology"),
    "RESP": ("呼吸内科", "respiratory medicine"),
    "GAST": ("消化内科", "gastroenterology"),
    "NEUR": ("神经内科", "neurology"),
    "ENDO": ("内分泌科", "endocrinology"),
    "GSUR": ("普外科", "general surgery"),
    "ORTH": ("骨科", "orthopedics"),
    "OPHT": ("眼科", "ophthalmology"),
    "ENT": ("耳鼻喉科", "ENT"),
    "DENT": ("口腔科", "dentistry"),
    "DERM": ("皮肤科", "dermatology"),
    "TCMI": ("中医内科", "TCM internal medicine"),
    "ACUP": ("针灸科", "acupuncture"),
}
WOMEN_ONLY = {"OBGY": ("妇产科", "gynecology")}
CHILDREN = {"PEDI": ("儿科", "pediatrics")}


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    born: date
    female: bool
    phone: str  # 11 digits, as people type their own
    relation: str | None = None  # to the account holder (son, mother…); None: the holder
    department: str = "CARD"  # where they need to go

    def said(self, english: bool) -> str:
        """The department as this person's family would write it."""
        names = {**ADULT_DEPARTMENTS, **WOMEN_ONLY, **CHILDREN}[self.department]
        return names[1] if english else names[0]


@dataclass(frozen=True)
class Family:
    number: int
    english: bool
    channel: str  # web or sms
    holder: Person
    relatives: tuple[Person, ...]

    @property
    def people(self) -> tuple[Person, ...]:
        return (self.holder, *self.relatives)


class Population:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._zh = Faker("zh_CN")
        self._en = Faker("en_US")
        self._zh.seed_instance(seed)
        self._en.seed_instance(seed + 1)
        self._random = random.Random(seed)
        self._codes: list[str] = self._zh.provider("faker.providers.ssn").area_codes  # type: ignore[attr-defined]
        self._numbers: set[str] = set()

    def families(self, count: int) -> list[Family]:
        return [self.family(n) for n in range(count)]

    def family(self, number: int) -> Family:
        english = self._random.random() < 0.2
        holder = self.person(english, self._birthday(1930, 2006), None)
        relatives = []
        for _ in range(self._random.choice((0, 1, 1, 2))):
            if self._random.random() < 0.6:
                child = self.person(english, self._birthday(2012, 2025), "child", holder)
                relatives.append(child)
            else:
                parent = self.person(english, self._birthday(1930, 1962), "parent", holder)
                relatives.append(parent)
        channel = "sms" if number % 2 else "web"
        return Family(number, english, channel, holder, tuple(relatives))

    def person(
        self, english: bool, born: date, kin: str | None, holder: Person | None = None
    ) -> Person:
        female = self._random.random() < 0.5
        fake = self._en if english else self._zh
        if english:
            first = fake.first_name_female() if female else fake.first_name_male()
            surname = holder.name.split()[-1] if holder and kin == "child" else fake.last_name()
            name = f"{first} {surname}"
        else:
            first = fake.first_name_female() if female else fake.first_name_male()
            surname = holder.name[0] if holder and kin == "child" else fake.last_name()
            name = surname + first
        relation = None
        if kin == "child":
            relation = self._random.choice(("daughter" if female else "son", "child"))
        elif kin == "parent":
            relation = "mother" if female else "father"
        phone = holder.phone if holder and kin == "child" else self._phone()
        return Person(
            name=name,
            id_number=self._id_number(born, female),
            born=born,
            female=female,
            phone=phone,
            relation=relation,
            department=self._department(born, female),
        )

    def _department(self, born: date, female: bool) -> str:
        if born.year >= 2013:  # 14 or under in 2026: paediatrics
            return "PEDI"
        wanted = list(ADULT_DEPARTMENTS) + (list(WOMEN_ONLY) if female else [])
        return self._random.choice(wanted)

    def _birthday(self, first_year: int, last_year: int) -> date:
        born: date = self._zh.date_between(date(first_year, 1, 1), date(last_year, 12, 31))
        return born

    def _id_number(self, born: date, female: bool) -> str:
        while True:
            order = self._random.randrange(0, 100) * 10 + self._random.choice(
                (0, 2, 4, 6, 8) if female else (1, 3, 5, 7, 9)
            )
            body = f"{self._random.choice(self._codes)}{born:%Y%m%d}{order:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def _phone(self) -> str:
        while True:
            candidate = self._zh.phone_number()
            try:
                parse_mobile(candidate)
            except BookingError:  # not a mobile libphonenumber knows: draw again
                continue
            return candidate


RELATION_WORDS = {
    "son": ("儿子", "son"),
    "daughter": ("女儿", "daughter"),
    "child": ("孩子", "child"),
    "mother": ("妈妈", "mum"),
    "father": ("父亲", "dad"),
}
