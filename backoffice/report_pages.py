"""The statistics page: the period form, a summary, and for each report its chart, its table
and its CSV/XLSX downloads. Reports hold no patients; every value goes through html.escape."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from urllib.parse import urlencode

from backoffice.charts import bar_chart, line_chart
from backoffice.pages import Viewer, layout
from booking.reports.statistics import MAX_DAYS, Basis, Group, HospitalChoice, Rate, Report, Yuan
from booking.reports.tables import CHANNEL_NAMES, DAYS, TITLES, Cell, Kind, Table, table

NUMBER = ' class="n"'  # right-aligned
MOST_BARS = 40  # a chart of more bars than this is unreadable; the table has them all
STYLE = (
    "<style>td.n,th.n{text-align:right}tr.total td{font-weight:bold;border-top:2px solid #999}"
    "section{margin:1.5em 0}.downloads a{margin-right:1em}dl.summary{display:grid;"
    "grid-template-columns:repeat(4,auto);gap:.3em 1em}dl.summary dd{margin:0;font-weight:bold}"
    "</style>"
)
ERRORS = {
    "from": "开始日期有误，请按 2026-11-23 的格式填写。The start date is written like 2026-11-23.",
    "to": "结束日期有误或早于开始日期，期间最长 {most} 天。The end date must be a date on or "
    "after the start, within {most} days.",
    "hospital": "没有这家医院。No such hospital.",
    "basis": "请选择按就诊日期或预约日期统计。Count by visit date or by booking date.",
}


UNKNOWN_EXPORT = "没有这种报表或格式（CSV、XLSX）。No such report or file format (CSV or XLSX)."


def period_error(field: str) -> str:
    return ERRORS.get(field, ERRORS["to"]).format(most=MAX_DAYS)


def reports(
    prefix: str,
    viewer: Viewer,
    choices: Sequence[HospitalChoice],
    asked: dict[str, str],
    report: Report | None,
    error: str | None = None,
) -> str:
    """`asked`: the form's fields as typed (from, to, hospital), to show them again."""
    parts = [STYLE, _form(prefix, choices, asked)]
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    if report is not None:
        parts.append(_summary(report))
        for kind in Kind:
            parts.append(_section(prefix, report, kind))
    return layout(prefix, "统计报表 Reports", "".join(parts), viewer)


def _form(prefix: str, choices: Sequence[HospitalChoice], asked: dict[str, str]) -> str:
    options = ['<option value="">全部医院 All hospitals</option>']
    for c in choices:
        chosen = " selected" if asked.get("hospital") == c.code else ""
        options.append(
            f'<option value="{escape(c.code)}"{chosen}>{escape(c.code)} {escape(c.name_zh)}'
            "</option>"
        )
    hospital = (
        f'<label>医院 Hospital <select name="hospital">{"".join(options)}</select></label> '
        if len(choices) > 1
        else ""
    )
    by_booking = asked.get("basis") == Basis.BOOKED
    basis = (
        '<select name="basis" aria-label="日期口径 Dates">'
        f'<option value="visit">{escape(DAYS[Basis.VISIT])}</option>'
        f'<option value="booked"{" selected" if by_booking else ""}>'
        f"{escape(DAYS[Basis.BOOKED])}</option></select>"
    )
    return (
        f'<form method="get" action="{prefix}/reports"><p>{basis} '
        f'<label>从 From <input type="date" name="from" value="{escape(asked.get("from", ""))}">'
        f'</label> <label>到 To <input type="date" name="to" '
        f'value="{escape(asked.get("to", ""))}"></label> {hospital}'
        "<button>查看 Show</button></p></form>"
    )


