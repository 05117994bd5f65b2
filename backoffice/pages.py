"""The back office's pages: small string templates, every value through html.escape.
Patients appear only with the masked forms of their ID and phone numbers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from backoffice.bookings import Choices, Filters
from booking.appointments.model import AppointmentStatus, BookingView
from booking.staff.model import ROLE_NAMES, AuditEntry, AuditPage, Permission, StaffAccount

Viewer = tuple[StaffAccount, str]  # who is signed in, and their session's CSRF token
ZONE = ZoneInfo("Asia/Shanghai")  # the demo hospitals'; the back office shows their time

WHAT_ROLES_DO = {
    Permission.FIND_BOOKINGS: ("查找预约 Find bookings", "/bookings"),
    Permission.CHANGE_BOOKINGS: ("退号、转号、签到 Cancel, transfer, check in", "/bookings"),
    Permission.BOOK_FOR_CALLER: ("代客挂号 Book for a caller", "/desk/book"),
    Permission.CANCEL_EXPIRED: ("清理过期预约 Close expired bookings", "/desk/expired"),
    Permission.VIEW_PATIENTS: ("患者 Patients", "/patients"),
    Permission.EDIT_PATIENTS: ("修改、删除患者 Edit or remove patients", "/patients"),
    Permission.VIEW_SCHEDULES: ("出诊安排 Sessions", "/sessions"),
    Permission.MANAGE_DOCTORS: ("医生与排班 Doctors and roster", "/doctors"),
    Permission.STOP_SESSIONS: ("停诊 Stop a session", "/sessions"),
    Permission.MANAGE_BLACKLIST: ("黑名单 Blacklist", "/blacklist"),
    Permission.READ_REPORTS: ("统计报表 Reports", "/reports"),
    Permission.READ_LOGS: ("日志 Logs", "/logs"),
    Permission.HANDLE_COMPLAINTS: ("投诉处理 Complaints", "/complaints"),
    Permission.READ_AUDIT: ("审计日志 Audit log", "/audit"),
}
STATUS_NAMES = {
    AppointmentStatus.BOOKED: "已预约 booked",
    AppointmentStatus.ARRIVED: "已签到 arrived",
    AppointmentStatus.FULFILLED: "已就诊 fulfilled",
    AppointmentStatus.CANCELLED: "已退号 cancelled",
    AppointmentStatus.NOSHOW: "爽约 no-show",
}
ACTIONS = (("cancel", "退号 Cancel"), ("arrive", "签到 Check in"), ("noshow", "爽约 No-show"))
STYLE = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:0;color:#222}
header{background:#0b5394;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:.4em 1em;
align-items:center}header a{white-space:nowrap}
header a,header button{color:#fff}header .who{margin-left:auto}main{padding:1em;max-width:70em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35em;
text-align:left;vertical-align:top}form.inline{display:inline}.error{color:#b00}.done{color:#070}
button{cursor:pointer}header button{background:none;border:1px solid #fff;border-radius:3px}"""


def layout(prefix: str, title: str, body: str, viewer: Viewer | None) -> str:
    bar = f'<strong><a href="{prefix}/">挂号后台 guahao</a></strong>'
    if viewer is not None:
        account, csrf = viewer
        paths = dict.fromkeys(
            path for permission, (_, path) in WHAT_ROLES_DO.items() if account.may(permission)
        )  # one link per page, in order
        names = {path: label for label, path in reversed(WHAT_ROLES_DO.values())}
        links = "".join(
            f'<a href="{prefix}{path}">{escape(names[path].split(" ")[0])}</a>' for path in paths
        )
        bar += (
            f'{links}<span class="who">{escape(account.username)} · '
            f"{escape(ROLE_NAMES[account.role])}</span>"
            f'<form class="inline" method="post" action="{prefix}/logout">{hidden(csrf)}'
            "<button>退出 Log out</button></form>"
        )
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · 挂号后台</title><style>{STYLE}</style></head>"
        f"<body><header>{bar}</header><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def hidden(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(csrf)}">'


TOO_MANY_LOGINS = "登录尝试过多，请稍后再试。Too many attempts to log in from here; please wait."


def login(prefix: str, csrf: str, *, message: str | None = None, username: str = "") -> str:
    note = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = (
        f'{note}<form method="post" action="{prefix}/login">{hidden(csrf)}'
        '<p><label>用户名 Username<br><input name="username" autocomplete="username" '
        f'required maxlength="32" value="{escape(username)}" autofocus></label></p>'
        '<p><label>密码 Password<br><input name="password" type="password" required '
        'autocomplete="current-password" maxlength="128"></label></p>'
        "<p><button>登录 Log in</button></p></form>"
    )
    return layout(prefix, "登录 Log in", body, None)


def home(prefix: str, viewer: Viewer) -> str:
    account, _ = viewer
    items = []
    for permission, (label, path) in WHAT_ROLES_DO.items():
        if not account.may(permission):
            continue
        text = escape(label)
        link = f'<a href="{prefix}{path}">{text}</a>' if path else text
        items.append(f"<li>{link}</li>")
    department = (
        f"<p>科室 Department: {escape(account.department_code)}</p>"
        if account.department_code
        else ""
    )
    body = f"{department}<p>您可以 You may:</p><ul>{''.join(items)}</ul>"
    return layout(prefix, "工作台 Desk", body, viewer)


def denied(prefix: str, viewer: Viewer | None) -> str:
    body = "<p>您没有权限进行此操作，此次尝试已记录。You may not do this; it has been recorded.</p>"
    return layout(prefix, "403 无权限 Forbidden", body, viewer)


