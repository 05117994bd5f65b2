"""The Telegram channel through the real python-telegram-bot against a local fake Bot API
server (tests/fakes/bot_api.py): patients type and press inline buttons, by long polling and
by webhook into our own FastAPI app, with the real dialogue engine where booking matters."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Choice, Inbound, Outbound
from channels.telegram import APOLOGY, Pacing, Rate, StaffPress, TelegramChannel
from nlu.engine import BuiltinNlu
from tests.fakes.bot_api import FakeBotApi, Sent, free_port, running_bot_api
from tests.support import MONDAY_9AM, demo_catalogue, id_number

SECRET = "webhook-secret-token-0123456789"
Handle = Callable[[Inbound], Awaitable[list[Outbound]]]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_bot_api() as fake:
        yield fake


@pytest.fixture
def texted() -> list[tuple[str, str]]:
    """The SMS the bot sent (one-time codes): (phone, text)."""
    return []


@pytest.fixture
def engine(
    demo: Database,
    clock: FixedClock,
    protector: Protector,
    nlu: BuiltinNlu,
    texted: list[tuple[str, str]],
) -> DialogueEngine:
    async def text(phone: str, message: str) -> None:
        texted.append((phone, message))

    return DialogueEngine(
        nlu=nlu,
        conversations=Conversations(demo, protector, clock),
        texts=Texts.load(),
        uows=demo,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
        texting=text,
    )


def quick() -> Pacing:
    """Telegram's limits, but a private chat's second short enough for quick tests."""
    return Pacing(per_private_chat=Rate(1, 0.05))


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[None]:
    """Our app on 127.0.0.1, in this event loop, as bot/app.py runs beside the channel."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "our app did not start"
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running(
    api: FakeBotApi, handle: Handle, *, webhook: bool = False, **options: Any
) -> AsyncIterator[TelegramChannel]:
    options.setdefault("pacing", quick())
    options.setdefault("now", lambda: MONDAY_9AM)
    if not webhook:
        channel = TelegramChannel(
            api.token, handle, base_url=api.base_url, poll_timeout=1, **options
        )
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()
        return
    port = free_port()
    channel = TelegramChannel(
        api.token, handle, base_url=api.base_url, webhook_secret=SECRET,
        webhook_url=f"http://127.0.0.1:{port}/webhooks/telegram", **options,
    )  # fmt: skip
    app = FastAPI()
    app.include_router(channel.router())
    async with serving(app, port):
        await channel.start()
        try:
            yield channel
        finally:
            await channel.stop()


