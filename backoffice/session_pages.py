"""The pages of sessions (出诊): a day's sessions with their places, and one session's
bookings by queue number (each doctor's list), with the stop (停诊) form. Patients appear by
name with the masked forms of their numbers only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from urllib.parse import urlencode

from backoffice.pages import STATUS_NAMES, ZONE, Viewer, hidden, layout
from booking.appointments.model import BookingView
from booking.catalogue.model import Catalogue, Part
from booking.catalogue.schedule import SessionStatus
from booking.roster.ports import SessionLine

PART_NAMES = {Part.AM: "上午 AM", Part.PM: "下午 PM", Part.EVE: "晚上 Eve"}
SESSION_STATUS = {SessionStatus.OPEN: "出诊 open", SessionStatus.STOPPED: "停诊 stopped"}


def notes(message: str | None, error: str | None) -> str:
    out = ""
    if message:
        out += f'<p class="done" role="status">{escape(message)}</p>'
    if error:
        out += f'<p class="error" role="alert">{escape(error)}</p>'
    return out


def department_options(catalogue: Catalogue, chosen: str, *, everything: str | None) -> str:
    """<option>s of "HOSPITAL/DEPARTMENT" (and of whole hospitals when ``everything``)."""
    out = f'<option value="">{escape(everything)}</option>' if everything is not None else ""
    for h in catalogue.hospitals:
        if everything is not None:
            selected = " selected" if chosen == h.code else ""
            out += f'<option value="{escape(h.code)}"{selected}>{escape(h.name_zh)}</option>'
        for d in catalogue.departments:
            if d.hospital_code != h.code:
                continue
            value = f"{h.code}/{d.code}"
            selected = " selected" if chosen == value else ""
            label = f"{h.name_zh} · {d.name_zh} {d.name_en}"
            out += f'<option value="{escape(value)}"{selected}>{escape(label)}</option>'
    return out


def sessions_table(
    prefix: str, lines: Sequence[SessionLine], names: dict[str, str] | None = None
) -> str:
    """``names``: doctors' names by work number, when the table shows several doctors."""
    if not lines:
        return "<p>没有出诊 No sessions.</p>"
    heads = ["日期 Date", "时段 Part", "科室 Dept"]
    heads += ["医生 Doctor"] if names is not None else []
    heads += ["号源 Places", "已约 Booked", "已退 Cancelled", "剩余 Free", "状态 Status"]
    rows = []
    for line in lines:
        s = line.session
        when = f"{s.starts_at.astimezone(ZONE):%H:%M}-{s.ends_at.astimezone(ZONE):%H:%M}"
        cells = [
            f'<a href="{prefix}/sessions/{s.id}">{escape(s.visit_date.isoformat())}</a>',
            escape(f"{PART_NAMES[s.part]} {when}"),
            escape(s.department_code),
        ]
        if names is not None:
            cells.append(escape(f"{names.get(s.doctor_work_no, '')} ({s.doctor_work_no})"))
        status = SESSION_STATUS[s.status]
        if line.held:
            status += f" · {line.held} 候补保留 held"
        cells += [str(s.capacity), str(line.booked), str(line.cancelled), str(line.free)]
        cells.append(escape(status))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def sessions(
    prefix: str,
    viewer: Viewer,
    catalogue: Catalogue,
    day: date,
    scope: str,
    work_no: str,
    lines: Sequence[SessionLine],
    *,
    error: str | None = None,
) -> str:
    names = {d.work_no: d.name for d in catalogue.doctors}
    form = (
        f'<form method="get" action="{prefix}/sessions">'
        f'<label>日期 Date <input type="date" name="date" value="{day.isoformat()}"></label> '
        f'<label>科室 Department <select name="scope">'
        f"{department_options(catalogue, scope, everything='全部 All')}</select></label> "
        f'<label>医生工号 Doctor\'s work number <input name="doctor" maxlength="16" '
        f'value="{escape(work_no)}"></label> <button>查看 Show</button></form>'
    )
    body = form + notes(None, error) + sessions_table(prefix, lines, names)
    return layout(prefix, "出诊安排 Sessions", body, viewer)


def session(
    prefix: str,
    viewer: Viewer,
    line: SessionLine,
    doctor_name: str,
    bookings: Sequence[BookingView],
    *,
    may_stop: bool,
    message: str | None = None,
    error: str | None = None,
) -> str:
    _, csrf = viewer
    s = line.session
    when = f"{s.starts_at.astimezone(ZONE):%H:%M}-{s.ends_at.astimezone(ZONE):%H:%M}"
    facts = (
        f"<p>{escape(s.visit_date.isoformat())} {escape(PART_NAMES[s.part])} {escape(when)} · "
        f"{escape(s.hospital_code)} {escape(s.department_code)} · "
        f"{escape(doctor_name)} ({escape(s.doctor_work_no)}) · "
        f"{escape(SESSION_STATUS[s.status])}</p>"
        f"<p>号源 Places {s.capacity} · 已约 Booked {line.booked} · 已退 Cancelled "
        f"{line.cancelled} · 剩余 Free {line.free}</p>"
    )
    if s.status is SessionStatus.STOPPED and s.stop_reason:
        facts += f"<p>停诊原因 Reason: {escape(s.stop_reason)}</p>"
    rows = "".join(
        f"<tr><td>{v.queue_no}</td><td>"
        f'<a href="{prefix}/bookings?{escape(urlencode({"q": v.booking_no}))}">'
        f"{escape(v.booking_no)}</a></td>"
        f"<td>{escape(v.expected_time.astimezone(ZONE).strftime('%H:%M'))}</td>"
        f"<td>{escape(v.patient_name)} {escape(v.patient_id_masked)}</td>"
        f"<td>{escape(STATUS_NAMES.get(v.status, v.status.value))}</td></tr>"
        for v in bookings
    )
    table = (
        "<table><tr><th>序号 Queue no.</th><th>预约号 Booking</th><th>时间 Time</th>"
        f"<th>就诊人 Patient</th><th>状态 Status</th></tr>{rows}</table>"
        if rows
        else "<p>没有预约 No bookings.</p>"
    )
    stop = ""
    if may_stop and s.status is SessionStatus.OPEN:
        stop = (
            f'<h2>停诊 Stop this session</h2><form method="post" '
            f'action="{prefix}/sessions/{s.id}/stop">{hidden(csrf)}'
            "<p>所有预约将被取消并退费，患者会收到停诊通知（含原因）并可转到同科室其他出诊。"
            " Every booking is cancelled and refunded; each patient is told, with the reason,"
            " and offered a transfer within the department.</p>"
            "<p><label>原因 Reason (告知患者 told to the patients)<br>"
            '<input name="reason" required maxlength="200" size="60" '
            'placeholder="医生临时出差"></label></p><p><button>停诊 Stop</button></p></form>'
        )
    body = notes(message, error) + facts + table + stop
    return layout(prefix, f"出诊 Session #{s.id}", body, viewer)
