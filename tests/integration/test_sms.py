"""SMS through a Twilio-compatible gateway, over real HTTP both ways: the fake gateway
(tests/fakes/sms_gateway.py) posts signed webhooks to our SMS channel, served by uvicorn in the
test's event loop, and takes the replies the channel sends through its REST API. Behind the
channel is the real dialogue engine, NLU and booking domain with the demo hospital (on SQLite,
and on PostgreSQL when its test server is there).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.flood import FloodGate, Refusals
from channels.messages import Choice, Inbound, Outbound
from channels.sms import WEBHOOK_PATH, SmsChannel, phone_number
from channels.sms_gateway import GatewayRefused, GatewayUnavailable, SmsGateway
from channels.sms_text import sms_parts, sms_texts
from nlu.engine import BuiltinNlu
from tests.fakes.sms_gateway import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    GATEWAY_NUMBER,
    FakeSmsGateway,
    GatewayWebhooks,
    Signature,
    running,
)
from tests.support import MONDAY_9AM, demo_catalogue, id_number

Handle = Callable[[Inbound], Awaitable[list[Outbound]]]
PATIENT = "+8613812345678"
PART = re.compile(r"^\((\d+)/(\d+)\) ")

# --- What fits in one SMS, counted here independently of channels.sms_text -------------------

_PLAIN = set(string.ascii_letters + string.digits + " \n\r!\"#%&'()*+,-./:;<=>?@_$")
_DOUBLE = set("^{}\\[]~|€")


def units(text: str) -> tuple[int, int]:
    """(units used, units a segment holds); stricter than GSM-7 for accented letters."""
    if all(char in _PLAIN or char in _DOUBLE for char in text):
        return len(text) + sum(char in _DOUBLE for char in text), 160
    return len(text.encode("utf-16-le")) // 2, 70


def one_segment(text: str) -> bool:
    used, room = units(text)
    return used <= room


def unnumbered(parts: list[str]) -> str:
    """The parts of one reply put together again, without their "(i/n) " marks."""
    if len(parts) == 1:
        return parts[0]
    marks = [PART.match(part) for part in parts]
    assert all(marks), parts
    assert [(m.group(1), m.group(2)) for m in marks if m] == [
        (str(n), str(len(parts))) for n in range(1, len(parts) + 1)
    ]
    return "\n".join(PART.sub("", part) for part in parts)


def squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- Rendering: pure cases -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("请输入就诊人的18位身份证号：", 1),
        ("中" * 70, 1),  # exactly one UCS-2 segment
        ("中" * 71, 2),
        ("a" * 160, 1),  # exactly one GSM-7 segment
        ("a" * 161, 2),
        ("[" * 80, 1),  # extension characters count twice: 160
        ("[" * 81, 2),
        ("€" + "a" * 158, 1),
        ("€" + "a" * 159, 2),
        ("a" * 69 + "中", 1),  # one Chinese character makes the whole SMS UCS-2
        ("a" * 70 + "中", 2),
        ("😀" * 35, 1),  # an emoji takes two UCS-2 units
        ("😀" * 36, 2),
        ("", 0),
    ],
)
def test_an_sms_holds_70_chinese_or_160_plain_characters(text: str, count: int) -> None:
    parts = sms_parts(text)
    assert len(parts) == count
    assert all(one_segment(part) for part in parts)
    if count == 1:
        assert parts == [text]  # a reply that fits is sent as it is, with no mark


def test_choices_become_numbered_lines_cut_between_lines() -> None:
    labels = ["张伟 主任医师 心血管内科", "李娜 副主任医师 心血管内科", "李明 主治医师 心血管内科"]
    labels += ["返回上一步", "不挂了"]
    menu = Outbound(
        "请选择心血管内科的医生：",
        tuple(Choice(f"doctor:{n}", label) for n, label in enumerate(labels)),
    )
    parts = sms_texts(menu)
    assert parts == [
        # 70 characters exactly, with its mark
        "(1/2) 请选择心血管内科的医生：\n1. 张伟 主任医师 心血管内科\n2. 李娜 副主任医师 心血管内科"
        "\n3. 李明 主治医师 心血管内科",
        "(2/2) 4. 返回上一步\n5. 不挂了",
    ]
    assert units(parts[0]) == (70, 70)


def test_a_long_english_line_is_cut_between_words() -> None:
    text = " ".join(["appointment"] * 40)  # 479 characters, no line break
    parts = sms_parts(text)
    assert len(parts) == 4
    assert all(one_segment(part) for part in parts)
    assert all(set(PART.sub("", part).split()) == {"appointment"} for part in parts)


def test_a_very_long_chinese_line_is_cut_at_the_limit_and_numbered_past_nine() -> None:
    text = "预约挂号" * 200  # 800 characters without a break: at least 12 SMS
    parts = sms_parts(text)
    assert len(parts) >= 12
    assert parts[9].startswith(f"(10/{len(parts)}) ")
    assert all(one_segment(part) for part in parts)
    assert squeezed(unnumbered(parts)) == text


def test_an_emoji_is_never_cut_in_half() -> None:
    text = "您好😀" * 60
    parts = sms_parts(text)
    assert all(one_segment(part) for part in parts)
    for part in parts:
        part.encode("utf-16-le")  # a lone half of a surrogate pair could not be encoded
    assert unnumbered(parts).replace("\n", "") == text


@given(
    st.text(
        alphabet=st.sampled_from([*"ab €[中文。，\n", "😀", "é"]),
        max_size=600,
    )
)
def test_every_part_fits_and_nothing_is_lost(text: str) -> None:
    parts = sms_parts(text)
    assert all(one_segment(part) for part in parts)
    assert squeezed(unnumbered(parts) if parts else "") == squeezed(text)


# --- The channel over real HTTP ------------------------------------------------------------


@asynccontextmanager
async def serving_here(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on 127.0.0.1 in this event loop (where the database lives)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                assert not task.done(), "the server did not start"
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listening.close()


class Line:
    """Our SMS channel, served, wired to the fake gateway both ways."""

    def __init__(
        self,
        fake: FakeSmsGateway,
        handle: Handle,
        public_url: str | None = None,
        gate: FloodGate | None = None,
        refusals: Refusals | None = None,
    ) -> None:
        self.fake = fake
        self.gate = gate
        self.refusals = refusals
        self.handed: list[Inbound] = []  # what the bot was given to answer

        async def recorded(inbound: Inbound) -> list[Outbound]:
            self.handed.append(inbound)
            return await handle(inbound)

        self.handle = recorded
        self.public_url = public_url
        self._stack = AsyncExitStack()

    async def open(self) -> None:
        self.gateway = SmsGateway(
            self.fake.url, ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER, attempts=3, backoff=0.05
        )
        self._stack.push_async_callback(self.gateway.aclose)
        self.channel = SmsChannel(
            self.handle,
            self.gateway,
            auth_token=AUTH_TOKEN,
            now=FixedClock(MONDAY_9AM).now,
            public_url=self.public_url,
            gate=self.gate,
            refusals=self.refusals,
        )
        self._stack.push_async_callback(self.channel.stop)
        app = FastAPI()
        app.include_router(self.channel.router())
        self.url = await self._stack.enter_async_context(serving_here(app))
        here = self.url + WEBHOOK_PATH
        self.webhooks = GatewayWebhooks(self.public_url or here, post_to=here)

    async def close(self) -> None:
        await self._stack.aclose()

    async def restart(self) -> None:
        """A new process: the same database, nothing remembered in memory."""
        await self.close()
        await self.open()

    async def say(self, phone: str, text: str, sid: str | None = None) -> list[str]:
        """An SMS from `phone`; the SMS the patient then receives."""
        before = len(self.fake.sent(phone))
        response = await self.webhooks.deliver(phone, text, sid)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text.endswith("<Response></Response>")
        assert await self.channel.drain(30)
        return self.fake.sent(phone)[before:]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSmsGateway]:
    with running(FakeSmsGateway()) as gateway:
        yield gateway


@pytest.fixture
async def line(
    fake: FakeSmsGateway, demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> AsyncIterator[Line]:
    fake.reset()
    engine = DialogueEngine(
        nlu=nlu,
        conversations=Conversations(demo, protector, clock),
        texts=Texts.load(),
        uows=demo,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
    )
    served = Line(fake, engine.handle)
    await served.open()
    yield served
    await served.close()


def transport_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What the SMS channel and the HTTP layers under it logged (the database driver's own
    debug log of SQL parameters is another matter)."""
    layers = {"channels", "httpx", "httpcore", "uvicorn"}
    return "\n".join(
        record.getMessage() for record in caplog.records if record.name.split(".")[0] in layers
    )