def _summary(report: Report) -> str:
    c = report.totals
    period = f"{report.period.first.isoformat()} — {report.period.last.isoformat()}"
    where = f" · {report.period.hospital_code}" if report.period.hospital_code else ""
    where += f" · {DAYS[report.period.basis]}"
    items = (
        ("预约 Bookings", str(c.total)),
        ("就诊 Visits", str(c.visits)),
        ("退号 Cancelled", str(c.cancelled)),
        ("爽约 No-shows", str(c.noshow)),
        ("爽约率 No-show rate", str(c.no_show_rate)),
        ("退号率 Cancellation rate", str(c.cancellation_rate)),
        ("挂号费 Registration fees", f"¥{Yuan(c.registration_fen)}"),
        ("诊疗费 Consultation fees", f"¥{Yuan(c.consultation_fen)}"),
    )
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return (
        f'<section id="summary"><h2>{escape(period + where)}</h2>'
        f'<dl class="summary">{cells}</dl>'
        "<p>费用为未退号、未停诊预约之和（过期关闭的预约不退费，计入）；退号率为患者与窗口退号占"
        "全部预约的比例，停诊另列一栏；爽约率为已签到、已就诊与爽约中爽约所占比例。Fees are those "
        "of bookings neither cancelled nor stopped (those closed unattended are not refunded, and "
        "count); the cancellation rate is of the patients' and the desk's cancellations, the "
        "hospital's stops (停诊) are a column of their own; the no-show rate is of bookings whose "
        "day has come.</p></section>"
    )


def _bars(groups: list[Group], names: dict[str, str] | None = None) -> list[tuple[str, int]]:
    names = names or {}
    return [(names.get(g.label, g.label), g.counts.total) for g in groups[:MOST_BARS]]


def _chart(report: Report, kind: Kind) -> str:
    title = TITLES[kind] + " 预约数 bookings"
    if kind is Kind.CLINIC_TYPE:
        return bar_chart(title, _bars(report.clinic_types))
    if kind is Kind.DEPARTMENT:
        return bar_chart(title, _bars(report.departments))
    if kind is Kind.DOCTOR:
        return bar_chart(title, _bars(report.doctors))
    if kind is Kind.CHANNEL:
        return bar_chart(title, _bars(report.channels, CHANNEL_NAMES))
    if kind is Kind.DAILY:
        days = report.days
        series = [
            ("预约 Bookings", [d.counts.total for d in days]),
            ("就诊 Visits", [d.counts.visits for d in days]),
            ("退号 Cancelled", [d.counts.cancelled for d in days]),
            ("爽约 No-shows", [d.counts.noshow for d in days]),
        ]
        return line_chart(TITLES[kind], [d.label[5:] for d in days], series)
    if kind is Kind.MONTHLY:
        return bar_chart(title, _bars(report.months))
    return ""


def _section(prefix: str, report: Report, kind: Kind) -> str:
    t = table(report, kind)
    query = {
        "kind": kind.value,
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        **({"hospital": report.period.hospital_code} if report.period.hospital_code else {}),
        "basis": report.period.basis.value,
    }
    links = "".join(
        f'<a href="{prefix}/reports/export?{escape(urlencode({**query, "format": fmt}))}" '
        f"download>{label}</a>"
        for fmt, label in (("csv", "下载 CSV"), ("xlsx", "下载 Excel (XLSX)"))
    )
    more = ""
    if kind is Kind.REFUNDS and report.refunds_more:
        more = f"<p>仅显示前 {len(t.rows)} 条，完整列表请下载。The download has them all.</p>"
    if kind is Kind.WORKLOAD:
        more = (
            "<p>审计日志中各员工的操作次数（不分医院）。Audit-log entries per member of staff.</p>"
        )
    return (
        f'<section id="{kind.value}"><h2>{escape(t.title)}</h2>'
        f'<p class="downloads">{links}</p>{more}{_chart(report, kind)}{_table(t)}</section>'
    )


def _table(t: Table) -> str:
    numeric = [
        all(isinstance(row[i], int | Yuan | Rate) for row in t.rows) and bool(t.rows)
        for i in range(len(t.columns))
    ]
    heads = "".join(
        f"<th{NUMBER if numeric[i] else ''}>{escape(h)}</th>" for i, h in enumerate(t.columns)
    )
    if not t.rows:
        return f"<table><tr>{heads}</tr></table><p>无记录 Nothing in this period.</p>"
    rows = "".join(_row(row, numeric) for row in t.rows)
    total = _row(t.total, numeric, ' class="total"') if t.total else ""
    return f"<table><tr>{heads}</tr>{rows}{total}</table>"


def _row(row: tuple[Cell, ...], numeric: list[bool], attrs: str = "") -> str:
    cells = "".join(
        f"<td{NUMBER if numeric[i] else ''}>{escape(_shown(cell))}</td>"
        for i, cell in enumerate(row)
    )
    return f"<tr{attrs}>{cells}</tr>"


def _shown(cell: Cell) -> str:
    return cell.isoformat() if isinstance(cell, date) else str(cell)
