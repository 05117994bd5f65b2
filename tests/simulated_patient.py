"""A patient who talks to the bot as people do: says what they want in one sentence or step by
step, answers what is asked (name, ID number, phone, the code texted to them), picks from what
is offered (by pressing, or by number on SMS), and books for their relatives too.

It reads every reply as the patient would: in their language, asking for what it says it
asks for. Anything else (a switch of language, a refusal, a question it cannot answer, no way
forward after 30 messages) is a failure, kept with the whole conversation for the report.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.fields import awaited
from bot.dialogue.state import DialogueState
from channels.messages import Inbound, Outbound
from tests.population import RELATION_WORDS, Family, Person

Send = Callable[[Inbound], Awaitable[list[Outbound]]]
_HAN = re.compile(r"[\u3400-\u9fff]")
# What each awaited field's question says, in each language.
ASKS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证", "ID number"),
    "phone": ("手机", "mobile"),
    "code": ("验证码", "code"),
}
# A session as a duty answer labels it: the work number, then the date and the part of day.
_WORK_NO_AND_TIME = re.compile(
    r"(?:工号|no\. ?)(\d{5})\D*?\d{4}-(\d{2})-(\d{2})\D*?(上午|下午|晚上|morning|afternoon|evening)"
)
_PART_STARTS = {"上午": "0800", "下午": "1330", "晚上": "1800"}
_PART_STARTS |= {"morning": "0800", "afternoon": "1330", "evening": "1800"}
# People's slips: a digit of an ID number changed (the check digit catches it), or one digit of
# the phone left out; and what the refusal must say.
MISTYPED = {
    "id_number": lambda number: number[:9] + str((int(number[9]) + 1) % 10) + number[10:],
    "phone": lambda phone: phone.replace(" ", "")[:-1],
}
REFUSED = {"id_number": ("身份证号不正确", "not valid"), "phone": ("手机号不正确", "not valid")}
WHEN = [("明天", "tomorrow"), ("后天", "the day after tomorrow"), ("", "")]
PARTS = [("上午", "morning"), ("下午", "afternoon"), ("", "")]


class Failed(Exception):
    pass


@dataclass
class Talk:
    """One family's conversation with the bot, as it went."""

    family: Family
    lines: list[str] = field(default_factory=list)

    def said(self, who: str, text: str) -> None:
        self.lines.append(f"  {who}: {text}")

    def report(self, problem: str) -> str:
        people = "; ".join(
            f"{p.name} {p.id_number} {p.phone} {p.relation or 'holder'} {p.department}"
            for p in self.family.people
        )
        head = (
            f"family {self.family.number} ({self.family.channel}, "
            f"{'en' if self.family.english else 'zh'}): {people}\n  problem: {problem}"
        )
        return "\n".join([head, *self.lines])