def numbered_as(sms: list[str], label: str) -> str:
    """The number to reply to pick the choice shown as `label`."""
    for text in sms:
        for line in PART.sub("", text).splitlines():
            found = re.match(r"^(\d+)\. (.*)$", line)
            if found and label in found.group(2):
                return found.group(1)
    raise AssertionError(f"{label!r} not offered in {sms!r}")


async def register_the_rest(line: Line) -> list[str]:
    """The ID number, and the phone number if the bot asks for one (the sender's number may
    be taken as the patient's); the SMS that follow."""
    sms = await line.say(PATIENT, "11010519491231002X")
    if "手机" in "".join(sms):
        sms = await line.say(PATIENT, "13812345678")
    return sms


async def active_bookings(db: Database, protector: Protector, phone: str) -> int:
    views = await my_bookings(db, *protector.account("sms", phone))
    return sum(1 for view in views if view.status == AppointmentStatus.BOOKED)


async def test_a_newcomer_books_step_by_step_with_numbered_replies(
    line: Line, demo: Database, protector: Protector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    menu = await line.say(PATIENT, "你好")
    sms = await line.say(PATIENT, numbered_as(menu, "预约挂号"))
    sms = await line.say(PATIENT, numbered_as(sms, "心血管内科"))
    sms = await line.say(PATIENT, numbered_as(sms, "张伟"))
    sms = await line.say(PATIENT, numbered_as(sms, "2026-11-25 周三 下午"))
    assert "姓名" in sms[-1]
    assert "身份证" in (await line.say(PATIENT, "张三"))[-1]
    sms = await register_the_rest(line)
    assert "1101**********002X" in "".join(sms)  # the ID number is shown masked
    done = await line.say(PATIENT, numbered_as(sms, "确认预约"))
    assert "预约成功" in done[0]
    assert re.search(r"预约号 ?\d{10,}", unnumbered(done))
    assert await active_bookings(demo, protector, PATIENT) == 1

    every = line.fake.messages()
    assert every and all(one_segment(sms.body) for sms in every)
    assert {sms.sender for sms in every} == {GATEWAY_NUMBER}
    # Personal data stays out of the logs: no phone number, ID number or typed text.
    for secret in ("13812345678", "11010519491231002X", "张三", "预约成功"):
        assert secret not in transport_logs(caplog)


async def test_a_patient_learns_a_work_number_by_sms_and_books_again_with_the_line_sent_back(
    line: Line, demo: Database, clock: FixedClock, protector: Protector
) -> None:
    """The seed's GHDH command needs the doctor's work number: the duty answer and the
    receipt show it, and the receipt ends with a whole GHDH line (in one SMS) that books the
    same doctor a week later when sent back as it is."""
    await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(101), phone="13812345678",
        account=protector.account("sms", PATIENT),
    )  # fmt: skip
    duty = unnumbered(await line.say(PATIENT, "张伟医生什么时候出诊"))
    assert "张伟（工号00868）" in duty
    wrong = unnumbered(await line.say(PATIENT, "GHDH00886,11230800,张三"))
    assert "医生工号不对" in wrong and "可查工号" in wrong

    done = await line.say(PATIENT, "GHDH00868,11230800,张三")  # today, 08:00 on
    assert "预约成功" in done[0] and "张伟（工号00868）" in squeezed(unnumbered(done))
    [again] = [PART.sub("", sms) for sms in done if "GHDH" in sms]
    command = again.rsplit("：", 1)[1]
    assert command == "GHDH00868,11300800,张三"  # the same doctor and time, a week later
    later = await line.say(PATIENT, command)
    assert "预约成功" in later[0] and "2026-11-30" in unnumbered(later)
    assert await active_bookings(demo, protector, PATIENT) == 2
    assert all(one_segment(sms.body) for sms in line.fake.messages())


