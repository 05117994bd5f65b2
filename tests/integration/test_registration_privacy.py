"""Issue 15: someone who knows a stranger's ID number learns nothing from registering it.

A whole registration conversation on the web chat (and by SMS), by an account that does not
prove the registered phone, is run for an unregistered ID number, for one registered by
another account, and for one registered with a wrong name typed: every message of the bot, and
every SMS the person typing receives, is the same apart from what they typed themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from booking.clock import FixedClock
from booking.patients.identity import mask_phone, parse_id_number
from booking.patients.registration import patients_of_account, register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound
from nlu.engine import BuiltinNlu
from tests.support import demo_catalogue, id_number

REGISTERED_PHONE = "13912342222"
OWNER = "王秀英"


@dataclass
class Stranger:
    """One person typing into the bot, and the SMS messages that reach the numbers they type."""

    engine: DialogueEngine
    clock: FixedClock
    channel: str
    user: str
    texted: list[tuple[str, str]] = field(default_factory=list)
    count: int = 0

    async def text(self, phone: str, message: str) -> None:
        self.texted.append((phone, message))

    async def say(self, text: str | None = None, choice: str | None = None) -> list[str]:
        self.count += 1
        inbound = Inbound(
            self.channel, self.user, self.clock.now(), text=text, choice=choice,
            message_id=f"{self.user}-{self.count}",
        )  # fmt: skip
        replies = await self.engine.handle(inbound)
        return ["\n".join([r.text, *(f"[{c.key}] {c.label}" for c in r.choices)]) for r in replies]

    def last_code(self) -> str:
        found = re.search(r"\d{6}", self.texted[-1][1])
        assert found is not None
        return found.group(0)


def _stranger(
    db: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector, channel: str, user: str
) -> Stranger:
    stranger = Stranger(engine=None, clock=clock, channel=channel, user=user)  # type: ignore[arg-type]
    stranger.engine = DialogueEngine(
        nlu=nlu,
        conversations=Conversations(db, protector, clock),
        texts=Texts.load(),
        uows=db,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
        texting=stranger.text,
        show_codes=False,
    )
    return stranger


def _neutral(lines: list[str], typed: dict[str, str]) -> list[str]:
    """What the stranger typed themselves (and the codes drawn at random) replaced by marks."""
    out = []
    for line in lines:
        for value, mark in typed.items():
            line = line.replace(value, mark)
        out.append(re.sub(r"\b\d{6}\b", "<code>", line))
    return out


async def _register_by_web(
    db: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector, *,
    user: str, name: str, number: str, phone: str, other_phone: str,
) -> list[str]:  # fmt: skip
    """Every message the person sees: the bot's answers and the SMS reaching their phones."""
    stranger = _stranger(db, nlu, clock, protector, "web", user)
    said: list[str] = []
    said += await stranger.say("添加就诊人")
    said += await stranger.say(name)
    said += await stranger.say(number)
    said += await stranger.say(phone)
    wrong = f"{(int(stranger.last_code()) + 1) % 1_000_000:06d}"
    said += await stranger.say(wrong)
    said += await stranger.say(choice="code:again")  # at once: the code sent still works
    said += await stranger.say(choice="code:other_phone")
    said += await stranger.say(other_phone)
    said += await stranger.say("12345")  # not a code
    said += await stranger.say(choice="nav:stop")
    said += [f"SMS to {to}: {text}" for to, text in stranger.texted]
    assert await patients_of_account(db, "web", user) == []
    typed = {
        name: "<name>",
        parse_id_number(number).masked: "<id>",
        mask_phone(f"+86{phone}"): "<phone>",
        mask_phone(f"+86{other_phone}"): "<other phone>",
        f"+86{phone}": "<phone>",
        f"+86{other_phone}": "<other phone>",
    }
    return _neutral(said, typed)


async def test_a_registered_and_an_unregistered_id_number_get_the_same_answers(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    registered = id_number(501)
    await register_patient(
        demo, protector, clock, name=OWNER, id_number=registered, phone=REGISTERED_PHONE,
        account=("telegram", "the-owner"), phone_proven=True,
    )  # fmt: skip
    runs = {
        "unregistered": ("s-1", "李建国", id_number(502), "13600000001", "13600000002"),
        "registered": ("s-2", OWNER, registered, "13600000003", "13600000004"),
        "registered, wrong name": ("s-3", "李建国", registered, "13600000005", "13600000006"),
    }
    seen = {}
    for what, (user, name, number, phone, other) in runs.items():
        seen[what] = await _register_by_web(
            demo, nlu, clock, protector, user=user, name=name, number=number, phone=phone,
            other_phone=other,
        )  # fmt: skip
    assert seen["registered"] == seen["unregistered"]
    assert seen["registered, wrong name"] == seen["unregistered"]
    everything = "\n".join(seen["registered"] + seen["registered, wrong name"])
    for telling in ("2222", "139*", "已由其他账号", "姓名不正确", "另一个手机号", OWNER):
        assert telling not in everything


async def test_by_sms_from_another_phone_a_wrong_name_is_not_told_nor_the_registered_phone(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    """By SMS the sender's phone is proven by writing from it: an ID number registered with
    another phone then asks for that phone, the same whether the name typed is right or not."""
    registered = id_number(511)
    await register_patient(
        demo, protector, clock, name=OWNER, id_number=registered, phone=REGISTERED_PHONE,
        in_person=True,
    )  # fmt: skip
    seen = {}
    for user, name in (("+8613600000011", OWNER), ("+8613600000013", "李建国")):
        stranger = _stranger(demo, nlu, clock, protector, "sms", user)
        said = await stranger.say(registered)
        said += await stranger.say(name)
        seen[name] = _neutral(said, {name: "<name>"})
        assert stranger.texted == []
        assert await patients_of_account(demo, "sms", user) == []
    assert seen[OWNER] == seen["李建国"]
    told = "\n".join(seen[OWNER])
    assert "另一个手机号" in told
    assert "2222" not in told and "139*" not in told and "姓名不正确" not in told


async def test_the_registered_phone_is_warned_by_its_sms_while_the_chat_is_told_nothing_more(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    """Whoever types a registered patient's ID number and phone sees what anyone sees; the
    code SMS, which reaches that phone alone, tells its owner that another account is adding
    them, so that they can refuse to read it out to a caller."""
    registered = id_number(521)
    await register_patient(
        demo, protector, clock, name=OWNER, id_number=registered, phone=REGISTERED_PHONE,
        account=("telegram", "the-owner"), phone_proven=True,
    )  # fmt: skip
    said = {}
    texted = {}
    for user, number, phone in (
        ("s-21", registered, REGISTERED_PHONE),
        ("s-22", id_number(522), "13600000021"),
    ):
        someone = _stranger(demo, nlu, clock, protector, "web", user)
        answers = await someone.say("添加就诊人")
        answers += await someone.say(OWNER)
        answers += await someone.say(number)
        answers += await someone.say(phone)
        said[user] = _neutral(answers, {mask_phone(f"+86{phone}"): "<phone>"})
        [(to, texted[user])] = someone.texted
        assert to == f"+86{phone}"
    assert said["s-21"] == said["s-22"]
    assert "添加为另一个账号的就诊人" in texted["s-21"]
    assert "添加为另一个账号" not in texted["s-22"] and "验证登记就诊人的手机号" in texted["s-22"]