class SimulatedPatient:
    def __init__(
        self,
        family: Family,
        send: Send,
        db: Database,
        protector: Protector,
        conversations: Conversations,
        codes: dict[str, str],
        now: Callable[[], object],
        seed: int,
    ) -> None:
        self.family = family
        self._send = send
        self._db = db
        self._protector = protector
        self._conversations = conversations
        self._codes = codes  # the last code texted to each phone (national 11 digits)
        self._now = now
        self._random = random.Random(seed * 10_007 + family.number)
        self._messages = itertools.count()
        self.talk = Talk(family)
        holder = family.holder
        self.user = (
            "+86" + digits(holder.phone) if family.channel == "sms" else f"pop-{family.number}"
        )
        self.english = family.english

    async def run(self) -> None:
        """Every person of the family registered and booked, or Failed."""
        if self.family.channel == "sms":  # by SMS a phone is registered by the ID number
            await self._register_by_sms(self.family.holder)
        for person in self.family.people:
            by_command = self.family.channel == "sms" and self._random.random() < 0.5
            await (self._book_by_command(person) if by_command else self._book(person))

    async def _register_by_sms(self, person: Person) -> None:
        # A number alone says nothing of the language: an English speaker says a word too.
        replies = await self._say(
            f"register {person.id_number}" if self.english else person.id_number
        )
        self._expect_asks(replies, "name")
        replies = await self._say(self._name_of(person))
        if person.name not in self._text(replies):
            raise Failed("registration by SMS did not say the patient was added")

    async def _book(self, person: Person) -> None:
        before = await self._booked(person)
        replies = await self._say(self._opening(person))
        for _ in range(30):
            if await self._booked(person) > before:
                if not re.search(r"\d{14}", self._text(replies)):
                    raise Failed("booked, but the reply gives no booking number")
                return
            replies = await self._answer(person, replies)
        raise Failed(f"no booking for {person.name} after 30 messages")

    async def _book_by_command(self, person: Person) -> None:
        """The seed's quick command, as a patient finds its parts: the work number and the
        time from a duty answer, the name as registered; an unregistered relative is
        registered by ID number first, as the bot says."""
        before = await self._booked(person)
        department = person.said(self.english)
        asked = f"{department} doctors on duty" if self.english else f"查询{department}出诊"
        offered = await self._say(asked)
        found = _WORK_NO_AND_TIME.search(self._text(offered))
        if found is None:
            raise Failed("a duty answer without a work number and a time to book")
        work_no, month, day, part = found.groups()
        command = f"GHDH{work_no},{month}{day}{_PART_STARTS[part]},{person.name}"
        replies = await self._say(command)
        if await self._booked(person) == before:
            self._expect_asks(replies, "id_number")  # not on the account: register first
            await self._register_by_sms(person)
            replies = await self._say(command)
        if await self._booked(person) != before + 1:
            raise Failed("the quick command did not book")
        if not re.search(r"\d{14}", self._text(replies)):
            raise Failed("booked, but the reply gives no booking number")

    def _opening(self, person: Person) -> str:
        when_zh, when_en = self._random.choice(WHEN)
        part_zh, part_en = self._random.choice(PARTS)
        department = person.said(self.english)
        if person.relation is None:
            if self.english:
                return self._random.choice(
                    [
                        f"I'd like to book {department} {when_en} {part_en}".strip(),
                        "I want to book an appointment",
                        f"book {department} please",
                    ]
                )
            return self._random.choice(
                [
                    f"帮我挂{when_zh}{part_zh}{department}的号",
                    "我要挂号",
                    f"我想看{department}",
                ]
            )
        word_zh, word_en = RELATION_WORDS[person.relation]
        if self.english:
            return f"book {department} for my {word_en} {when_en}".strip()
        return self._random.choice(
            [f"给我{word_zh}挂{when_zh}{department}的号", f"帮我{word_zh}约个{department}"]
        )

    async def _answer(self, person: Person, replies: list[Outbound]) -> list[Outbound]:
        state = DialogueState((await self._conversations.load(*self._who())).state)
        asked = awaited(state)
        if asked is not None:
            self._expect_asks(replies, asked)
            if asked in MISTYPED and self._random.random() < 0.1:  # a slip, read and put right
                refused = await self._say(MISTYPED[asked](self._field(person, asked)))
                if REFUSED[asked][self.english] not in self._text(refused):
                    raise Failed(f"a mistyped {asked} was not refused with its reason")
                self._expect_asks(refused, asked)
            return await self._say(self._field(person, asked))
        offered = replies[-1].choices if replies else ()
        keys = [c.key for c in offered]
        if "confirm:yes" in keys:
            return await self._pick(offered, "confirm:yes")
        for key, label in ((c.key, c.label) for c in offered):
            if key.startswith("patient:") and key != "patient:new" and label == person.name:
                return await self._pick(offered, key)
        if any(k.startswith("patient:") for k in keys):
            return await self._pick(offered, "patient:new")
        wanted = f"department:{person.department}"
        if wanted in keys:
            return await self._pick(offered, wanted)
        for prefix in ("doctor:", "session:"):
            found = [k for k in keys if k.startswith(prefix)]
            if found:
                return await self._pick(offered, self._random.choice(found))
        raise Failed("the bot asked nothing this patient can answer")

    def _field(self, person: Person, asked: str) -> str:
        if asked == "name":
            return self._name_of(person)
        if asked == "id_number":
            number = person.id_number
            return number.lower() if self._random.random() < 0.3 else number
        if asked == "phone":
            return self._random.choice(
                [person.phone, f"{person.phone[:3]} {person.phone[3:7]} {person.phone[7:]}"]
            )
        if asked == "code":
            code = self._codes.get(digits(person.phone)[-11:])
            if code is None:
                raise Failed("asked for a code, but none was texted to the phone typed")
            return code
        raise Failed(f"asked for {asked} while booking")

    def _name_of(self, person: Person) -> str:
        return person.name

    def _expect_asks(self, replies: list[Outbound], asked: str) -> None:
        said = self._text(replies)
        zh, en = ASKS[asked]
        if (en.lower() not in said.lower()) if self.english else (zh not in said):
            raise Failed(f"the bot waits for {asked} but does not ask for it")

    async def _pick(self, offered: tuple[object, ...], key: str) -> list[Outbound]:
        if self.family.channel == "sms":  # no buttons: the number of the line
            keys = [c.key for c in offered]  # type: ignore[attr-defined]
            return await self._say(str(keys.index(key) + 1))
        self.talk.said("presses", key)
        return await self._deliver(Inbound("web", self.user, self._now(), choice=key))  # type: ignore[arg-type]

    async def _say(self, text: str) -> list[Outbound]:
        self.talk.said("says", text)
        channel = self.family.channel
        return await self._deliver(Inbound(channel, self.user, self._now(), text=text))  # type: ignore[arg-type]

    async def _deliver(self, inbound: Inbound) -> list[Outbound]:
        inbound = Inbound(
            inbound.channel, inbound.user_id, inbound.received_at, text=inbound.text,
            choice=inbound.choice, message_id=f"m{next(self._messages)}",
        )  # fmt: skip
        replies = await self._send(inbound)
        for reply in replies:
            labels = " | ".join(c.label for c in reply.choices)
            self.talk.said("bot", reply.text + (f"  [{labels}]" if labels else ""))
        self._read(replies)
        return replies

    def _read(self, replies: list[Outbound]) -> None:
        """As the patient reads it: an answer, in their language."""
        if not replies or not any(r.text.strip() for r in replies):
            raise Failed("no answer")
        said = self._text(replies)
        if self.english and re.search(r"[请您]", said):
            raise Failed("a Chinese sentence in an English conversation")
        if not self.english and ("Please" in said or "please" in said or "English" in said):
            raise Failed("an English sentence in a Chinese conversation")

    async def _booked(self, person: Person) -> int:
        views = await my_bookings(self._db, *self._protector.account(*self._who()))
        return sum(
            1
            for v in views
            if v.status == AppointmentStatus.BOOKED and v.patient_name == person.name
        )

    def _who(self) -> tuple[str, str]:
        return self.family.channel, self.user

    @staticmethod
    def _text(replies: list[Outbound]) -> str:
        return "\n".join(
            reply.text + "\n" + "\n".join(c.label for c in reply.choices) for reply in replies
        )


def digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())