async def test_huge_or_junk_messages_get_a_polite_answer(line: Line) -> None:
    for body in ["x" * 100_000, "好" * 200_000, "\x00\x1b[31m\ufffd\x7f", "   ", "😀" * 1000]:
        sms = await line.say(PATIENT, body)
        assert sms and all(one_segment(text) for text in sms)
        whole = unnumbered(sms)
        # What the bot can do, to reply with a number; what was typed is not echoed back.
        assert "\n1. " in whole and ("预约挂号" in whole or "Book an appointment" in whole)
        assert not body.strip() or body.strip()[:10] not in whole
    assert [len(inbound.text or "") for inbound in line.handed[:2]] == [100_000, 200_000]


async def test_an_sms_delivered_twice_books_once(
    line: Line, demo: Database, protector: Protector
) -> None:
    await line.say(PATIENT, "帮我挂后天下午心内科张伟医生的号")
    await line.say(PATIENT, "张三")
    sms = await register_the_rest(line)
    confirm = numbered_as(sms, "确认预约")
    done = await line.say(PATIENT, confirm, sid="SM-confirm-1")
    assert "预约成功" in done[0]
    assert await line.say(PATIENT, confirm, sid="SM-confirm-1") == []  # no second SMS
    await line.restart()  # the gateway delivers it again to a restarted process
    assert await line.say(PATIENT, confirm, sid="SM-confirm-1") == []  # still no second SMS
    assert await active_bookings(demo, protector, PATIENT) == 1
    assert [inbound.message_id for inbound in line.handed].count("SM-confirm-1") == 2