def bookings(
    prefix: str,
    viewer: Viewer,
    q: str,
    found: Sequence[BookingView] | None,
    *,
    message: str | None = None,
    error: str | None = None,
    may_change: bool = False,
    filters: Filters | None = None,
    choices: Choices | None = None,
) -> str:
    _, csrf = viewer
    f = filters or Filters()
    narrow = ""
    if choices is not None:
        narrow = (
            f"<p>{_select('department', '科室 Department', choices.departments, f.department)} "
            f"{_select('doctor', '医生 Doctor', choices.doctors, f.doctor)} "
            f"{_date_input('booked', '预约日期 Booked on', f.booked_on)} "
            f"{_date_input('visit', '就诊日期 Visit date', f.visit_date)}</p>"
        )
    parts = [
        f'<form method="post" action="{prefix}/bookings">{hidden(csrf)}'
        f"<label>手机号、身份证号、预约号或姓名 "
        f'Phone, ID number, booking number or name <input name="q" value="{escape(q)}" '
        f'maxlength="40" autofocus></label> <button>查找 Find</button>{narrow}</form>'
    ]
    if message:
        parts.append(f'<p class="done" role="status">{escape(message)}</p>')
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    if found is not None and not found:
        parts.append("<p>没有找到预约 No bookings found.</p>")
    if found:
        parts.append(booking_table(prefix, csrf, found, may_change))
    return layout(prefix, "查找预约 Find bookings", "".join(parts), viewer)


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    items = "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
        f"{escape(text)}</option>"
        for value, text in [("", "全部 any"), *options]
    )
    return f'<label>{escape(label)} <select name="{name}">{items}</select></label>'


def _date_input(name: str, label: str, value: date | None) -> str:
    shown = value.isoformat() if value else ""
    return f'<label>{escape(label)} <input type="date" name="{name}" value="{shown}"></label>'


def booking_table(prefix: str, csrf: str, found: Sequence[BookingView], may_change: bool) -> str:
    head = (
        "预约号 Booking|状态 Status|就诊人 Patient|手机 Phone|就诊 Visit|医生 Doctor|操作 Actions"
    )
    rows = [_booking_row(prefix, csrf, v, may_change) for v in found]
    header = "".join(f"<th>{escape(h)}</th>" for h in head.split("|"))
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _booking_row(prefix: str, csrf: str, v: BookingView, may_change: bool) -> str:
    start = v.expected_time.astimezone(ZONE)
    end = v.window_end.astimezone(ZONE)
    visit = f"{v.visit_date.isoformat()} {start:%H:%M}-{end:%H:%M} 第{v.queue_no}号"
    buttons = ""
    if may_change and v.status is AppointmentStatus.BOOKED:
        buttons = "".join(
            f'<form class="inline" method="post" '
            f'action="{prefix}/bookings/{escape(v.booking_no)}/{action}">{hidden(csrf)}'
            f"<button>{escape(label)}</button></form> "
            for action, label in ACTIONS
        )
        # 转号 picks the new session on a page of its own.
        buttons += f'<a href="{prefix}/desk/transfer/{escape(v.booking_no)}">转号 Transfer</a>'
    cells = (
        escape(v.booking_no),
        escape(STATUS_NAMES.get(v.status, v.status.value)),
        f"{escape(v.patient_name)}<br>{escape(v.patient_id_masked)}",
        escape(v.patient_phone_masked),
        escape(visit),
        f"{escape(v.department_name_zh)} {escape(v.doctor_name)}",
        buttons,
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def audit_log(
    prefix: str, viewer: Viewer, page: AuditPage, *, staff: str, action: str, number: int
) -> str:
    form = (
        f'<form method="get" action="{prefix}/audit"><label>员工 Staff '
        f'<input name="staff" value="{escape(staff)}" maxlength="32"></label> '
        f'<label>操作 Action <input name="action" value="{escape(action)}" maxlength="32">'
        "</label> <button>筛选 Filter</button></form>"
    )
    header = "时间 When|员工 Who|操作 Action|对象 Target|之前 Before|之后 After|地址 Address"
    rows = "".join(_audit_row(entry) for entry in page.entries)
    heads = "".join(f"<th>{escape(h)}</th>" for h in header.split("|"))
    table = f"<table><tr>{heads}</tr>{rows}</table>" if page.entries else "<p>无记录 Nothing.</p>"
    links = []
    query = {k: v for k, v in (("staff", staff), ("action", action)) if v}
    if number > 1:
        links.append(f'<a href="{prefix}/audit?{_query(query, number - 1)}">← 较新 Newer</a>')
    if page.more:
        links.append(f'<a href="{prefix}/audit?{_query(query, number + 1)}">较早 Older →</a>')
    nav = f"<p>{' · '.join(links)}</p>" if links else ""
    return layout(prefix, "审计日志 Audit log", form + table + nav, viewer)


def _query(query: dict[str, str], number: int) -> str:
    return escape(urlencode({**query, "page": str(number)}))


def _audit_row(entry: AuditEntry) -> str:
    who = entry.username or ("命令行 command line" if entry.address == "cli" else "—")
    cells = (
        _when(entry.at),
        who,
        entry.action if entry.times == 1 else f"{entry.action} ×{entry.times}",
        entry.target or "",
        _json(entry.before),
        _json(entry.after),
        entry.address or "",
    )
    return "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"


def _when(at: datetime) -> str:
    return f"{at.astimezone(ZONE):%Y-%m-%d %H:%M:%S}"


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
