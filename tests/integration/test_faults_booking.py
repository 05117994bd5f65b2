"""A crash between a booking and its answer (issue 15), on SQLite and PostgreSQL.

The booking commits in its own transaction; the patient's answer is stored with the
conversation afterwards. A process that dies in between has booked, but remembers neither the
answer nor that the message was handled: the channel delivers the message again to a new
process, whose answer must be the receipt of that booking (with its number), not "you have
booked this already", and which must book nothing twice.

Faults in sending notices are in test_faults.py; PostgreSQL restarted under a burst of bookings
in test_faults_database.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from booking.appointments.changes import cancel
from booking.appointments.listing import my_bookings
from booking.appointments.model import AppointmentStatus
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversation, Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound
from nlu.engine import BuiltinNlu
from tests.integration.test_waitlist import fill, join, wed_afternoon
from tests.support import MONDAY_9AM, demo_catalogue, id_number

USER = "crash-patient"


class Crash(BaseException):
    """The process dies: nothing after this point runs (not even `except Exception`)."""


class DyingConversations(Conversations):
    """Dies when about to store the answer to message `dies_on`: after its booking committed."""

    def __init__(self, *args: Any, dies_on: str) -> None:
        super().__init__(*args)
        self.dies_on = dies_on

    async def save(
        self,
        channel: str,
        user_id: str,
        conversation: Conversation,
        answered: tuple[str, list[dict[str, Any]]] | None = None,
    ) -> bool:
        if answered is not None and answered[0] == self.dies_on:
            raise Crash
        return await super().save(channel, user_id, conversation, answered)


def process(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu, conversations: Any
) -> DialogueEngine:
    """A new process of the bot: nothing in memory, the database shared."""
    return DialogueEngine(
        nlu=nlu, conversations=conversations, texts=Texts.load(), uows=demo, clock=clock,
        protector=protector, triage=demo_catalogue().triage,
    )  # fmt: skip


async def booked(demo: Database, protector: Protector, channel: str) -> list[str]:
    views = await my_bookings(demo, *protector.account(channel, USER))
    return [view.booking_no for view in views if view.status == AppointmentStatus.BOOKED]


@pytest.mark.parametrize("channel", ["telegram", "sms"])
async def test_a_message_retried_after_a_crash_between_booking_and_answer_gets_its_receipt(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu, channel: str
) -> None:
    await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(9), phone="13812345678",
        account=protector.account(channel, USER),
    )  # fmt: skip
    wants = Inbound(channel, USER, MONDAY_9AM, text="帮我挂后天下午心内科张伟医生的号",
                    message_id="m-1")  # fmt: skip
    yes = Inbound(channel, USER, MONDAY_9AM, choice="confirm:yes", message_id="m-2")
    dying = DyingConversations(demo, protector, clock, dies_on="m-2")
    first = process(demo, clock, protector, nlu, dying)
    [offer] = await first.handle(wants)
    assert "confirm:yes" in {choice.key for choice in offer.choices}
    with pytest.raises(Crash):
        await first.handle(yes)
    [booking_no] = await booked(demo, protector, channel)  # committed before the crash

    restarted = process(demo, clock, protector, nlu, Conversations(demo, protector, clock))
    [receipt] = await restarted.handle(yes)  # delivered again: its answer was never stored
    assert "预约成功" in receipt.text and booking_no in receipt.text
    assert "已经预约过" not in receipt.text
    assert not receipt.repeat  # never sent: the channel sends it now
    assert await booked(demo, protector, channel) == [booking_no]

    [again] = await restarted.handle(yes)  # and once more: now it was answered, and stored
    assert again.text == receipt.text and again.repeat
    assert await booked(demo, protector, channel) == [booking_no]


async def test_a_quick_command_retried_after_a_crash_gets_its_receipt(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    await register_patient(
        demo, protector, clock, name="张三", id_number=id_number(10), phone="13812345678",
        account=protector.account("sms", USER),
    )  # fmt: skip
    quick = Inbound("sms", USER, MONDAY_9AM, text="GHDH00868,11251400,张三", message_id="SM-q")
    dying = DyingConversations(demo, protector, clock, dies_on="SM-q")
    with pytest.raises(Crash):
        await process(demo, clock, protector, nlu, dying).handle(quick)
    [booking_no] = await booked(demo, protector, "sms")

    restarted = process(demo, clock, protector, nlu, Conversations(demo, protector, clock))
    [receipt] = await restarted.handle(quick)
    assert "预约成功" in receipt.text and booking_no in receipt.text
    assert await booked(demo, protector, "sms") == [booking_no]

    # What a message booked is forgotten with the handled messages, not kept for ever.
    assert await remembered_requests(demo) == 1
    await Conversations(demo, protector, clock).purge(clock.now() + timedelta(days=1))
    assert await remembered_requests(demo) == 0


async def remembered_requests(demo: Database) -> int:
    async with demo(readonly=True) as uow:
        return int(await uow.tx.scalar(text("SELECT count(*) FROM booking_requests")) or 0)


async def test_a_waitlist_offer_taken_again_after_a_crash_gets_its_receipt(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    waiting, _, _ = await join(demo, protector, clock, session_id, USER)
    await cancel(demo, clock, taken[0][0], account=taken[0][1])  # the place is held for USER
    take = Inbound("telegram", USER, MONDAY_9AM, choice=f"notice:take:{waiting.entry_id}",
                   message_id="update:77")  # fmt: skip
    dying = DyingConversations(demo, protector, clock, dies_on="update:77")
    with pytest.raises(Crash):
        await process(demo, clock, protector, nlu, dying).handle(take)
    [booking_no] = await booked(demo, protector, "telegram")

    restarted = process(demo, clock, protector, nlu, Conversations(demo, protector, clock))
    [receipt] = await restarted.handle(take)
    assert booking_no in receipt.text and "预约成功" in receipt.text
    assert await booked(demo, protector, "telegram") == [booking_no]
