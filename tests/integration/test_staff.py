"""Complaints in the staff group chats (SQLite and PostgreSQL): posted to the department's
group with buttons, accepted, answered, forwarded, escalated by hand and when nobody accepts
them in time, resolved; the patient told every reply and the result on their own channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import text

from booking.clock import FixedClock
from booking.complaints.filing import complaint_status, file_complaint, history
from booking.complaints.model import (
    Action,
    ComplaintCategory,
    ComplaintStatus,
    StaffMember,
    UnknownComplaint,
)
from booking.protect import Protector
from booking.store import Database
from bot.complaints.staff_chats import StaffDesk, StaffRooms
from bot.texts import Texts
from channels.messages import Outbound

NURSE = ("s1", "李护士")
OFFICER = ("s2", "王主任")
PHONE = "13912345678"  # an SMS patient is known by phone number
ROOMS = StaffRooms(
    default_chat="g-default",
    department_chats={"CARD": "g-card", "RESP": "g-resp"},
    office_chat="g-office",
    management_chat="g-management",
    staff_ids=frozenset({NURSE[0], OFFICER[0]}),
    deadline=timedelta(hours=24),
)


@dataclass
class Chats:
    """Records what the desk sent: to staff groups and to patients. Can be made to fail."""

    posts: list[tuple[str, Outbound]] = field(default_factory=list)
    told: list[tuple[str, str, str]] = field(default_factory=list)
    failing: int = 0  # the next sends that fail

    def _fail(self) -> None:
        if self.failing:
            self.failing -= 1
            raise ConnectionError("chat unreachable")

    async def post(self, chat_id: str, messages: list[Outbound]) -> None:
        self._fail()
        self.posts.extend((chat_id, m) for m in messages)

    async def tell(self, channel: str, user_id: str, messages: list[Outbound]) -> None:
        self._fail()
        self.told.extend((channel, user_id, m.text) for m in messages)

    def posted_to(self, chat_id: str) -> list[Outbound]:
        return [m for chat, m in self.posts if chat == chat_id]


@pytest.fixture
def chats() -> Chats:
    return Chats()


@pytest.fixture
def desk(demo: Database, protector: Protector, clock: FixedClock, chats: Chats) -> StaffDesk:
    return StaffDesk(demo, protector, clock, Texts.load(), chats.post, chats.tell, ROOMS)


async def filed(
    desk: StaffDesk,
    department: str | None = "CARD",
    *,
    channel: str = "sms",
    user_id: str | None = PHONE,
    language: str = "zh",
    words: str = "在心内科等了三个小时没人叫号",
    post: bool = True,
) -> str:
    complaint = await file_complaint(
        desk.uows, desk.protector, desk.clock, channel=channel, user_id=user_id,
        category=ComplaintCategory.WAITING, text=words, department_code=department,
        language=language,
    )  # fmt: skip
    if post:
        await desk.complaint_filed(complaint.complaint_no)
    return complaint.complaint_no


async def test_a_complaint_goes_to_its_departments_group_with_five_buttons(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk)
    [message] = chats.posted_to("g-card")
    assert number in message.text and "心血管内科" in message.text and "等候时间" in message.text
    assert "在心内科等了三个小时没人叫号" in message.text  # staff need what happened
    assert "2026-11-23 09:00" in message.text and "2026-11-24 09:00" in message.text
    assert PHONE not in message.text
    keys = [c.key for c in message.choices]
    assert keys == [f"staff:{b}:{number}" for b in ("accept", "reply", "forward", "escalate")] + [
        f"staff:resolve:{number}"
    ]
    assert all(len(key.encode()) <= 64 for key in keys)

    await desk.complaint_filed(number)  # told twice: posted once
    await filed(desk, "GAST")  # no group of its own
    await filed(desk, None)
    assert len(chats.posted_to("g-card")) == 1 and len(chats.posted_to("g-default")) == 2


async def test_complaints_filed_in_the_dialogue_are_posted_by_send_pending(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk, "RESP", post=False)
    assert chats.posts == []
    assert await desk.send_pending() == 1
    assert [number in m.text for m in chats.posted_to("g-resp")] == [True]
    assert await desk.send_pending() == 0


async def test_a_failed_post_is_posted_again_later(
    desk: StaffDesk, chats: Chats, clock: FixedClock
) -> None:
    chats.failing = 1
    number = await filed(desk)
    assert chats.posts == [] and await desk.send_pending() == 0  # held a while for the sender
    clock.advance(timedelta(minutes=5))
    assert await desk.send_pending() == 1
    assert [number in m.text for m in chats.posted_to("g-card")] == [True]


async def test_only_staff_can_act_and_nothing_is_recorded_for_others(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk)
    answer = await desk.press("g-card", "999", "路人", f"staff:accept:{number}")
    assert answer == "抱歉，只有投诉处理人员可以操作。"
    refused = await desk.command("g-card", "999", "路人", f"/reply {number} 没事了")
    assert refused == [Outbound("抱歉，只有投诉处理人员可以操作。")]
    assert await history(desk.uows, desk.protector, number) == []
    assert (await complaint_status(desk.uows, number)).status == ComplaintStatus.RECEIVED
    assert chats.told == [] and len(chats.posts) == 1
    assert await desk.command("g-card", NURSE[0], NURSE[1], "大家好") is None
    assert await desk.command("g-card", NURSE[0], NURSE[1], "/replying x") is None


async def test_accepting_records_who_and_when(
    desk: StaffDesk, chats: Chats, clock: FixedClock
) -> None:
    number = await filed(desk)
    clock.advance(timedelta(minutes=10))
    assert await desk.press("g-card", *NURSE, f"staff:accept:{number}") == f"您已受理 {number}。"
    complaint = await complaint_status(desk.uows, number)
    assert complaint.status == ComplaintStatus.IN_PROGRESS
    assert complaint.accepted_by == StaffMember(*NURSE) and complaint.accepted_at == clock.now()
    assert chats.posted_to("g-card")[-1].text == f"李护士 已受理 {number}。"
    # Pressed again by the same nurse: nothing new; by someone else: told who has it.
    assert await desk.press("g-card", *NURSE, f"staff:accept:{number}") == f"您已受理 {number}。"
    taken = await desk.press("g-card", *OFFICER, f"staff:accept:{number}")
    assert taken == f"投诉 {number} 已由 李护士 受理。"
    [accepted] = await history(desk.uows, desk.protector, number)
    assert (accepted.action, accepted.staff, accepted.at) == (
        Action.ACCEPT, StaffMember(*NURSE), clock.now()
    )  # fmt: skip


async def test_a_reply_reaches_the_patient_on_their_channel(desk: StaffDesk, chats: Chats) -> None:
    number = await filed(desk)
    how = await desk.press("g-card", *NURSE, f"staff:reply:{number}")
    assert f"/reply {number}" in how
    done = await desk.command("g-card", *NURSE, f"/reply@GuahaoBot {number} 已核实，向您致歉。")
    assert done == [Outbound(f"已回复 {number}。 已发送给患者。")]
    assert chats.told == [("sms", PHONE, f"您的投诉 {number} 有了回复：已核实，向您致歉。")]
    complaint = await complaint_status(desk.uows, number)
    assert complaint.status == ComplaintStatus.ANSWERED
    assert complaint.accepted_by == StaffMember(*NURSE)  # answering is taking it on

    english = await filed(desk, channel="telegram", user_id="4242", language="en", words="rude")
    await desk.command("g-card", *NURSE, f"/reply {english.lower()} We are sorry.")
    assert chats.told[-1] == ("telegram", "4242", f"Your complaint {english}: We are sorry.")
    assert await desk.send_pending() == 0  # told once


async def test_an_answer_that_could_not_be_sent_is_sent_again(
    desk: StaffDesk, chats: Chats, clock: FixedClock
) -> None:
    number = await filed(desk)
    chats.failing = 1
    done = await desk.command("g-card", *NURSE, f"/reply {number} 正在核实")
    assert done == [Outbound(f"已回复 {number}。 暂时发送不出去，稍后会自动重发。")]
    assert chats.told == []
    clock.advance(timedelta(minutes=5))
    assert await desk.send_pending() == 1
    assert await desk.send_pending() == 0
    assert chats.told == [("sms", PHONE, f"您的投诉 {number} 有了回复：正在核实")]


async def test_forwarding_posts_it_to_the_other_departments_group(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk)
    await desk.press("g-card", *NURSE, f"staff:accept:{number}")
    assert await desk.press("g-card", *NURSE, f"staff:forward:{number}") == (
        f"{number} 转办到哪个科室？"
    )
    departments = chats.posted_to("g-card")[-1]
    assert f"staff:to:{number}:RESP" in [c.key for c in departments.choices]
    assert "呼吸内科" in [c.label for c in departments.choices]
    forwarded = await desk.press("g-card", *NURSE, f"staff:to:{number}:RESP")
    assert forwarded == f"{number} 已转办至呼吸内科。"
    [message] = chats.posted_to("g-resp")
    assert number in message.text and "由 李护士 转来" in message.text
    assert len(message.choices) == 5
    complaint = await complaint_status(desk.uows, number)
    assert (complaint.department_code, complaint.level, complaint.accepted_by) == ("RESP", 0, None)
    assert await desk.press("g-resp", *NURSE, f"staff:to:{number}:NOPE") == "没有这个科室。"


async def test_escalating_posts_it_to_the_office_then_management(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk)
    answer = await desk.press("g-card", *NURSE, f"staff:escalate:{number}")
    assert answer == f"{number} 已升级至投诉办公室。"
    [message] = chats.posted_to("g-office")
    assert "投诉办公室" in message.text and "由 李护士 升级" in message.text
    assert (await complaint_status(desk.uows, number)).level == 1
    await desk.press("g-office", *OFFICER, f"staff:escalate:{number}")
    assert len(chats.posted_to("g-management")) == 1
    top = await desk.press("g-management", *OFFICER, f"staff:escalate:{number}")
    assert top == f"投诉 {number} 已由院领导处理，无法再升级。"


async def test_a_complaint_nobody_accepts_in_time_escalates_once_per_deadline(
    desk: StaffDesk, chats: Chats, clock: FixedClock
) -> None:
    late = await filed(desk)
    taken = await filed(desk)
    await desk.press("g-card", *NURSE, f"staff:accept:{taken}")
    clock.advance(timedelta(hours=23, minutes=59))
    assert await desk.escalate_overdue() == 0
    clock.advance(timedelta(minutes=1))
    assert await desk.escalate_overdue() == 1
    assert await desk.escalate_overdue() == 0  # not again before the next deadline
    [message] = chats.posted_to("g-office")
    assert late in message.text and "已自动升级" in message.text
    assert [(c.level, c.accepted_by) for c in [await complaint_status(desk.uows, late)]] == [
        (1, None)
    ]
    clock.advance(timedelta(hours=24))
    assert await desk.escalate_overdue() == 1
    assert len(chats.posted_to("g-management")) == 1
    clock.advance(timedelta(days=7))
    assert await desk.escalate_overdue() == 0  # management is the top
    actions = [a.action for a in await history(desk.uows, desk.protector, late)]
    assert actions == [Action.AUTO_ESCALATE, Action.AUTO_ESCALATE]
    assert (await complaint_status(desk.uows, taken)).level == 0


async def test_resolving_tells_the_patient_the_result_and_closes_it(
    desk: StaffDesk, chats: Chats
) -> None:
    number = await filed(desk)
    done = await desk.command("g-card", *NURSE, f"/resolve {number} 已退还多收的挂号费")
    assert done == [Outbound(f"{number} 已办结。 已发送给患者。")]
    assert chats.told == [("sms", PHONE, f"您的投诉 {number} 已办结。处理结果：已退还多收的挂号费")]
    assert (await complaint_status(desk.uows, number)).status == ComplaintStatus.CLOSED
    closed = f"投诉 {number} 已办结，无需再处理。"
    for button in ("accept", "reply", "forward", "escalate", "resolve"):
        assert await desk.press("g-card", *NURSE, f"staff:{button}:{number}") == closed
    assert await desk.command("g-card", *NURSE, f"/reply {number} 补充") == [Outbound(closed)]
    assert len(chats.told) == 1


async def test_unknown_numbers_and_broken_commands_are_answered_politely(
    desk: StaffDesk,
) -> None:
    unknown = "找不到投诉 TS0000000000，请核对流水号。"
    for button in ("accept", "reply", "forward", "escalate", "resolve"):
        assert await desk.press("g-card", *NURSE, f"staff:{button}:ts0000000000") == unknown
    assert await desk.press("g-card", *NURSE, "staff:to:TS0000000000:CARD") == unknown
    assert await desk.command("g-card", *NURSE, "/resolve TS0000000000 好了") == [Outbound(unknown)]
    assert await desk.press("g-card", *NURSE, "staff:dance:TS0000000000") == "这个按钮已失效。"
    assert await desk.press("g-card", *NURSE, "nonsense") == "这个按钮已失效。"
    [usage] = await desk.command("g-card", *NURSE, "/reply") or []
    assert usage.text.startswith("用法：/reply")
    [usage] = await desk.command("g-card", *NURSE, "/resolve TS0000000000") or []
    assert usage.text.startswith("用法：/resolve")
    with pytest.raises(UnknownComplaint):
        await history(desk.uows, desk.protector, "TS0000000000")


async def test_the_history_lists_every_action_in_order(desk: StaffDesk, clock: FixedClock) -> None:
    number = await filed(desk)
    steps = [
        f"staff:accept:{number}",
        f"/reply {number} 正在核实",
        f"staff:to:{number}:RESP",
        f"staff:escalate:{number}",
    ]
    for step in steps:
        clock.advance(timedelta(minutes=1))
        if step.startswith("/"):
            await desk.command("g", *NURSE, step)
        else:
            await desk.press("g", *NURSE, step)
    clock.advance(timedelta(days=1))
    await desk.escalate_overdue()
    await desk.command("g", *OFFICER, f"/resolve {number} 已整改")
    actions = await history(desk.uows, desk.protector, number)
    assert [(a.action, a.level) for a in actions] == [
        (Action.ACCEPT, 0), (Action.REPLY, 0), (Action.FORWARD, 0), (Action.ESCALATE, 1),
        (Action.AUTO_ESCALATE, 2), (Action.RESOLVE, 2),
    ]  # fmt: skip
    assert [a.text for a in actions] == [None, "正在核实", None, None, None, "已整改"]
    assert actions[2].department_code == "RESP" and actions[4].staff is None
    assert actions[-1].staff == StaffMember(*OFFICER)
    assert [a.at for a in actions] == sorted(a.at for a in actions)


async def test_a_complaint_taken_by_phone_is_handled_but_only_recorded(
    desk: StaffDesk, chats: Chats
) -> None:
    complaint = await file_complaint(
        desk.uows, desk.protector, desk.clock, channel="phone", user_id=None,
        category=ComplaintCategory.FEES, text="电话反映多收了挂号费", department_code="CARD",
        taken_by=StaffMember(*OFFICER),
    )  # fmt: skip
    number = complaint.complaint_no
    await desk.complaint_filed(number)
    [message] = chats.posted_to("g-card")
    assert "王主任 电话受理" in message.text and "请电话联系患者" in message.text
    done = await desk.command("g-card", *NURSE, f"/reply {number} 已核实")
    assert done == [Outbound(f"已回复 {number}。 电话投诉：请电话告知患者。")]
    assert chats.told == []
    assert [a.action for a in await history(desk.uows, desk.protector, number)] == [
        Action.FILE, Action.REPLY
    ]  # fmt: skip


async def test_an_alert_goes_to_management(desk: StaffDesk, chats: Chats) -> None:
    assert await desk.alert("张伟 11月24日上午停诊，12位患者待通知")
    [message] = chats.posted_to("g-management")
    assert message.text == "⚠️ 运营提醒：张伟 11月24日上午停诊，12位患者待通知"
    chats.failing = 1
    assert not await desk.alert("短信网关连续发送失败")


async def test_nothing_personal_is_stored_in_clear(demo: Database, desk: StaffDesk) -> None:
    number = await filed(desk, words="护士态度恶劣")
    await desk.command("g-card", *NURSE, f"/reply {number} 已批评教育相关护士")
    await desk.command("g-card", *NURSE, f"/resolve {number} 已向您当面致歉")
    async with demo.new_transaction(readonly=True) as tx:
        rows = repr((await tx.execute(text("SELECT * FROM complaints"))).all())
        rows += repr((await tx.execute(text("SELECT * FROM complaint_actions"))).all())
    assert number in rows and NURSE[1] in rows  # staff are named; patients are not
    for secret in (PHONE, "护士态度恶劣", "已批评教育相关护士", "已向您当面致歉"):
        assert secret not in rows