async def test_a_long_reply_arrives_in_numbered_parts_and_a_number_picks(line: Line) -> None:
    sms = await line.say(PATIENT, "张伟医生什么时候出诊")
    assert len(sms) >= 2
    marks = [found.group(0) if (found := PART.match(text)) else "" for text in sms]
    assert marks == [f"({n}/{len(sms)}) " for n in range(1, len(sms) + 1)]
    assert all(one_segment(text) for text in sms)
    whole = unnumbered(sms)
    assert "主任医师" in whole and "2026-11-30" in whole  # the last session is not lost
    picked = await line.say(PATIENT, numbered_as(sms, "2026-11-25"))
    assert "姓名" in picked[-1]  # the 2026-11-25 session is being booked: who is the patient?


async def test_english_replies_are_sent_with_the_160_character_alphabet(line: Line) -> None:
    sms = await line.say("+447700900123", "hello")
    assert len(sms) == 2  # 268 characters: four SMS if sent as Chinese ones are
    assert all(one_segment(text) and len(text) > 70 for text in sms)
    assert "Book an appointment" in unnumbered(sms)
    assert line.fake.sent(PATIENT) == []


# --- The channel's own promises, with a scripted bot ---------------------------------------


async def answer_in_a_moment(inbound: Inbound) -> list[Outbound]:
    await asyncio.sleep(0.4 if inbound.text == "first" else 0.0)
    return [Outbound(f"got {inbound.text}")]


@asynccontextmanager
async def scripted(
    fake: FakeSmsGateway,
    public_url: str | None = None,
    gate: FloodGate | None = None,
    refusals: Refusals | None = None,
) -> AsyncIterator[Line]:
    fake.reset()
    served = Line(fake, answer_in_a_moment, public_url, gate, refusals)
    await served.open()
    try:
        yield served
    finally:
        await served.close()


@pytest.fixture
async def bare(fake: FakeSmsGateway) -> AsyncIterator[Line]:
    async with scripted(fake) as served:
        yield served


@pytest.mark.parametrize("signature", ["missing", "wrong token", "tampered"])
async def test_a_webhook_not_signed_by_the_gateway_is_refused(
    bare: Line, signature: Signature
) -> None:
    form = bare.webhooks.form(PATIENT, "你好")
    response = await bare.webhooks.post(form, signature)
    assert response.status_code == 403
    assert await bare.channel.drain(5)
    assert bare.handed == [] and bare.fake.sent() == []
    # Nothing was taken in: the same message, genuinely signed, is answered.
    assert await bare.say(PATIENT, "你好", sid=form["MessageSid"]) == ["got 你好"]


