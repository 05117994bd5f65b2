"""The registration desk's pages: booking for a caller step by step (department → doctor →
session → the caller's details), the receipt to read out, a transfer, closing expired
bookings. Every value through html.escape; the caller's details only ever in a POST body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from urllib.parse import urlencode

from backoffice.pages import ZONE, Viewer, hidden, layout
from booking.appointments.desk import CLOSE_AT_ONCE, Expired
from booking.appointments.model import AppointmentStatus, BookingView
from booking.catalogue.model import Department, Part, yuan
from booking.catalogue.search import SessionOffer

PARTS = {Part.AM: "上午 am", Part.PM: "下午 pm", Part.EVE: "晚上 evening"}
WEEKDAYS = "一二三四五六日"
BOOK_TITLE = "代客挂号 Book for a caller"


def _error(error: str | None) -> str:
    return f'<p class="error" role="alert">{escape(error)}</p>' if error else ""


def _book_link(prefix: str, **query: str) -> str:
    return escape(f"{prefix}/desk/book?{urlencode(query)}")


def session_label(offer: SessionOffer) -> str:
    s = offer.session
    start, end = s.starts_at.astimezone(ZONE), s.ends_at.astimezone(ZONE)
    fee = yuan(s.registration_fee_fen + s.consultation_fee_fen)
    return (
        f"{s.visit_date.isoformat()} 周{WEEKDAYS[s.visit_date.weekday()]} "
        f"{PARTS.get(s.part, s.part.value)} {start:%H:%M}-{end:%H:%M} · "
        f"{offer.doctor.name} {offer.doctor.title} · ¥{fee} · 余{offer.free} free"
    )


def departments(prefix: str, viewer: Viewer, found: Sequence[Department]) -> str:
    items = "".join(
        f'<li><a href="{_book_link(prefix, department=f"{d.hospital_code}:{d.code}")}">'
        f"{escape(d.hospital_code)} {escape(d.name_zh)} {escape(d.name_en)}</a></li>"
        for d in found
        if d.bookable
    )
    body = f"<p>1. 选择科室 Choose the department:</p><ul>{items}</ul>"
    return layout(prefix, BOOK_TITLE, body, viewer)


def doctors(prefix: str, viewer: Viewer, department: str, offers: Sequence[SessionOffer]) -> str:
    """The department's doctors who have places to book, with how many sessions each."""
    counts: dict[str, tuple[str, int]] = {}
    for o in offers:
        label, n = counts.get(o.doctor.work_no, (f"{o.doctor.name} {o.doctor.title}", 0))
        counts[o.doctor.work_no] = (label, n + 1)
    hospital = department.partition(":")[0]
    items = "".join(
        f'<li><a href="{_book_link(prefix, department=department, doctor=f"{hospital}:{no}")}">'
        f"{escape(label)} ({escape(no)}) · {n} 个出诊 sessions</a></li>"
        for no, (label, n) in counts.items()
    )
    body = (
        f"<p>2. 选择医生 Choose the doctor:</p><ul>{items}</ul>"
        if items
        else "<p>该科室近期没有可预约的号。Nothing to book in this department soon.</p>"
    )
    back = f'<p><a href="{prefix}/desk/book">← 科室 Departments</a></p>'
    return layout(prefix, BOOK_TITLE, body + back, viewer)


def sessions(
    prefix: str, viewer: Viewer, department: str, doctor: str, offers: Sequence[SessionOffer]
) -> str:
    items = "".join(
        f'<li><a href="{_book_link(prefix, department=department, doctor=doctor, session=str(o.session.id))}">'  # noqa: E501
        f"{escape(session_label(o))}</a></li>"
        for o in offers
    )
    body = (
        f"<p>3. 选择出诊 Choose the session:</p><ul>{items}</ul>"
        if items
        else "<p>这位医生近期没有可预约的号。Nothing to book with this doctor soon.</p>"
    )
    back = f'<p><a href="{_book_link(prefix, department=department)}">← 医生 Doctors</a></p>'
    return layout(prefix, BOOK_TITLE, body + back, viewer)


