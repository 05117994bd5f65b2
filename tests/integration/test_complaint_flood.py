"""Issue 15: complaints cannot bury one another in the staff group, and the numbers in them stay
out of it.

Through the web chat's real HTTP route (which knows the client's address), the dialogue and
the staff desk posting to a recorded staff group: one chat account, and one network address,
may file so many complaints an hour; the next is refused with a sentence that points to the
hospital's phone, nothing of it reaches the group, and an hour later one is taken again. By
SMS the phone is the account. ID and phone numbers a patient writes are masked in the group,
kept whole in the record that the back office shows.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from booking.clock import FixedClock
from booking.complaints.model import ComplaintCaps
from booking.protect import Protector
from booking.store import Database
from bot.complaints.staff_chats import StaffDesk
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound
from channels.webchat import webchat_router
from nlu.engine import BuiltinNlu
from tests.integration.test_staff import ROOMS, Chats
from tests.support import chat_id, demo_catalogue

CAPS = ComplaintCaps(per_account=3, per_address=5)
REFUSED = Texts.load().say("zh", "refusal.too_many_complaints")


def _engine(
    db: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector, chats: Chats
) -> DialogueEngine:
    desk = StaffDesk(db, protector, clock, Texts.load(), chats.post, chats.tell, ROOMS)
    return DialogueEngine(
        nlu=nlu,
        conversations=Conversations(db, protector, clock),
        texts=Texts.load(),
        uows=db,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
        complaint_filed=desk.complaint_filed,
        complaint_caps=CAPS,
    )


@asynccontextmanager
async def web_chat(
    engine: DialogueEngine, clock: FixedClock, address: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(webchat_router(engine.handle, clock.now))
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as client:
        yield client


class Patient:
    def __init__(self, client: httpx.AsyncClient, session: str) -> None:
        self.client, self.session, self.sent = client, chat_id(session), 0

    async def say(self, text: str | None = None, choice: str | None = None) -> list[str]:
        self.sent += 1
        body = {"session": self.session, "id": f"{self.session}-{self.sent}"}
        body |= {"text": text} if text is not None else {"choice": choice}
        answer = await self.client.post("/api/webchat/messages", json=body)
        assert answer.status_code == 200, answer.text
        return [reply["text"] for reply in answer.json()["replies"]]

    async def complain(self, words: str) -> str:
        await self.say("我要投诉")
        await self.say(choice="category:waiting")
        return "\n".join(await self.say(words))


async def test_one_account_may_file_so_many_complaints_an_hour_then_is_told_to_call(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    chats = Chats()
    engine = _engine(demo, nlu, clock, protector, chats)
    async with web_chat(engine, clock, "203.0.113.7") as client:
        patient = Patient(client, "flooding-session-1")
        for n in range(CAPS.per_account):
            assert "TS26" in await patient.complain(f"第{n}次：心内科等了三个小时")
        assert len(chats.posts) == CAPS.per_account
        answer = await patient.complain("第四次：还是没人管")
        assert REFUSED in answer and "TS26" not in answer
        assert "致电医院" in REFUSED  # the way that is always open
        assert len(chats.posts) == CAPS.per_account  # nothing posted for it
        assert not any("第四次" in m.text for _, m in chats.posts)
        clock.advance(timedelta(minutes=61))
        assert "TS26" in await patient.complain("一小时后：终于有人叫号了")
        assert len(chats.posts) == CAPS.per_account + 1


async def test_one_address_may_file_so_many_complaints_an_hour_whatever_the_chats(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    chats = Chats()
    engine = _engine(demo, nlu, clock, protector, chats)
    async with web_chat(engine, clock, "198.51.100.9") as script:
        for n in range(CAPS.per_address):
            assert "TS26" in await Patient(script, f"script-session-{n:03d}").complain("垃圾")
        answer = await Patient(script, "script-session-new").complain("更多垃圾")
        assert REFUSED in answer
    assert len(chats.posts) == CAPS.per_address
    async with web_chat(engine, clock, "192.0.2.44") as elsewhere:  # a real patient elsewhere
        assert "TS26" in await Patient(elsewhere, "real-patient-1").complain("挂号处排队太久")
    assert len(chats.posts) == CAPS.per_address + 1
    clock.advance(timedelta(hours=1, minutes=1))
    async with web_chat(engine, clock, "198.51.100.9") as script:
        assert "TS26" in await Patient(script, "script-session-later").complain("一小时后")


async def test_by_sms_the_phone_is_the_account(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    chats = Chats()
    engine = _engine(demo, nlu, clock, protector, chats)
    count = 0

    async def sms(text: str | None = None, choice: str | None = None) -> str:
        nonlocal count
        count += 1
        inbound = Inbound(
            "sms", "+8613912340001", clock.now(), text=text, choice=choice, message_id=f"s{count}"
        )
        return "\n".join(r.text for r in await engine.handle(inbound))

    for n in range(CAPS.per_account + 1):
        await sms("投诉")
        await sms(choice="category:waiting")
        answer = await sms(f"第{n}次投诉")
    assert REFUSED in answer
    assert len(chats.posts) == CAPS.per_account


async def test_id_and_phone_numbers_are_masked_in_the_staff_group_kept_in_the_record(
    demo: Database, nlu: BuiltinNlu, clock: FixedClock, protector: Protector
) -> None:
    chats = Chats()
    engine = _engine(demo, nlu, clock, protector, chats)
    words = (
        "我是张三，身份证110101199003074514，手机139-1234-2222，备用电话+86 13800001111，等了三小时"
    )
    async with web_chat(engine, clock, "203.0.113.8") as client:
        answer = await Patient(client, "masking-session-1").complain(words)
    [(_, posted)] = chats.posts
    for whole in ("110101199003074514", "139-1234-2222", "13912342222", "13800001111"):
        assert whole not in posted.text
    for masked in ("1101**********4514", "139****2222", "138****1111", "等了三小时", "张三"):
        assert masked in posted.text
    found = re.search(r"TS\d{10}", answer)
    assert found is not None
    number = found.group(0)
    assert number in posted.text
    # The record keeps what was written, for staff handling it in the back office.
    async with demo(readonly=True) as uow:
        sealed = await uow.complaints.sealed(number)
    assert sealed is not None and protector.decrypt(sealed.sealed_text) == words
