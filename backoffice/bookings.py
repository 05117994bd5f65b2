"""The registration desk's work on bookings (B1/B4): find them by what a caller says (phone,
ID number, booking number or name), cancel, check in, mark a no-show. Searches are audited by
the kind of search and what was found, never by what was typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.changes import cancel
from booking.appointments.listing import find_bookings
from booking.appointments.model import BookingView, CancelReason
from booking.catalogue.search import load_catalogue
from booking.clock import Clock
from booking.errors import BookingError
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_PHONE = re.compile(r"^(\+?86)?1\d{10}$")
_BOOKING_NO = re.compile(r"^\d{14}$")
_NAME = re.compile(r"^[^\d<>]{1,40}$")
BOOKING_NO_PATH = r"^[0-9A-Za-z]{6,20}$"

DONE = {
    "cancel": "已退号，患者将收到通知。Cancelled; the patient is told.",
    "arrive": "已签到。Checked in.",
    "noshow": "已标记爽约。Marked as a no-show.",
    "transfer": "已转号，患者将收到通知。Moved to the new session; the patient is told.",
}
# What the desk is told when the rules refuse, for every BookingError reason (the bot's
# sentences, said to the agent about the caller).
REFUSALS = {
    "past_deadline": (
        "不在可操作的时间内（退号至开诊前，签到限就诊当天，爽约在开诊后）。Too early or too late."
    ),
    "wrong_status": "该预约的状态已不允许此操作。The booking's status does not allow it.",
    "not_found": "没有找到（预约号、出诊或患者不存在）。Not found: no such booking or patient.",
    "try_again": "系统繁忙，请重试。The system is busy: please try again.",
    "invalid_input": "信息格式不对，请核对后重新输入。That is not in the expected form.",
    "invalid_id_number": (
        "身份证号不正确，请核对18位号码（最后一位可能是X）。"
        "That ID number is not valid; please check all 18 characters (the last may be X)."
    ),
    "invalid_phone": (
        "手机号不正确，请输入11位手机号码。That phone number is not valid; a mobile is needed."
    ),
    "invalid_name": (
        "姓名不正确，或与该身份证号登记的姓名不符：请输入身份证上的姓名。"
        "The name is not valid, or not the one registered with this ID number."
    ),
    "slot_full": (
        "该时段已约满，可为来电人选择其他日期或同科室其他医生。"
        "This session is fully booked; offer another day or another doctor of the department."
    ),
    "place_taken": "这个号刚被别人约走了，请换一个时间。That place was just taken; pick another.",
    "session_stopped": "该时段已停诊，请选择其他时间或医生。The doctor has stopped this session.",
    "not_bookable": "该科室不接受预约，请直接到医院就诊。This department does not take bookings.",
    "outside_window": (
        "该日期不在预约期内（尚未放号或已结束）。That day is outside the booking window."
    ),
    "quota_exceeded": (
        "来电人的预约次数已达上限，请先就诊或取消已有预约。The caller has reached a booking limit."
    ),
    "quota_exceeded:per_department_per_day": (
        "来电人这天在这个科室已有预约：同一天同一科室只能预约1个号。"
        "The caller already has a booking in this department that day: one per department a day."
    ),
    "quota_exceeded:per_day": (
        "来电人这天的预约已达每日上限，请换一天。The caller has the most bookings allowed that day."
    ),
    "quota_exceeded:per_period": (
        "来电人近几天的预约已达上限，请先就诊或退掉不需要的预约。"
        "The caller has the most bookings allowed within the period: attend or cancel one first."
    ),
    "age_range": (
        "该科室只接诊一定年龄的患者（如儿科），按身份证号算来电人的年龄不符，请换科室。"
        "This department sees patients of certain ages only (e.g. paediatrics); by the ID "
        "number the caller's age is outside them."
    ),
    "already_booked": ("来电人已预约过这个时段。The caller already has a place in this session."),
    "blacklisted": (
        "来电人暂时不能预约（黑名单），请其到医院挂号窗口咨询。"
        "The caller may not book at the moment (blacklist); they can ask at the hospital's desk."
    ),
    "needs_code": (
        "该身份证号已登记，但手机号与登记的不符：请用登记的手机号，或持身份证到窗口修改。"
        "This ID number is registered with another phone: give the registered one, or the "
        "patient brings the ID card to the desk to change it."
    ),
    "registered_phone_differs": (
        "该身份证号已登记，但手机号与登记的不符：请用登记的手机号，或持身份证到窗口修改。"
        "This ID number is registered with another phone: give the registered one, or the "
        "patient brings the ID card to the desk to change it."
    ),
    "different_department": "只能转到同一科室的出诊。A booking moves only within its department.",
    "account_full": "该账号绑定的就诊人已满。The account holds the most patients allowed.",
    "not_your_booking": "该预约不属于这个账号。This booking belongs to another account.",
    "wrong_code": "验证码不对。That is not the code.",
    "code_expired": "验证码已过期。The code has expired.",
    "code_limit": "验证码请求太多，请稍后再试。Too many codes asked for; try again later.",
    "needs_phone_code": "手机号需先用短信验证码验证。The mobile number must be verified by a code.",
    "code_too_soon": "验证码刚刚发出，请1分钟后再发。A code was just sent; wait a minute.",
    "still_booked": (
        "该就诊人还有本账号预约的号或候补，请先退号。"
        "The patient still has bookings or waitlist places made by this account: cancel first."
    ),
    "not_full": "这个时段现在有号，可以直接预约。That session has places: book it directly.",
    "already_waiting": "已在该时段的候补中。Already on this session's waitlist.",
    "waitlist_closed": "该时段的候补已截止。This session's waitlist has closed.",
    "offer_gone": "这个号已不再保留。The place is no longer held.",
    "login_refused": "用户名或密码不正确，或账户已被锁定。Wrong username or password, or locked.",
    "username_taken": "这个用户名已被使用。This username is taken.",
    "has_future_bookings": (
        "该患者还有未就诊的预约：请先退号（患者会收到通知），再删除。"
        "The patient still has bookings to come: cancel them first (they are told), then remove."
    ),
}
# The same reasons said about a transfer, where they mean something narrower.
TRANSFER_REFUSALS = {
    **REFUSALS,
    "past_deadline": (
        "转号只能在就诊前一天结束前办理，就诊当天只能退号。"
        "A booking can move only until the day before the visit; on the day it can only be "
        "cancelled."
    ),
}
REFUSED = "操作未完成。It could not be done."


def refusal(refused: BookingError | str, texts: dict[str, str] = REFUSALS) -> str:
    """The sentence for a refusal: a quota says which one."""
    if isinstance(refused, str):
        return texts.get(refused, REFUSED)
    quota = refused.details.get("quota")
    exact = texts.get(f"{refused.reason}:{quota}") if quota else None
    return exact or texts.get(refused.reason, REFUSED)


NOT_A_SEARCH = (
    "请输入手机号、18位身份证号、预约号或姓名。Type a phone, ID number, booking number or name."
)


@dataclass(frozen=True)
class Search:
    kind: str  # id_number, phone, booking_no, name
    text: str


USE_THE_FORM = (
    "请使用查找表单（号码不放在网址中）。Use the search form: numbers and names are not "
    "taken from the address."
)


def is_booking_no(q: str) -> bool:
    found = search_for(q)
    return found is not None and found.kind == "booking_no"


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


@dataclass(frozen=True)
class Filters:
    """The search's extra filters: a department or a doctor (as "H01:CARD", "H01:00868"),
    the day a booking was made and the visit day."""

    department: str = ""
    doctor: str = ""
    booked_on: date | None = None
    visit_date: date | None = None

    @property
    def given(self) -> bool:
        return bool(self.department or self.doctor or self.booked_on or self.visit_date)

    def kinds(self) -> list[str]:
        named = (
            ("department", self.department),
            ("doctor", self.doctor),
            ("booked_on", self.booked_on),
            ("visit_date", self.visit_date),
        )
        return [kind for kind, value in named if value]


_CODE = re.compile(r"^[A-Z0-9]{1,16}:[A-Za-z0-9]{1,16}$")
BAD_FILTER = "筛选条件不正确。A filter is not valid (a date is YYYY-MM-DD)."


def filters_from(params: Mapping[str, str]) -> tuple[Filters, str | None]:
    """The filters in a query string; (no filters, why) when one cannot be read."""
    try:
        department = params.get("department", "").strip().upper()[:40]
        # Work numbers are stored as typed ("ab12" is not "AB12"): only the hospital is upper.
        hospital, colon, work_no = params.get("doctor", "").strip()[:40].partition(":")
        doctor = f"{hospital.upper()}{colon}{work_no}"
        if any(value and not _CODE.match(value) for value in (department, doctor)):
            raise ValueError(department or doctor)
        booked, visit = (_day(params.get(key, "")) for key in ("booked", "visit"))
        return Filters(
            department=department, doctor=doctor, booked_on=booked, visit_date=visit
        ), None
    except ValueError:
        return Filters(), BAD_FILTER


# Days a search may name: 0001-01-01 or 9999-12-31 overflow when turned into Shanghai's
# midnights in UTC (a 500); no booking is older or further ahead than these.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


def _day(text: str) -> date | None:
    text = text.strip()[:10]
    if not text:
        return None
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day


@dataclass(frozen=True)
class Choices:
    """The departments and doctors a search can be narrowed to: (value, label) pairs."""

    departments: list[tuple[str, str]]
    doctors: list[tuple[str, str]]


async def choices(uows: UnitOfWorkFactory[HospitalWork]) -> Choices:
    catalogue = await load_catalogue(uows)
    names = {(d.hospital_code, d.code): d.name_zh for d in catalogue.departments}
    return Choices(
        departments=[
            (f"{d.hospital_code}:{d.code}", f"{d.hospital_code} {d.name_zh} {d.code}")
            for d in catalogue.departments
        ],
        doctors=[
            (
                f"{d.hospital_code}:{d.work_no}",
                f"{d.name} {d.work_no} {names.get((d.hospital_code, d.department_code), '')}",
            )
            for d in catalogue.doctors
        ],
    )


async def find(
    uows: UnitOfWorkFactory[HospitalWork],
    clock: Clock,
    protector: Protector,
    q: str,
    actor: Actor,
    filters: Filters | None = None,
) -> tuple[list[BookingView] | None, str | None]:
    """(bookings found, None) or (None, why not): by what was typed, the filters, or both."""
    filters = filters or Filters()
    search = search_for(q) if q.strip() else Search("", "")
    if search is None or not (search.kind or filters.given):
        return None, NOT_A_SEARCH
    given = {search.kind: search.text}
    hospital, department = filters.department.partition(":")[::2]
    doctor_hospital, doctor = filters.doctor.partition(":")[::2]
    if hospital and doctor_hospital and hospital != doctor_hospital:
        return [], None  # a doctor of another hospital than the department: nobody
    try:
        found = await find_bookings(
            uows,
            protector,
            id_number=given.get("id_number"),
            phone=given.get("phone"),
            booking_no=given.get("booking_no"),
            patient_name=given.get("name"),
            hospital_code=hospital or doctor_hospital or None,
            department_code=department or None,
            doctor_work_no=doctor or None,
            booked_on=filters.booked_on,
            visit_date=filters.visit_date,
            limit=200 if filters.given else 100,
        )
    except BookingError as error:  # an ID number with a wrong checksum, a landline…
        return None, error.message
    kinds = [search.kind] if search.kind else []
    after: dict[str, Any] = {"by": ",".join(kinds + filters.kinds()), "found": len(found)}
    after["bookings"] = [v.booking_no for v in found[:20]]
    await audit.record(uows, actor.did(clock.now(), audit.SEARCH, after=after))
    return found, None


async def change(
    uows: UnitOfWorkFactory[HospitalWork], clock: Clock, booking_no: str, action: str, actor: Actor
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