async def post_unread(url: str, length: int) -> bytes:
    """Headers announcing `length` bytes of form and none of them sent: what the server
    answers without reading the body (b"" when it waits for it)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "X-Twilio-Signature: Zm9yZ2Vk\r\n\r\n".encode()
    )
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(200), timeout=5)
    except TimeoutError:
        return b""
    finally:
        writer.close()


async def test_posts_not_signed_are_limited_per_address_and_logged_counted(
    fake: FakeSmsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """200 unsigned posts from one address: past the limit they are answered 429 before their
    body is read, and the log has a few counted lines, not one a post."""
    caplog.set_level(logging.INFO)
    async with scripted(fake, refusals=Refusals("5/minute")) as line:
        form = line.webhooks.form(PATIENT, "你好")
        answers = [await line.webhooks.post(form, "missing") for _ in range(200)]
        assert [a.status_code for a in answers[:6]] == [403] * 5 + [429]
        assert {a.status_code for a in answers[6:]} == {429}
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61
        # Held back: a wrongly signed 1.9 MB post is answered before a byte of it is sent.
        assert (await post_unread(line.url, 1_900_000)).startswith(b"HTTP/1.1 429")
        assert line.handed == [] and line.fake.sent() == []
    lines = [r for r in caplog.records if r.name == "channels.sms" and r.levelno >= logging.WARNING]
    assert 1 <= len(lines) <= 4, [r.getMessage() for r in lines]
    assert all(PATIENT not in r.getMessage() for r in lines)


async def test_the_gateway_is_heard_from_an_address_held_back_by_others(
    fake: FakeSmsGateway,
) -> None:
    """The gateway posts from addresses it shares with its other customers: someone sending
    forged posts from there must not stop patients' SMS."""
    async with scripted(fake, refusals=Refusals("5/minute")) as line:
        forged = line.webhooks.form(PATIENT, "你好")
        answers = [await line.webhooks.post(forged, "wrong token") for _ in range(8)]
        assert [a.status_code for a in answers] == [403] * 5 + [429] * 3
        assert await line.say(PATIENT, "你好") == ["got 你好"]
        # Held, the address is still refused anything else, and large posts unread.
        assert (await line.webhooks.post(forged, "missing")).status_code == 429
        assert (await line.webhooks.post(forged, "wrong token")).status_code == 429
        assert (await post_unread(line.url, 1_900_000)).startswith(b"HTTP/1.1 429")


@pytest.mark.parametrize(
    ("field", "value"),
    [("From", None), ("Body", None), ("MessageSid", None), ("From", "not a number")],
)
async def test_a_signed_post_that_is_not_an_sms_is_a_bad_request(
    bare: Line, field: str, value: str | None
) -> None:
    form = bare.webhooks.form(PATIENT, "你好")
    if value is None:
        del form[field]
    else:
        form[field] = value
    assert (await bare.webhooks.post(form)).status_code == 400
    assert bare.handed == [] and bare.fake.sent() == []


async def test_a_post_too_large_for_any_sms_is_refused(bare: Line) -> None:
    form = bare.webhooks.form(PATIENT, "好" * 300_000)  # 2.7 MB percent-encoded
    assert (await bare.webhooks.post(form)).status_code == 413
    assert bare.handed == []


async def test_the_patient_is_known_by_the_number_and_each_sms_by_its_sid(bare: Line) -> None:
    await bare.say("+86 138 1234 5678", "你好", sid="SM-first")
    [inbound] = bare.handed
    assert (inbound.channel, inbound.user_id, inbound.text) == ("sms", PATIENT, "你好")
    assert inbound.message_id == "SM-first" and inbound.received_at == MONDAY_9AM
    assert bare.fake.sent(PATIENT) == ["got 你好"]