def caller_form(
    prefix: str,
    viewer: Viewer,
    offer: SessionOffer,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> str:
    """4. The caller's real name, ID number and mobile phone (实名制), and the booking."""
    _, csrf = viewer
    given = typed or {}

    def field(name: str, label: str, size: int, kind: str = "text") -> str:
        return (
            f'<p><label>{label}<br><input name="{name}" type="{kind}" required '
            f'maxlength="{size}" autocomplete="off" value="{escape(given.get(name, ""))}">'
            "</label></p>"
        )

    body = (
        f"{_error(error)}<p>4. 出诊 Session: <strong>{escape(session_label(offer))}</strong> "
        f"({escape(offer.department.name_zh)})</p>"
        f'<form method="post" action="{prefix}/desk/book">{hidden(csrf)}'
        f'<input type="hidden" name="session" value="{offer.session.id}">'
        + field("name", "来电人姓名（身份证上的）Caller's name as on the ID card", 40)
        + field("id_number", "身份证号 ID number (18)", 18)
        + field("phone", "手机号 Mobile phone", 20, "tel")
        + "<p><button>挂号 Book</button></p></form>"
    )
    department = f"{offer.hospital.code}:{offer.department.code}"
    doctor = f"{offer.hospital.code}:{offer.doctor.work_no}"
    back = f'<p><a href="{_book_link(prefix, department=department, doctor=doctor)}">← 出诊 Sessions</a></p>'  # noqa: E501
    return layout(prefix, BOOK_TITLE, body + back, viewer)


def not_open(prefix: str, viewer: Viewer, error: str) -> str:
    back = f'<p><a href="{prefix}/desk/book">← 重新选择 Start again</a></p>'
    return layout(prefix, BOOK_TITLE, _error(error) + back, viewer)


def _visit(v: BookingView) -> str:
    start, end = v.expected_time.astimezone(ZONE), v.window_end.astimezone(ZONE)
    return (
        f"{v.visit_date.isoformat()} 周{WEEKDAYS[v.visit_date.weekday()]} "
        f"{start:%H:%M}-{end:%H:%M} 第{v.queue_no}号 queue number {v.queue_no}"
    )


def receipt(prefix: str, viewer: Viewer, v: BookingView) -> str:
    """What the agent reads out to the caller."""
    fee = yuan(v.registration_fee_fen + v.consultation_fee_fen)
    rows = (
        ("预约号 Booking number", v.booking_no),
        ("就诊人 Patient", f"{v.patient_name} {v.patient_id_masked}"),
        ("科室 Department", f"{v.department_name_zh} {v.department_name_en}"),
        ("医生 Doctor", f"{v.doctor_name} {v.doctor_title}"),
        ("就诊时间 Visit", _visit(v)),
        ("费用 Fee", f"¥{fee}"),
    )
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(val)}</td></tr>" for k, val in rows)
    body = (
        '<p class="done" role="status">已挂号，请向来电人读出预约号和就诊时间，并提醒携带身份证。'
        "Booked: read out the booking number and visit time; the patient brings the ID card."
        f"</p><table>{table}</table>"
        f'<p><a href="{prefix}/desk/book">再挂一个 Book another</a></p>'
    )
    return layout(prefix, "挂号成功 Booked", body, viewer)


def transfer(
    prefix: str,
    viewer: Viewer,
    v: BookingView,
    offers: Sequence[SessionOffer],
    *,
    error: str | None = None,
) -> str:
    _, csrf = viewer
    now = f"{v.department_name_zh} {v.doctor_name} · {_visit(v)}"
    choices = "".join(
        f'<p><label><input type="radio" name="session" value="{o.session.id}" required> '
        f"{escape(session_label(o))}</label></p>"
        for o in offers
    )
    form = (
        f'<form method="post" action="{prefix}/desk/transfer/{escape(v.booking_no)}">'
        f"{hidden(csrf)}{choices}<p><button>转到所选出诊 Move it</button></p></form>"
        if offers
        else "<p>同科室近期没有可转的号。No other session of the department has places.</p>"
    )
    if v.status is not AppointmentStatus.BOOKED:
        form = "<p>只有“已预约”的预约可以转号。Only a booked booking can move.</p>"
    body = (
        f"{_error(error)}<p>预约号 Booking {escape(v.booking_no)} · "
        f"{escape(v.patient_name)} · 现在 now: {escape(now)}</p>"
        f"<p>转到同科室的 Move to another session of the department:</p>{form}"
        f'<p><a href="{prefix}/bookings?{escape(urlencode({"q": v.booking_no}))}">← 返回 Back</a></p>'  # noqa: E501
    )
    return layout(prefix, "转号 Transfer", body, viewer)


def expired(
    prefix: str,
    viewer: Viewer,
    through: date,
    found: Expired,
    *,
    closed: int | None = None,
) -> str:
    _, csrf = viewer
    cutoff = f"{found.cutoff.astimezone(ZONE):%Y-%m-%d %H:%M}"
    done = (
        f'<p class="done" role="status">已关闭 {closed} 个过期预约。Closed {closed} expired '
        "bookings.</p>"
        if closed is not None
        else ""
    )
    many = f"{CLOSE_AT_ONCE}+" if found.count > CLOSE_AT_ONCE else str(found.count)
    pick = (
        f'<form method="get" action="{prefix}/desk/expired"><label>就诊日期截至 Visits up to '
        f'<input type="date" name="through" value="{through.isoformat()}"></label> '
        "<button>查看 Show</button></form>"
    )
    count = (
        f"<p>出诊结束于 {escape(cutoff)} 之前、仍为“已预约”的预约：<strong>{many}</strong> 个。"
        f"Bookings still “booked” whose session ended before {escape(cutoff)}: "
        f"<strong>{many}</strong>.</p>"
    )
    close = (
        f'<form method="post" action="{prefix}/desk/expired">{hidden(csrf)}'
        f'<input type="hidden" name="through" value="{through.isoformat()}">'
        f"<button>全部关闭 Close them (at most {CLOSE_AT_ONCE} at once)</button></form>"
        "<p>关闭后状态为“已退号（过期）”，不退费、不计爽约、不通知患者。They become cancelled "
        "(expired): no refund, not counted as no-shows, the patients are not told.</p>"
        if found.count
        else ""
    )
    return layout(
        prefix, "清理过期预约 Close expired bookings", done + pick + count + close, viewer
    )