async def until(condition: Callable[[], bool], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        await asyncio.sleep(0.02)


class Recorder:
    """Between the channel and the dialogue: what reached the dialogue, and its replies."""

    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        self.inbound: list[Inbound] = []
        self.answered: dict[str, int] = {}  # message_id -> number of replies

    async def __call__(self, inbound: Inbound) -> list[Outbound]:
        self.inbound.append(inbound)
        replies = await self._handle(inbound)
        self.answered[str(inbound.message_id)] = len(replies)
        return replies


class Patient:
    """Someone in a private chat with the bot: each step returns the bot's new messages."""

    def __init__(self, api: FakeBotApi, recorder: Recorder, chat_id: int) -> None:
        self.api, self.recorder, self.chat_id = api, recorder, chat_id

    async def says(self, text: str) -> list[Sent]:
        return await self._answer(lambda: self.api.user_says(self.chat_id, text))

    async def presses(self, key: str, on: Sent | None = None) -> list[Sent]:
        """Press the button of the latest message offering it (or of message `on`)."""
        if on is None:
            on = next(m for m in reversed(self.api.sent(self.chat_id)) if key in m.keys)
        return await self._answer(lambda: self.api.user_presses(self.chat_id, key, on.message_id))

    async def _answer(self, act: Callable[[], int]) -> list[Sent]:
        before = len(self.api.sent(self.chat_id))
        message_id = f"update:{act()}"
        await until(lambda: message_id in self.recorder.answered)
        found = await self.api.wait_sent(self.chat_id, before + self.recorder.answered[message_id])
        return found[before:]


def keys(messages: list[Sent]) -> list[str]:
    return [key for message in messages for key in message.keys]


async def active_bookings(db: Database, protector: Protector, chat_id: int) -> int:
    views = await my_bookings(db, *protector.account("telegram", str(chat_id)))
    return sum(1 for view in views if view.status == AppointmentStatus.BOOKED)


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_newcomer_books_sees_and_cancels_by_typing_and_pressing(
    api: FakeBotApi,
    engine: DialogueEngine,
    clock: FixedClock,
    protector: Protector,
    demo: Database,
    webhook: bool,
    texted: list[tuple[str, str]],
) -> None:
    recorder = Recorder(engine.handle)
    patient = Patient(api, recorder, 1001)
    async with running(api, recorder, webhook=webhook, now=clock.now):
        assert "intent:book" in keys(await patient.says("/start"))
        assert "姓名" in (await patient.says("帮我挂后天下午心内科张伟医生的号"))[-1].text
        await patient.says("张三")
        await patient.says("11010519491231002X")
        asked = (await patient.says("13812345678"))[-1]
        assert "138****5678" in asked.text and "code:again" in asked.keys
        [(phone, sms)] = texted  # the phone is proven by the code sent to it
        assert phone == "+8613812345678"
        offer = (await patient.says(re.findall(r"\d{6}", sms)[0]))[-1]
        assert "2026-11-25" in offer.text and "confirm:yes" in offer.keys
        done = await patient.presses("confirm:yes")
        assert "预约成功" in done[-1].text
        assert next(m for m in api.sent(1001) if m.message_id == offer.message_id).keys == []
        assert api.answers  # the pressed button stopped spinning
        mine = await patient.says("/my")
        assert mine[-1].text.count("2026-11-25") == 1
        ask = await patient.says("/cancel")
        assert "confirm:yes" in keys(ask)
        assert "已退号" in (await patient.presses("confirm:yes"))[-1].text
        assert "还没有" in (await patient.says("/my"))[-1].text
    assert await active_bookings(demo, protector, 1001) == 0
    assert set(api.webhook_answers) <= {200}
    assert len(api.webhook_answers) == (len(recorder.inbound) if webhook else 0)


async def test_an_old_button_pressed_again_books_nothing_twice(
    api: FakeBotApi,
    engine: DialogueEngine,
    clock: FixedClock,
    protector: Protector,
    demo: Database,
) -> None:
    await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(7), phone="13812345678",
        account=protector.account("telegram", "1002"),
    )  # fmt: skip
    recorder = Recorder(engine.handle)
    patient = Patient(api, recorder, 1002)
    async with running(api, recorder, now=clock.now):
        offer = (await patient.says("帮我挂后天下午心内科张伟医生的号"))[-1]
        assert "confirm:yes" in offer.keys
        assert "预约成功" in (await patient.presses("confirm:yes"))[-1].text
        again = await patient.presses("confirm:yes", on=offer)
        assert "过期" in again[-1].text
    assert await active_bookings(demo, protector, 1002) == 1


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_an_update_delivered_again_after_a_restart_is_not_answered_again(
    api: FakeBotApi,
    clock: FixedClock,
    protector: Protector,
    demo: Database,
    nlu: BuiltinNlu,
    webhook: bool,
) -> None:
    await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(8), phone="13812345678",
        account=protector.account("telegram", "1003"),
    )  # fmt: skip

    def new_bot() -> Recorder:  # a new process: only the database is shared
        return Recorder(
            DialogueEngine(
                nlu=nlu, conversations=Conversations(demo, protector, clock), texts=Texts.load(),
                uows=demo, clock=clock, protector=protector, triage=demo_catalogue().triage,
            ).handle
        )  # fmt: skip

    first = new_bot()
    patient = Patient(api, first, 1003)
    async with running(api, first, webhook=webhook, now=clock.now):
        assert "confirm:yes" in (await patient.says("帮我挂后天下午心内科张伟医生的号"))[-1].keys
        assert "预约成功" in (await patient.presses("confirm:yes"))[-1].text
    press = int(str(first.inbound[-1].message_id).removeprefix("update:"))
    before = len(api.sent(1003))
    restarted = new_bot()
    patient = Patient(api, restarted, 1003)
    async with running(api, restarted, webhook=webhook, now=clock.now):
        api.deliver_again(press)  # Telegram never heard that the press was taken
        thanks = await patient.says("谢谢")  # answered after the repeat: one chat in order
    assert [m.text for m in api.sent(1003)[before:]] == [m.text for m in thanks]
    assert len(thanks) == 1 and "预约成功" not in thanks[0].text
    assert restarted.inbound[0].message_id == f"update:{press}"  # the repeat reached the bot
    assert await active_bookings(demo, protector, 1003) == 1