async def test_a_busy_or_failing_gateway_is_tried_again(
    bare: Line, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bare.fake.fail_next(1, 429, retry_after="1")
    bare.fake.fail_next(1, 500)
    assert await bare.say(PATIENT, "你好") == ["got 你好"]
    attempts = bare.fake.attempts()
    assert [a.status for a in attempts] == [429, 500, 201]
    assert attempts[1].at - attempts[0].at >= 0.9  # it waited as long as the gateway asked
    assert "13812345678" not in transport_logs(caplog)
    assert "你好" not in transport_logs(caplog)


async def test_while_the_gateway_is_down_later_messages_are_still_answered(bare: Line) -> None:
    bare.fake.fail_next(3, 503)  # every attempt at the first reply
    assert await bare.say(PATIENT, "first") == []
    assert [a.status for a in bare.fake.attempts()] == [503] * 3  # a bounded number of tries
    assert await bare.say(PATIENT, "second") == ["got second"]


async def test_an_unreachable_gateway_is_tried_a_few_times_then_reported() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"  # nobody listens there
    gateway = SmsGateway(nowhere, ACCOUNT_SID, AUTH_TOKEN, GATEWAY_NUMBER, backoff=0.01)
    try:
        with pytest.raises(GatewayUnavailable, match="4 attempts"):
            await gateway.send_sms(PATIENT, "您预约的门诊已停诊。")
    finally:
        await gateway.aclose()


async def test_a_refused_sms_is_not_retried_and_the_error_names_no_number(bare: Line) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await bare.channel.send("12345", [Outbound("您预约的门诊已停诊。")])
    assert refused.value.status == 400 and refused.value.code == 21211
    assert "12345" not in str(refused.value)
    assert len(bare.fake.attempts()) == 1
    with pytest.raises(ValueError, match="not a phone number"):
        await bare.channel.send("patient-1", [Outbound("您预约的门诊已停诊。")])


async def test_a_notice_outside_any_conversation_goes_out_in_parts(bare: Line) -> None:
    notice = Outbound(
        "停诊通知：您预约的2026-11-25 周三 下午 心血管内科 张伟医生门诊因故停诊，"
        "预约号26112578230418已取消，费用将原路退回。如需改约，请回复1。"
    )
    await bare.channel.send("+86 138-1234-5678", [notice])
    sms = bare.fake.sent(PATIENT)  # sent to the number written one way
    assert len(sms) == 2 and all(one_segment(text) for text in sms)
    assert squeezed(unnumbered(sms)) == squeezed(notice.text)


async def test_one_senders_sms_are_answered_in_order_others_alongside(bare: Line) -> None:
    for text in ("first", "second", "third"):
        response = await bare.webhooks.deliver(PATIENT, text)
        assert response.status_code == 200  # at once, before the slow first is answered
    await bare.webhooks.deliver("+8613900000000", "hello")
    assert await bare.channel.drain(10)
    assert bare.fake.sent(PATIENT) == ["got first", "got second", "got third"]
    order = [sms.body for sms in bare.fake.messages()]
    assert order.index("got hello") < order.index("got first")


async def test_behind_a_proxy_the_configured_public_url_is_what_is_signed(
    fake: FakeSmsGateway,
) -> None:
    public = "https://guahao.example.org/webhooks/sms"
    async with scripted(fake, public_url=public) as line:
        here = line.url + WEBHOOK_PATH
        signed_for_here = GatewayWebhooks(here)
        assert (await signed_for_here.deliver(PATIENT, "hello")).status_code == 403
        through_proxy = GatewayWebhooks(public, post_to=here)
        assert (await through_proxy.deliver(PATIENT, "hello")).status_code == 200
        assert await line.channel.drain(5)
    assert fake.sent(PATIENT) == ["got hello"]


async def test_stopping_finishes_what_was_taken_in_and_takes_nothing_more(bare: Line) -> None:
    await bare.webhooks.deliver(PATIENT, "first")
    await bare.channel.stop(grace=5)
    assert bare.fake.sent(PATIENT) == ["got first"]
    assert (await bare.webhooks.deliver(PATIENT, "second")).status_code == 503


async def test_a_number_sending_too_fast_is_not_answered_beyond_its_limit(
    fake: FakeSmsGateway,
) -> None:
    async with scripted(fake, gate=FloodGate(per_chat="3/minute")) as line:
        for n in range(5):
            assert (await line.webhooks.deliver(PATIENT, f"m{n}")).status_code == 200
        await line.webhooks.deliver("+8613900000000", "hello")
        assert await line.channel.drain(5)
    assert fake.sent(PATIENT) == ["got m0", "got m1", "got m2"]  # each answer costs money
    assert fake.sent("+8613900000000") == ["got hello"]


def test_phone_numbers_are_written_one_way() -> None:
    assert phone_number("+86 138 1234 5678") == PATIENT
    assert phone_number("0086-138-1234-5678") == PATIENT
    assert phone_number("+44 (7700) 900123") == "+447700900123"
    assert phone_number("patient-1") is None
    assert phone_number("") is None
