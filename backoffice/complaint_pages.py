"""The complaint desk's pages: the list by status with deadlines and overdue marks, one
complaint with what was done with it and the forms to act, and a complaint taken by phone.
What the patient wrote is shown to the staff handling it; every value goes through escape."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from backoffice.pages import Viewer, _when, hidden, layout
from booking.complaints.desk import Listed, Opened
from booking.complaints.model import TOP_LEVEL, Action, ComplaintCategory, ComplaintStatus

STATUS_NAMES = {
    ComplaintStatus.RECEIVED: "待受理 received",
    ComplaintStatus.IN_PROGRESS: "处理中 in progress",
    ComplaintStatus.ANSWERED: "已回复 answered",
    ComplaintStatus.CLOSED: "已办结 resolved",
}
LEVEL_NAMES = {0: "科室 department", 1: "投诉办 complaints office", 2: "院领导 management"}
CATEGORY_NAMES = {
    ComplaintCategory.SERVICE: "服务态度 service",
    ComplaintCategory.WAITING: "等候时间 waiting",
    ComplaintCategory.FEES: "收费 fees",
    ComplaintCategory.BOOKING: "预约挂号 booking",
    ComplaintCategory.FACILITIES: "环境设施 facilities",
    ComplaintCategory.SUGGESTION: "建议 suggestion",
    ComplaintCategory.OTHER: "其他 other",
}
ACTION_NAMES = {
    Action.FILE: "电话登记 taken by phone",
    Action.ACCEPT: "受理 accepted",
    Action.REPLY: "回复 replied",
    Action.FORWARD: "转办 forwarded",
    Action.ESCALATE: "升级 escalated",
    Action.RESOLVE: "办结 resolved",
    Action.AUTO_ESCALATE: "超时自动升级 escalated (deadline passed)",
}
DONE = {
    "filed": "已登记。请将受理流水号告知来电者。Entered: read the tracking number to the caller.",
    "accept": "已受理。Accepted.",
    "reply": "已回复，将发送给患者。Replied; the patient is told.",
    "resolve": "已办结，结果将发送给患者。Resolved; the patient is told the result.",
    "forward": "已转办。Forwarded.",
    "escalate": "已升级。Escalated.",
}
REFUSALS = {
    "ComplaintClosed": "该投诉已办结。The complaint is resolved.",
    "AlreadyAccepted": "已由他人受理。Someone else has accepted it.",
    "AtTopLevel": "已在最高级别（院领导）。Management has it already.",
    "UnknownDepartment": "没有这个科室。No such department.",
    "InvalidInput": "请填写内容。Please write the text.",
}
REFUSED = "操作未完成。It could not be done."
Departments = Sequence[tuple[str, str]]  # (code, name)


def complaint_list(
    prefix: str, viewer: Viewer, found: Sequence[Listed], status: ComplaintStatus | None
) -> str:
    choices = [(None, "全部 All"), *STATUS_NAMES.items()]
    filters = " · ".join(
        f"<strong>{escape(label)}</strong>"
        if value == status
        else f'<a href="{prefix}/complaints{_status_query(value)}">{escape(label)}</a>'
        for value, label in choices
    )
    parts = [
        f"<p>{filters}</p>",
        f'<p><a href="{prefix}/complaints/new">电话登记投诉 Enter a complaint taken by phone'
        "</a></p>",
    ]
    if not found:
        parts.append("<p>无投诉 No complaints.</p>")
    else:
        head = (
            "流水号 No.|类别 Category|科室 Dept.|状态 Status|级别 Level|受理期限 Accept by|"
            "受理人 By|登记 Filed"
        )
        heads = "".join(f"<th>{escape(h)}</th>" for h in head.split("|"))
        rows = "".join(_list_row(prefix, item) for item in found)
        parts.append(f"<table><tr>{heads}</tr>{rows}</table>")
    return layout(prefix, "投诉处理 Complaints", "".join(parts), viewer)


def _status_query(status: ComplaintStatus | None) -> str:
    return "" if status is None else "?" + escape(urlencode({"status": status.value}))


def _list_row(prefix: str, item: Listed) -> str:
    c = item.complaint
    number = escape(c.complaint_no)
    cells = (
        f'<a href="{prefix}/complaints/{number}">{number}</a>',
        escape(CATEGORY_NAMES[c.category]),
        escape(c.department_code or "—"),
        escape(STATUS_NAMES[c.status]),
        escape(LEVEL_NAMES.get(c.level, str(c.level))),
        _deadline(c.accept_by, item.overdue),
        escape(c.accepted_by.name if c.accepted_by else "—"),
        escape(_when(c.created_at)),
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _deadline(accept_by: datetime | None, overdue: bool) -> str:
    text = escape(_when(accept_by)) if accept_by is not None else "—"
    return f'{text} <strong class="error">逾期 overdue</strong>' if overdue else text


def complaint_page(
    prefix: str,
    viewer: Viewer,
    opened: Opened,
    departments: Departments,
    *,
    message: str | None = None,
    error: str | None = None,
) -> str:
    c = opened.complaint
    _, csrf = viewer
    parts = []
    if message:
        parts.append(f'<p class="done" role="status">{escape(message)}</p>')
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    facts = (
        ("类别 Category", escape(CATEGORY_NAMES[c.category])),
        ("科室 Department", escape(c.department_code or "—")),
        ("状态 Status", escape(STATUS_NAMES[c.status])),
        ("级别 Level", escape(LEVEL_NAMES.get(c.level, str(c.level)))),
        ("受理期限 Accept by", _deadline(c.accept_by, opened.overdue)),
        ("受理人 Accepted by", escape(c.accepted_by.name if c.accepted_by else "—")),
        (
            "来源 Channel",
            escape(c.channel) + ("" if c.answerable else " (答复仅记录 replies only recorded)"),
        ),
        ("登记 Filed", escape(_when(c.created_at))),
    )
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in facts)
    parts.append(f"<table>{rows}</table>")
    parts.append(f"<h2>内容 What was said</h2><blockquote>{escape(opened.text)}</blockquote>")
    parts.append(_history(opened))
    if c.status is not ComplaintStatus.CLOSED:
        parts.append(_actions(prefix, csrf, opened, departments))
    title = f"投诉 Complaint {c.complaint_no}"
    return layout(prefix, title, "".join(parts), viewer)


def _history(opened: Opened) -> str:
    if not opened.history:
        return "<h2>处理记录 History</h2><p>尚无 Nothing yet.</p>"
    head = "时间 When|操作 Action|人员 By|级别 Level|科室 Dept.|内容 Text"
    heads = "".join(f"<th>{escape(h)}</th>" for h in head.split("|"))
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(cell)}</td>"
            for cell in (
                _when(a.at),
                ACTION_NAMES.get(a.action, a.action.value),
                a.staff.name if a.staff else "系统 system",
                LEVEL_NAMES.get(a.level, str(a.level)),
                a.department_code or "",
                a.text or "",
            )
        )
        + "</tr>"
        for a in opened.history
    )
    return f"<h2>处理记录 History</h2><table><tr>{heads}</tr>{rows}</table>"


def _actions(prefix: str, csrf: str, opened: Opened, departments: Departments) -> str:
    c = opened.complaint
    base = f"{prefix}/complaints/{escape(c.complaint_no)}"

    def button(step: str, label: str) -> str:
        return (
            f'<form class="inline" method="post" action="{base}/{step}">{hidden(csrf)}'
            f"<button>{escape(label)}</button></form> "
        )

    def text_form(step: str, label: str) -> str:
        return (
            f'<form method="post" action="{base}/{step}">{hidden(csrf)}<p><label>'
            f'{escape(label)}<br><textarea name="text" rows="3" cols="60" maxlength="2000" '
            f"required></textarea></label><br><button>{escape(label)}</button></p></form>"
        )

    options = "".join(
        f'<option value="{escape(code)}">{escape(code)} {escape(name)}</option>'
        for code, name in departments
    )
    parts = ["<h2>处理 Act</h2><p>"]
    if c.accepted_by is None:
        parts.append(button("accept", "受理 Accept"))
    if c.level < TOP_LEVEL:
        parts.append(button("escalate", "升级 Escalate"))
    parts.append("</p>")
    parts.append(text_form("reply", "回复患者 Reply to the patient"))
    parts.append(text_form("resolve", "办结（结果告知患者）Resolve, telling the result"))
    parts.append(
        f'<form method="post" action="{base}/forward">{hidden(csrf)}<p><label>转办 Forward to '
        f'<select name="department">{options}</select></label> '
        "<button>转办 Forward</button></p></form>"
    )
    return "".join(parts)


def new_complaint(
    prefix: str,
    viewer: Viewer,
    departments: Departments,
    *,
    own_department: str | None,
    error: str | None = None,
) -> str:
    _, csrf = viewer
    categories = "".join(
        f'<option value="{c.value}">{escape(name)}</option>' for c, name in CATEGORY_NAMES.items()
    )
    if own_department is not None:
        where = f"<p>科室 Department: {escape(own_department)}</p>"
    else:
        options = '<option value="">（不指定 none）</option>' + "".join(
            f'<option value="{escape(code)}">{escape(code)} {escape(name)}</option>'
            for code, name in departments
        )
        where = (
            f'<p><label>科室 Department <select name="department">{options}</select></label></p>'
        )
    note = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f'{note}<form method="post" action="{prefix}/complaints/new">{hidden(csrf)}'
        f'<p><label>类别 Category <select name="category">{categories}</select></label></p>'
        f"{where}"
        '<p><label>来电者语言 Caller\'s language <select name="language">'
        '<option value="zh">中文</option><option value="en">English</option></select></label></p>'
        '<p><label>内容 What the caller said<br><textarea name="text" rows="5" cols="60" '
        'maxlength="2000" required></textarea></label></p>'
        "<p><button>登记 Enter</button></p></form>"
    )
    return layout(prefix, "电话登记投诉 Complaint taken by phone", body, viewer)


def not_found(prefix: str, viewer: Viewer) -> str:
    body = (
        f'<p>没有这个投诉。No such complaint.</p><p><a href="{prefix}/complaints">返回 Back</a></p>'
    )
    return layout(prefix, "404 投诉 Complaint", body, viewer)
