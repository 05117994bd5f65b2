"""The registration desk's work on bookings (B1/B4): find them by what a caller says (phone,
ID number, booking number or name), cancel, check in, mark a no-show. Searches are audited by
the kind of search and what was found, never by what was typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from booking import audit
from booking.appointments import BookingView, CancelReason
from booking.attendance import mark_arrived, mark_noshow
from booking.audit import Actor
from booking.changes import cancel
from booking.clock import Clock
from booking.errors import BookingError
from booking.listing import find_bookings
from booking.ports import UnitOfWorkFactory
from booking.protect import Protector

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_PHONE = re.compile(r"^(\+?86)?1\d{10}$")
_BOOKING_NO = re.compile(r"^\d{14}$")
_NAME = re.compile(r"^[^\d<>]{1,40}$")
BOOKING_NO_PATH = r"^[0-9A-Za-z]{6,20}$"

DONE = {
    "cancel": "已退号，患者将收到通知。Cancelled; the patient is told.",
    "arrive": "已签到。Checked in.",
    "noshow": "已标记爽约。Marked as a no-show.",
}
REFUSALS = {
    "past_deadline": (
        "不在可操作的时间内（退号至开诊前，签到限就诊当天，爽约在开诊后）。Too early or too late."
    ),
    "wrong_status": "该预约的状态已不允许此操作。The booking's status does not allow it.",
    "not_found": "没有这个预约号。No booking with this number.",
    "try_again": "系统繁忙，请重试。The system is busy: please try again.",
}
REFUSED = "操作未完成。It could not be done."
NOT_A_SEARCH = (
    "请输入手机号、18位身份证号、预约号或姓名。Type a phone, ID number, booking number or name."
)


@dataclass(frozen=True)
class Search:
    kind: str  # id_number, phone, booking_no, name
    text: str


def search_for(q: str) -> Search | None:
    """What the desk typed, read as the one thing it can be; None: not a search."""
    text = q.strip()
    if re.fullmatch(r"[\d\s+Xx-]+", text):  # numbers are read out with spaces and dashes
        text = re.sub(r"[\s-]", "", text)
    for kind, pattern in (
        ("id_number", _ID_NUMBER),
        ("booking_no", _BOOKING_NO),
        ("phone", _PHONE),
        ("name", _NAME),
    ):
        if pattern.match(text):
            return Search(kind, text)
    return None


async def find(
    uows: UnitOfWorkFactory, clock: Clock, protector: Protector, q: str, actor: Actor
) -> tuple[list[BookingView] | None, str | None]:
    """(bookings found, None) or (None, why not)."""
    search = search_for(q)
    if search is None:
        return None, NOT_A_SEARCH
    given = {search.kind: search.text}
    try:
        found = await find_bookings(
            uows,
            protector,
            id_number=given.get("id_number"),
            phone=given.get("phone"),
            booking_no=given.get("booking_no"),
            patient_name=given.get("name"),
            limit=100,
        )
    except BookingError as error:  # an ID number with a wrong checksum, a landline…
        return None, error.message
    after: dict[str, Any] = {"by": search.kind, "found": len(found)}
    after["bookings"] = [v.booking_no for v in found[:20]]
    await audit.record(uows, actor.did(clock.now(), audit.SEARCH, after=after))
    return found, None


async def change(
    uows: UnitOfWorkFactory, clock: Clock, booking_no: str, action: str, actor: Actor
) -> str | None:
    """Do it (audited with it); None, or the reason it was refused (audited too)."""
    try:
        if action == "cancel":
            await cancel(uows, clock, booking_no, reason=CancelReason.STAFF, by=actor)
        elif action == "arrive":
            await mark_arrived(uows, clock, booking_no, by=actor)
        elif action == "noshow":
            await mark_noshow(uows, clock, booking_no, by=actor)
        else:
            raise ValueError(action)
    except BookingError as error:
        after = {"action": action, "reason": error.reason}
        await audit.record(uows, actor.did(clock.now(), audit.REFUSED, booking_no, after=after))
        return error.reason
    return None
