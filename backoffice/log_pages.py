"""The log pages (B8): the booking log and the operation-error log as two tabs, with their
filters and pages. Entries hold no personal data; every value is escaped all the same."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from backoffice.pages import Viewer, _json, _when, layout
from booking.staff.model import LogEntry, LogKind, LogPage

TABS = {
    LogKind.BOOKINGS: "预约日志 Booking log",
    LogKind.ERRORS: "操作错误日志 Operation errors",
}
HEADS = {
    LogKind.BOOKINGS: "时间 When|事件 Event|预约号 Booking|原因 Reason|详情 Detail",
    LogKind.ERRORS: "时间 When|操作 Operation|原因 Reason|预约号 Booking|详情 Detail",
}
KEPT = "日志保留一年，之后自动清除。Entries are kept one year, then purged."


def logs(
    prefix: str,
    viewer: Viewer,
    kind: LogKind,
    query: dict[str, str],
    found: LogPage | None,
    number: int,
    *,
    error: str | None = None,
) -> str:
    tabs = " · ".join(
        f"<strong>{escape(label)}</strong>"
        if tab is kind
        else f'<a href="{prefix}/logs?{escape(urlencode({"log": tab.value}))}">{escape(label)}</a>'
        for tab, label in TABS.items()
    )
    parts = [f"<nav><p>{tabs}</p></nav>", _filters(prefix, kind, query), f"<p>{KEPT}</p>"]
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    if found is not None:
        parts.append(_table(kind, found))
        parts.append(_pages(prefix, kind, query, found, number))
    return layout(prefix, "日志 Logs", "".join(parts), viewer)


def _filters(prefix: str, kind: LogKind, query: dict[str, str]) -> str:
    what = "事件 Event" if kind is LogKind.BOOKINGS else "操作 Operation"

    def field(name: str, label: str, kind_: str = "text", size: int = 32) -> str:
        value = escape(query.get(name, ""))
        return (
            f'<label>{escape(label)} <input type="{kind_}" name="{name}" value="{value}" '
            f'maxlength="{size}"></label> '
        )

    return (
        f'<form method="get" action="{prefix}/logs">'
        f'<input type="hidden" name="log" value="{kind.value}">'
        + field("from", "从 From", "date", 10)
        + field("to", "到 To", "date", 10)
        + field("event", what)
        + field("booking_no", "预约号 Booking no.", size=20)
        + field("reason", "原因 Reason")
        + "<button>查询 Search</button></form>"
    )


def _table(kind: LogKind, found: LogPage) -> str:
    if not found.entries:
        return "<p>无记录 Nothing found.</p>"
    heads = "".join(f"<th>{escape(h)}</th>" for h in HEADS[kind].split("|"))
    rows = "".join(_row(kind, e) for e in found.entries)
    return f"<table><tr>{heads}</tr>{rows}</table>"


def _row(kind: LogKind, e: LogEntry) -> str:
    if kind is LogKind.BOOKINGS:
        cells = (_when(e.at), e.what, e.booking_no or "", e.reason or "", _json(e.detail))
    else:
        cells = (_when(e.at), e.what, e.reason or "", e.booking_no or "", _json(e.detail))
    return "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"


def _pages(prefix: str, kind: LogKind, query: dict[str, str], found: LogPage, number: int) -> str:
    kept = {"log": kind.value, **{k: v for k, v in query.items() if v}}
    links = []
    if number > 1:
        newer = escape(urlencode({**kept, "page": str(number - 1)}))
        links.append(f'<a href="{prefix}/logs?{newer}">← 较新 Newer</a>')
    if found.more:
        older = escape(urlencode({**kept, "page": str(number + 1)}))
        links.append(f'<a href="{prefix}/logs?{older}">较早 Older →</a>')
    return f"<p>{' · '.join(links)}</p>" if links else ""
