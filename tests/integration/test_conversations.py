"""Conversation state survives restarts, stays private, and never races (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from booking.clock import FixedClock
from booking.protect import Protector
from booking.store import Database
from bot.conversations import Conversation, Conversations

PHONE = "13912345678"  # an SMS user is known by phone number


async def test_a_conversation_survives_a_restart(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    first = Conversations(db, protector, clock)
    conversation = await first.load("sms", PHONE)
    assert conversation == Conversation({}, 0)
    conversation.state = {"task": "book", "department": "CARD", "typed": "张三"}
    assert await first.save("sms", PHONE, conversation)
    assert conversation.version == 1

    restarted = Conversations(db, protector, clock)
    again = await restarted.load("sms", PHONE)
    assert again == Conversation({"task": "book", "department": "CARD", "typed": "张三"}, 1)
    assert await restarted.load("telegram", PHONE) == Conversation()  # per channel


async def test_a_save_on_a_stale_version_is_refused(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    await store.save("web", "s1", Conversation({"step": 1}))
    mine, theirs = await store.load("web", "s1"), await store.load("web", "s1")
    mine.state["step"] = 2
    theirs.state["step"] = 3
    assert await store.save("web", "s1", mine)
    assert not await store.save("web", "s1", theirs)
    assert (await store.load("web", "s1")).state == {"step": 2}
    # Two first messages at once: one creates the conversation, the other is told to retry.
    results = await asyncio.gather(
        store.save("web", "new", Conversation({"a": 1})),
        store.save("web", "new", Conversation({"b": 2})),
    )
    assert sorted(results) == [False, True]


async def test_nothing_personal_is_stored_in_clear(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    await store.save("sms", PHONE, Conversation({"id_number": "110101199003074514"}))
    await store.remember("sms", PHONE, "msg-1", [{"text": "张三，您的预约已成功"}])
    async with db.new_transaction(readonly=True) as tx:
        rows = (await tx.execute(text("SELECT * FROM conversations"))).all()
        rows += (await tx.execute(text("SELECT * FROM handled_messages"))).all()
    stored = repr(rows)
    for secret in (PHONE, "110101199003074514", "张三", "msg-1"):
        assert secret not in stored


async def test_a_message_delivered_twice_gets_the_same_replies(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    assert await store.answered("telegram", "42", "update-7") is None
    replies = [{"text": "请选择科室", "choices": [{"key": "dept:CARD", "label": "心血管内科"}]}]
    await store.remember("telegram", "42", "update-7", replies)
    await store.remember("telegram", "42", "update-7", replies)  # a second delivery: no error
    assert await store.answered("telegram", "42", "update-7") == replies
    assert await store.answered("sms", "42", "update-7") is None
    # Web chat ids come from each browser: the same id from another user is another message.
    assert await store.answered("telegram", "43", "update-7") is None


async def test_one_users_messages_wait_their_turn(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    order: list[str] = []

    async def handle(user: str, label: str, pause: float) -> None:
        async with store.one_at_a_time("web", user):
            order.append(f"{label} in")
            await asyncio.sleep(pause)
            order.append(f"{label} out")

    await asyncio.gather(handle("u1", "a", 0.05), handle("u1", "b", 0), handle("u2", "c", 0))
    assert order.index("a out") < order.index("b in")  # same user: in turn
    assert order.index("c in") < order.index("a out")  # another user: meanwhile
    assert not store._locks  # no lock kept for users who are not talking


async def test_old_conversations_and_handled_messages_are_forgotten(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    await store.save("web", "old", Conversation({"x": 1}))
    await store.remember("web", "old", "m-old", [])
    later = FixedClock(clock.now() + timedelta(days=31))
    recent = Conversations(db, protector, later)
    await recent.save("web", "new", Conversation({"y": 2}))
    assert await recent.purge(later.now() - timedelta(days=30)) == 2
    assert await recent.load("web", "old") == Conversation()
    assert await recent.answered("web", "old", "m-old") is None
    assert (await recent.load("web", "new")).state == {"y": 2}


async def test_patients_saving_together_are_committed_together_each_with_its_own_outcome(
    db: Database, protector: Protector, clock: FixedClock
) -> None:
    store = Conversations(db, protector, clock)
    stale = Conversation({"step": 1})
    assert await store.save("web", "stale", stale)
    await store.save("web", "stale", await store.load("web", "stale"))  # stale is now behind
    await store.remember("web", "late", "m-9", [{"text": "已回复"}])  # handled elsewhere
    commits = 0
    real_commit = type(db()).commit

    async def counting_commit(self: object) -> None:
        nonlocal commits
        commits += 1
        await real_commit(self)  # type: ignore[arg-type]

    type(db()).commit = counting_commit  # type: ignore[method-assign]
    try:
        fresh = [Conversation({"n": n}) for n in range(30)]
        results = await asyncio.gather(
            *(store.save("web", f"p{n}", c, (f"m{n}", [])) for n, c in enumerate(fresh)),
            store.save("web", "stale", stale, ("m-1", [{"text": "ok"}])),
            store.save("web", "late", Conversation({"x": 1}), ("m-9", [{"text": "again"}])),
        )
    finally:
        type(db()).commit = real_commit  # type: ignore[method-assign]
    assert results == [True] * 30 + [False, False]
    assert commits < 10  # not one per patient
    assert [(await store.load("web", f"p{n}")).state for n in (0, 29)] == [{"n": 0}, {"n": 29}]
    # The losers left nothing behind: their messages can be handled again after a fresh read.
    assert await store.answered("web", "stale", "m-1") is None
    assert await store.answered("web", "late", "m-9") == [{"text": "已回复"}]
    assert await store.load("web", "late") == Conversation()