async def test_a_forged_webhook_is_refused_and_nothing_is_handled(api: FakeBotApi) -> None:
    recorder = Recorder(echo)
    async with running(api, recorder, webhook=True):
        forged = api.message_update(7, "退号")
        assert await api.post_to_webhook(forged, secret="wrong-secret-0123456789") == 403
        assert await api.post_to_webhook(forged, secret=None) == 403
        assert await api.post_to_webhook(b"{not json", secret=SECRET) == 400
        assert await api.post_to_webhook(b"[1, 2]", secret=SECRET) == 400
        assert await api.post_to_webhook({"update_id": "x"}, secret=SECRET) == 400
        real = api.message_update(7, "你好")
        assert await api.post_to_webhook(real, secret=SECRET) == 200
        await api.wait_sent(7, 1)
    assert [inbound.text for inbound in recorder.inbound] == ["你好"]


async def echo(inbound: Inbound) -> list[Outbound]:
    return [Outbound(f"收到 {inbound.text or inbound.choice}")]


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_an_update_delivered_twice_is_answered_once(api: FakeBotApi, webhook: bool) -> None:
    recorder = Recorder(echo)
    async with running(api, recorder, webhook=webhook):
        first = api.user_says(8, "挂号")
        await api.wait_sent(8, 1)
        api.deliver_again(first)
        api.user_says(8, "谢谢")  # handled after the repeat: one chat's updates keep their order
        await api.wait_sent(8, 2)
    assert [inbound.text for inbound in recorder.inbound] == ["挂号", "谢谢"]
    assert [m.text for m in api.sent(8)] == ["收到 挂号", "收到 谢谢"]


# python-telegram-bot itself warns of a type change it plans for retry_after.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_reply_told_to_wait_arrives_after_the_wait(api: FakeBotApi) -> None:
    async with running(api, echo):
        api.fail_next("sendMessage", times=1, retry_after=1)
        asked = time.monotonic()
        api.user_says(9, "你好")
        sent = await api.wait_sent(9, 1)
    assert sent[0].at - asked >= 0.9
    assert len(api.sent(9)) == 1


async def test_messages_to_one_chat_are_a_second_apart(api: FakeBotApi) -> None:
    async def five(inbound: Inbound) -> list[Outbound]:
        return [Outbound(f"第{n}条") for n in range(1, 6)]

    async with running(api, five, pacing=Pacing()):  # Telegram's own limits
        api.user_says(10, "你好")
        sent = await api.wait_sent(10, 5)
    assert [m.text for m in sent] == [f"第{n}条" for n in range(1, 6)]
    assert all(b.at - a.at >= 0.9 for a, b in itertools.pairwise(sent))


async def test_a_burst_of_notices_keeps_to_the_bots_and_the_groups_limits(api: FakeBotApi) -> None:
    pacing = Pacing(per_bot=Rate(5, 0.5), per_group=Rate(2, 0.6))
    async with running(api, echo, pacing=pacing) as channel:
        chats = [str(2000 + n) for n in range(15)] + ["-100777"] * 3
        await asyncio.gather(*(channel.send(chat, [Outbound("明天请按时就诊")]) for chat in chats))
    times = sorted(m.at for m in api.all_sent())
    assert len(times) == 18
    assert all(later - first >= 0.45 for first, later in zip(times, times[5:], strict=False))
    group = [m.at for m in api.sent(-100777)]
    assert group[2] - group[0] >= 0.55


async def test_a_long_reply_comes_in_pieces_telegram_accepts(api: FakeBotApi) -> None:
    lines = "\n".join(f"第{n:04d}行：张伟 主任医师 心血管内科" for n in range(500))
    faces = "😀" * 5000  # one line of 10,000 UTF-16 code units: cut between characters

    async def long(inbound: Inbound) -> list[Outbound]:
        return [Outbound(lines), Outbound(faces, (Choice("intent:book", "预约挂号"),))]

    async with running(api, long):
        api.user_says(11, "你好")
        await until(lambda: "".join(m.text for m in api.sent(11)).endswith(faces))
    sent = api.sent(11)
    assert len(lines) > 10_000 and all(len(m.text.encode("utf-16-le")) <= 8192 for m in sent)
    text_pieces = [m.text for m in sent if not m.text.startswith("😀")]
    assert "\n".join(text_pieces) == lines  # cut at line breaks only
    assert "".join(m.text for m in sent if m.text.startswith("😀")) == faces
    assert [bool(m.keys) for m in sent][-1] and not any(m.keys for m in sent[:-1])


