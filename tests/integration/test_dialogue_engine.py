"""The engine's promises that transcripts cannot show: the same message delivered twice at the
same moment is handled once."""

from __future__ import annotations

import asyncio

from booking.clock import FixedClock
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from channels.messages import Inbound
from nlu.engine import BuiltinNlu


async def test_a_message_delivered_twice_at_once_is_handled_once(
    demo: Database, clock: FixedClock, protector: Protector, nlu: BuiltinNlu
) -> None:
    conversations = Conversations(demo, protector, clock)
    engine = DialogueEngine(
        nlu=nlu, conversations=conversations, texts=Texts.load(), uows=demo, clock=clock,
        protector=protector,
    )  # fmt: skip
    message = Inbound("telegram", "42", clock.now(), text="/start", message_id="update-1")
    first, second = await asyncio.gather(engine.handle(message), engine.handle(message))
    assert first == second
    assert (await conversations.load("telegram", "42")).version == 1  # saved once
