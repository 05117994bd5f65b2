"""候补 and 停诊 in conversation: a patient who finds a session full joins its line, is sent an
offer when a place frees, books it with one press; "my bookings" shows the line and leaves
it; a stop notice moves the booking with one press."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.appointments.changes import cancel, stop_session
from booking.appointments.waitlist_offers import tend_waitlists
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.notices.dispatcher import NoticeDispatcher
from bot.texts import Texts
from channels.messages import Inbound, Outbound
from nlu.engine import BuiltinNlu
from tests.integration.test_waitlist import fill, wed_afternoon
from tests.support import id_number


@dataclass
class Inbox:
    """What notices each Telegram user was sent."""

    got: dict[str, list[Outbound]] = field(default_factory=dict)

    async def send(self, user_id: str, messages: list[Outbound]) -> None:
        self.got.setdefault(user_id, []).extend(messages)


@dataclass
class Chat:
    engine: DialogueEngine
    clock: FixedClock
    user: str

    async def says(self, text: str) -> Outbound:
        return (await self._send(text=text))[-1]

    async def presses(self, key: str) -> Outbound:
        return (await self._send(choice=key))[-1]

    channel: str = "telegram"

    async def _send(self, **what: str) -> list[Outbound]:
        return await self.engine.handle(
            Inbound(self.channel, self.user, self.clock.now(), **what)  # type: ignore[arg-type]
        )


def setup(
    db: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> tuple[DialogueEngine, NoticeDispatcher, Inbox]:
    conversations = Conversations(db, protector, clock)
    texts = Texts.load()
    engine = DialogueEngine(
        nlu=nlu, conversations=conversations, texts=texts, uows=db, clock=clock,
        protector=protector,
    )  # fmt: skip
    inbox = Inbox()
    dispatcher = NoticeDispatcher(
        db, protector, clock, texts, {"telegram": inbox.send, "sms": inbox.send}, conversations
    )
    return engine, dispatcher, inbox


async def test_a_full_session_is_waited_for_and_the_offer_booked_with_one_press(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    engine, dispatcher, inbox = setup(demo, clock, protector, nlu)
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    for user in ("701", "702"):
        await register(demo, protector, clock, user)

    first = Chat(engine, clock, "701")
    asked = await first.says("挂张伟医生后天下午的号")
    wait = next(c for c in asked.choices if c.key.startswith("waitlist:"))
    assert "约满" in asked.text and wait.key == f"waitlist:{session_id}:00868"
    confirm = await first.presses(wait.key)
    assert "候补" in confirm.text and "30分钟" in confirm.text
    joined = await first.presses("confirm:yes")
    assert "第1位" in joined.text

    second = Chat(engine, clock, "702")
    await second.says("挂张伟医生后天下午的号")
    await second.presses(wait.key)
    assert "第2位" in (await second.presses("confirm:yes")).text
    mine = await second.says("我的预约")
    assert "候补中" in mine.text and "排第2位" in mine.text
    [leave] = [c for c in mine.choices if c.key.startswith("leave:")]
    assert "已退出候补" in (await second.presses(leave.key)).text

    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    assert await dispatcher.run_once() == 1
    [offer] = inbox.got["701"]
    assert "候补有号了" in offer.text and "第1号" in offer.text
    take, let_go = (c.key for c in offer.choices)
    assert take.startswith("notice:take:") and let_go.startswith("notice:pass:")
    listed = await first.says("我的预约")
    assert "保留" in listed.text and listed.choices[0].key == take  # to take from the list too
    booked = await first.presses(take)
    assert "预约成功" in booked.text and "第1号" in booked.text
    assert "已不再为您保留" in (await first.presses(take)).text  # a second press books nothing
    assert "候补中" not in (await first.says("我的预约")).text

    await tend_waitlists(demo, clock)
    assert await dispatcher.run_once() == 0  # nobody else waits: no more offers


async def test_by_sms_the_offer_is_taken_by_answering_its_number(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    engine, dispatcher, inbox = setup(demo, clock, protector, nlu)
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    phone = "+8613812345678"
    await register_patient(
        demo, protector, clock, name="王芳", id_number=id_number(704), phone=phone,
        account=protector.account("sms", phone), phone_proven=True,
    )  # fmt: skip
    chat = Chat(engine, clock, phone, channel="sms")
    await chat.says("挂张伟医生后天下午的号")
    await chat.says("1")  # 候补 …
    assert "第1位" in (await chat.says("1")).text  # 确认
    await chat.says("谢谢")  # the conversation moves on before the offer comes
    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    assert await dispatcher.run_once() == 1
    [offer] = inbox.got[phone]
    assert offer.choices[0].key.startswith("notice:take:")
    assert "预约成功" in (await chat.says("1")).text


async def test_a_stop_notice_moves_the_booking_with_one_press(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    engine, dispatcher, inbox = setup(demo, clock, protector, nlu)
    session_id = await wed_afternoon(demo, clock)
    await register(demo, protector, clock, "703")
    chat = Chat(engine, clock, "703")
    await chat.says("挂张伟医生后天下午的号")
    assert "预约成功" in (await chat.presses("confirm:yes")).text
    await stop_session(demo, clock, session_id, "医生外出会诊")
    assert await dispatcher.run_once() == 1
    [notice] = inbox.got["703"]
    assert "医生外出会诊" in notice.text and "一键改约" in notice.text
    move = notice.choices[0]
    assert move.key.startswith("notice:rebook:") and move.label.startswith("改到")
    moved = await chat.presses(move.key)
    assert "预约成功" in moved.text
    listed = await chat.says("我的预约")
    assert listed.text.count("第") == 1  # one booking, in its new session


async def register(db: Database, protector: Protector, clock: FixedClock, user: str) -> None:
    await register_patient(
        db, protector, clock, name="王芳", id_number=id_number(int(user)),
        phone="13912345678", account=protector.account("telegram", user),
    )  # fmt: skip


async def test_under_a_reminder_the_patient_says_they_will_come(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    engine, dispatcher, inbox = setup(demo, clock, protector, nlu)
    await register(demo, protector, clock, "705")
    chat = Chat(engine, clock, "705")
    await chat.says("挂张伟医生后天下午的号")
    assert "预约成功" in (await chat.presses("confirm:yes")).text
    clock.set(datetime(2026, 11, 24, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert await dispatcher.run_once() == 1
    [reminder] = inbox.got["705"]
    coming = reminder.choices[0]
    assert coming.label == "我会按时到"
    answer = await chat.presses(coming.key)
    assert "按时就诊" in answer.text and "第1号" in answer.text
    other = Chat(engine, clock, "706")  # not another account's booking
    assert "过期" in (await other.presses(coming.key)).text
