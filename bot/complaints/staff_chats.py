"""The staff side of complaints, in the staff group chats (C5, S3, S4).

A complaint is posted to the group of its department (or, once escalated, of the complaints
office, then of management) with buttons: accept, reply, forward, escalate, resolve. Chat
buttons cannot carry free text, so a reply or result is typed in the group as
``/reply <number> <text>`` or ``/resolve <number> <result>``. Every reply and the result go to
the patient on the channel the complaint came from, in the patient's language.

Posts and answers are written to the database with the change that causes them and sent from
there (``send_pending``), so a failed send is retried, not lost. Nothing here knows a chat
library: the group chats and the patients' channels are reached through ``post`` and
``tell_patient``. Logs name complaints by number and staff by id, never a patient.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.catalogue.schedule import local_now
from booking.catalogue.search import load_catalogue
from booking.clock import DEFAULT_TZ, Clock
from booking.complaints import handling
from booking.complaints.filing import ACCEPT_WITHIN, complaint_status, normal_no
from booking.complaints.handling import StaffPost
from booking.complaints.model import (
    DEPARTMENT,
    OFFICE,
    Action,
    AlreadyAccepted,
    AtTopLevel,
    Complaint,
    ComplaintClosed,
    ComplaintStatus,
    StaffMember,
    UnknownComplaint,
    UnknownDepartment,
)
from booking.errors import BookingError, InvalidInput
from booking.patients.identity import mask_in_text
from booking.protect import Protector
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.complaints import staff_keys
from bot.complaints.answers import ComplaintAnswers
from bot.texts import Texts
from channels.messages import Choice, Outbound

log = logging.getLogger(__name__)
NAME_LENGTH = 128  # as stored; Telegram's full names may be longer (64 + 64 + 1)

Post = Callable[[str, list[Outbound]], Awaitable[None]]
TellPatient = Callable[[str, str, list[Outbound]], Awaitable[None]]

# "/reply TS2611250001 text", also as "/reply@OurBot …", which group chats send.
_COMMAND = re.compile(r"^/(reply|resolve)(?:@\w+)?(?=\s|$)(?:\s+(\S+))?\s*(.*)$", re.DOTALL)
_DONE = {"reply": "staff.replied", "resolve": "staff.resolved"}


@dataclass(frozen=True)
class StaffRooms:
    """Which group chat handles which complaints, and who may act on them."""

    default_chat: str  # departments without a group of their own, and any level without one
    department_chats: dict[str, str]  # department code -> group chat id
    office_chat: str | None  # the complaints office (投诉办), level 1
    management_chat: str | None  # management (院领导), level 2; also operational alerts
    staff_ids: frozenset[str]  # chat user ids of the staff allowed to press and type
    deadline: timedelta = ACCEPT_WITHIN  # to accept, after a forward or an escalation
    language: str = "zh"  # of the staff groups

    def room(self, complaint: Complaint) -> str:
        if complaint.level == DEPARTMENT:
            return self.department_chats.get(complaint.department_code or "", self.default_chat)
        if complaint.level == OFFICE:
            return self.office_chat or self.default_chat
        return self.alerts

    @property
    def alerts(self) -> str:
        return self.management_chat or self.office_chat or self.default_chat


class StaffDesk:
    def __init__(
        self,
        uows: UnitOfWorkFactory[HospitalWork],
        protector: Protector,
        clock: Clock,
        texts: Texts,
        post: Post,
        tell_patient: TellPatient,
        rooms: StaffRooms,
    ) -> None:
        self.uows = uows
        self.protector = protector
        self.clock = clock
        self.texts = texts
        self.post = post
        self.tell_patient = tell_patient
        self.rooms = rooms
        self.answers = ComplaintAnswers(
            uows, protector, clock, texts, tell_patient, self._not_delivered
        )

    # What happens to complaints

    async def complaint_filed(self, complaint_no: str) -> None:
        """Post a complaint just filed to its group (``send_pending`` would, a little later)."""
        await self._post_due(complaint_no)

    async def send_pending(self) -> int:
        """Post the complaints staff have yet to see (filed by the dialogue, or whose post
        failed) and tell patients the replies not yet told; how many were sent."""
        return await self._post_due() + len(await self._tell_due())

    async def escalate_overdue(self) -> int:
        """Escalate every complaint nobody accepted in time, posting it to the group above;
        how many were escalated."""
        escalated = await handling.escalate_overdue(
            self.uows, self.clock, accept_within=self.rooms.deadline
        )
        for done in escalated:
            log.info("complaint %s escalated to level %d", done.complaint_no, done.level)
        if escalated:
            await self._post_due()
        return len(escalated)

    async def alert(self, text: str) -> bool:
        """An operational alert (a clinic stopped, notices failing) for management."""
        try:
            await self.post(self.rooms.alerts, [Outbound(self._say("staff.alert", text=text))])
        except Exception:
            log.exception("operational alert could not be posted")
            return False
        return True

    # What staff do

    async def press(self, chat_id: str, user_id: str, user_name: str, data: str) -> str:
        """A button pressed in a staff group; the short answer to show whoever pressed it."""
        if user_id not in self.rooms.staff_ids:
            log.info("complaint button pressed by someone not on the complaint staff")
            return self._say("staff.not_staff")
        pressed = staff_keys.read(data)
        if pressed is None:
            return self._say("staff.button_gone")
        staff = StaffMember(user_id, user_name[:NAME_LENGTH])
        if pressed.action == staff_keys.FORWARD_TO:
            return await self._forward(chat_id, staff, pressed.complaint_no, pressed.department)
        button, number = pressed.action, normal_no(pressed.complaint_no)
        try:
            if button == "accept":
                return await self._accept(chat_id, staff, number)
            if button == "escalate":
                complaint = await handling.escalate(
                    self.uows, self.clock, number, staff, accept_within=self.rooms.deadline
                )
                log.info("complaint %s escalated by staff %s", number, user_id)
                await self._post_due(number)
                level = self._say(f"staff.level.{complaint.level}")
                return self._say("staff.escalated", complaint_no=number, level=level)
            complaint = await complaint_status(self.uows, number)
            if complaint.status is ComplaintStatus.CLOSED:
                raise ComplaintClosed("the complaint is resolved")
            if button == "forward":
                await self._post_quietly(chat_id, [await self._departments(number)])
                return self._say("staff.pick_department", complaint_no=number)
            return self._say(f"staff.how_to_{button}", complaint_no=number)
        except BookingError as error:
            return self._refusal(error, number)

    async def command(
        self, chat_id: str, user_id: str, user_name: str, text: str
    ) -> list[Outbound] | None:
        """``/reply <number> <text>`` or ``/resolve <number> <result>`` typed in a staff
        group; None for anything else (it is not for us)."""
        found = _COMMAND.match(text.strip())
        if found is None:
            return None
        if user_id not in self.rooms.staff_ids:
            log.info("complaint command typed by someone not on the complaint staff")
            return [Outbound(self._say("staff.not_staff"))]
        what, number, words = found.group(1), found.group(2), found.group(3).strip()
        if not number or not words:
            return [Outbound(self._say(f"staff.usage.{what}"))]
        number = normal_no(number)
        staff = StaffMember(user_id, user_name[:NAME_LENGTH])
        act = handling.reply if what == "reply" else handling.resolve
        try:
            complaint = await act(self.uows, self.protector, self.clock, number, staff, words)
        except BookingError as error:
            return [Outbound(self._refusal(error, number))]
        log.info("complaint %s: %s by staff %s", number, what, user_id)
        done = self._say(_DONE[what], complaint_no=number)
        if not complaint.answerable:
            told = "phone"
        else:
            told = "sent" if number in await self._tell_due() else "later"
        return [Outbound(f"{done} {self._say(f'staff.told.{told}')}")]

    async def _accept(self, chat_id: str, staff: StaffMember, number: str) -> str:
        await handling.accept(self.uows, self.clock, number, staff)
        log.info("complaint %s accepted by staff %s", number, staff.id)
        note = self._say("staff.accepted_note", name=staff.name, complaint_no=number)
        await self._post_quietly(chat_id, [Outbound(note)])
        return self._say("staff.accepted", complaint_no=number)

    async def _forward(self, chat_id: str, staff: StaffMember, number: str, code: str) -> str:
        number = normal_no(number)
        try:
            complaint = await handling.forward(
                self.uows, self.clock, number, staff, code, accept_within=self.rooms.deadline
            )
        except BookingError as error:
            return self._refusal(error, number)
        log.info("complaint %s forwarded to %s by staff %s", number, code, staff.id)
        await self._post_due(number)
        department = await self._department_name(complaint.department_code)
        return self._say("staff.forwarded", complaint_no=number, department=department)

    async def _departments(self, number: str) -> Outbound:
        catalogue = await load_catalogue(self.uows)
        choices = tuple(
            Choice(staff_keys.forward_to(number, d.code), self._name(d.name_zh, d.name_en))
            for d in catalogue.departments
        )
        return Outbound(self._say("staff.pick_department", complaint_no=number), choices)

    # Sending

    async def _post_due(self, complaint_no: str | None = None) -> int:
        posts = await handling.due_posts(
            self.uows, self.protector, self.clock, complaint_no=complaint_no
        )
        sent = 0
        for post in posts:
            room = self.rooms.room(post.complaint)
            try:
                await self.post(room, [await self._message(post)])
            except Exception:  # whatever the chat's library raised: posted again later
                log.exception("complaint %s could not be posted", post.complaint.complaint_no)
                continue
            await handling.mark_posted(self.uows, post)
            sent += 1
        return sent

    async def _tell_due(self) -> set[str]:
        return await self.answers.tell_due()

    async def _not_delivered(self, complaint_no: str) -> None:
        note = self._say("staff.not_delivered", complaint_no=complaint_no)
        await self._post_quietly(
            self.rooms.office_chat or self.rooms.default_chat, [Outbound(note)]
        )

    async def _post_quietly(self, chat_id: str, messages: list[Outbound]) -> None:
        try:
            await self.post(chat_id, messages)
        except Exception:  # a courtesy note to the group; the action is recorded anyway
            log.exception("note to a staff group could not be posted")

    # Words

    async def _message(self, post: StaffPost) -> Outbound:
        c = post.complaint
        lines = [
            self._say(
                "staff.post.head",
                complaint_no=c.complaint_no,
                category=self._say(f"complaint.category.{c.category.value}"),
                department=await self._department_name(c.department_code),
                level=self._say(f"staff.level.{c.level}"),
            )
        ]
        routed = post.routed_by
        if routed is not None and routed.action is Action.AUTO_ESCALATE:
            lines.append(self._say("staff.post.auto_escalated"))
        elif routed is not None and routed.staff is not None:
            key = {Action.FILE: "filed_by_phone", Action.FORWARD: "forwarded"}.get(
                routed.action, "escalated"
            )
            lines.append(self._say(f"staff.post.{key}", name=routed.staff.name))
        filed, deadline = self._time(c.created_at), self._time(c.accept_by) if c.accept_by else "-"
        lines.append(self._say("staff.post.when", filed=filed, deadline=deadline))
        if not c.answerable:
            lines.append(self._say("staff.post.no_online_answer"))
        # The group is wider than the record (back office): ID and phone numbers masked there.
        lines.append(self._say("staff.post.text", text=mask_in_text(post.text)))
        buttons = tuple(
            Choice(staff_keys.button(b, c.complaint_no), self._say(f"staff.button.{b}"))
            for b in staff_keys.BUTTONS
        )
        return Outbound("\n".join(lines), buttons)

    def _refusal(self, error: BookingError, number: str) -> str:
        if isinstance(error, UnknownComplaint):
            return self._say("staff.refusal.unknown", complaint_no=number)
        if isinstance(error, ComplaintClosed):
            return self._say("staff.refusal.closed", complaint_no=number)
        if isinstance(error, AlreadyAccepted):
            name = error.details.get("by", "")
            return self._say("staff.refusal.taken", complaint_no=number, name=name)
        if isinstance(error, AtTopLevel):
            return self._say("staff.refusal.top", complaint_no=number)
        if isinstance(error, UnknownDepartment):
            return self._say("staff.refusal.department")
        if isinstance(error, InvalidInput):
            return self._say("staff.refusal.empty")
        return self._say("staff.refusal.busy")

    async def _department_name(self, code: str | None) -> str:
        if code is None:
            return self._say("staff.no_department")
        catalogue = await load_catalogue(self.uows)
        for d in catalogue.departments:
            if d.code == code:
                return self._name(d.name_zh, d.name_en)
        return code

    def _name(self, zh: str, en: str) -> str:
        return zh if self.rooms.language == "zh" else en

    def _time(self, moment: datetime) -> str:
        return local_now(moment, DEFAULT_TZ).strftime("%Y-%m-%d %H:%M")

    def _say(self, key: str, **values: object) -> str:
        return self.texts.say(self.rooms.language, key, **values)