async def test_commands_are_registered_in_chinese_and_english(api: FakeBotApi) -> None:
    async with running(api, echo):
        pass
    for language in ("zh", ""):
        names = [command["command"] for command in api.commands[language]]
        assert names == ["start", "book", "my", "cancel", "help", "lang"]
    assert api.commands["zh"][1]["description"] == "预约挂号"


async def test_what_the_dialogue_gets_from_a_message_and_a_press(api: FakeBotApi) -> None:
    long_key = "session:" + "9" * 80  # more than Telegram carries back from a button

    async def offer(inbound: Inbound) -> list[Outbound]:
        return [Outbound("请选择", (Choice(long_key, "周三下午"),))]

    recorder = Recorder(offer)
    async with running(api, recorder):
        patient = Patient(api, recorder, 12)
        await patient.says("/start CARD")
        api.user_says(12, "hello", language_code="en-US")
        api.user_says(12, "bonjour", language_code="fr")
        await api.wait_sent(12, 3)
        pressed = await patient.presses(api.sent(12)[-1].keys[0])
        await patient.presses("~a-token-this-process-never-made", on=pressed[-1])
    first, english, french, press, stale = recorder.inbound
    assert (first.text, first.channel, first.user_id) == ("/start CARD", "telegram", "12")
    assert first.received_at == MONDAY_9AM and first.message_id and first.language_hint == "zh"
    assert english.language_hint == "en" and french.language_hint is None
    assert press.choice == long_key and press.text is None
    assert stale.choice == "expired"  # the dialogue answers that the choice has expired
    assert all(len(key.encode()) <= 64 for m in api.sent(12) for key in m.keys)


async def test_one_chat_in_order_while_another_goes_ahead(api: FakeBotApi) -> None:
    async def slow_first(inbound: Inbound) -> list[Outbound]:
        if inbound.text == "A1":
            await asyncio.sleep(0.8)
        return [Outbound(f"re {inbound.text}")]

    async with running(api, slow_first):
        api.user_says(21, "A1")
        api.user_says(21, "A2")
        await asyncio.sleep(0.1)
        api.user_says(22, "B1")
        await api.wait_sent(21, 2)
    assert [m.text for m in api.sent(21)] == ["re A1", "re A2"]
    assert api.sent(22)[0].at < api.sent(21)[0].at


async def test_a_failing_dialogue_gets_an_apology_and_the_bot_goes_on(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def fragile(inbound: Inbound) -> list[Outbound]:
        if inbound.text == "身份证11010519491231002X":
            raise RuntimeError(f"cannot read {inbound.text}")
        return [Outbound("好的")]

    caplog.set_level(logging.DEBUG, logger="channels")
    async with running(api, fragile):
        api.user_says(30, "身份证11010519491231002X")
        api.user_says(30, "你好")
        await api.wait_sent(30, 2)
    assert [m.text for m in api.sent(30)] == [APOLOGY, "好的"]
    ours = [r for r in caplog.records if r.name.startswith("channels")]
    assert any(r.levelno == logging.ERROR for r in ours)  # the failure is logged…
    assert not any("11010519491231002X" in r.getMessage() for r in ours)  # …not what was typed


async def test_staff_buttons_in_a_group_and_other_group_messages(api: FakeBotApi) -> None:
    presses: list[StaffPress] = []

    async def on_staff(press: StaffPress) -> str | None:
        presses.append(press)
        return "已受理"

    recorder = Recorder(echo)
    async with running(api, recorder, on_staff=on_staff) as channel:
        await channel.send("-100555", [Outbound("新投诉", (Choice("staff:accept:C1", "受理"),))])
        notice = (await api.wait_sent(-100555, 1))[0]
        api.user_says(-100555, "大家好", user_id=77)  # staff chatting: not a patient
        api.user_presses(-100555, "intent:book", notice.message_id, user_id=77)
        api.user_presses(-100555, "staff:accept:C1", notice.message_id, user_id=77)
        await until(lambda: any(a.get("text") == "已受理" for a in api.answers))
        await channel.edit_keyboard("-100555", notice.message_id, [])
    assert presses == [StaffPress("-100555", "77", "王护士", "staff:accept:C1", notice.message_id)]
    assert recorder.inbound == [] and len(api.sent(-100555)) == 1
    assert api.sent(-100555)[0].keys == []
