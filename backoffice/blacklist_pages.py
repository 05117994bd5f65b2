"""The blacklist page: upload or pull the hospital's list, the latest sync reports (with the
rows that were wrong), the hospital's entries and the bans after no-shows, each paged.
ID numbers appear masked only; nothing on the page can edit a single hospital entry."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from backoffice.pages import ZONE, Viewer, hidden, layout
from booking.patients.model import BlacklistPage, RowProblem, SyncOrigin, SyncReport, SyncStatus

PER_PAGE = 50
ORIGINS = {
    SyncOrigin.UPLOAD: "上传 upload",
    SyncOrigin.IMPORT: "命令行导入 CLI import",
    SyncOrigin.PULL: "自动拉取 pull",
}
STATUSES = {
    SyncStatus.APPLIED: "已同步 applied",
    SyncStatus.HELD: "待确认（未做任何更改）held: nothing changed until confirmed",
    SyncStatus.REJECTED: "已拒绝（有错误行，未做任何更改）rejected: bad rows, nothing changed",
    SyncStatus.FAILED: "失败（未做任何更改）failed: nothing changed",
}
COLUMNS = {
    "id_number": "身份证号 ID number",
    "reason": "原因 reason",
    "from": "开始日期 from",
    "until": "结束日期 until",
}
PROBLEMS = {
    "missing": "为空 empty",
    "length": "位数不对 wrong length",
    "format": "格式错误 wrong format",
    "checksum": "校验位错误 wrong check digit",
    "birth_date": "出生日期错误 no such birth date",
    "region": "省份代码错误 no province has this code",
    "future": "出生日期在将来 birth date in the future",
    "number_cell": "Excel 数字单元格，请把该列设为文本 a number cell: format the column as text",
    "date": "不是日期（如 2026-11-23）not a date such as 2026-11-23",
    "before_from": "早于开始日期 before the start",
    "too_long": "超过 200 字 longer than 200 characters",
}
FAILURES = {
    "empty": "文件或回应为空 the file or answer is empty",
    "html": "收到的是网页而不是名单 a web page came, not a list",
    "xls": "旧版 Excel (.xls)：请另存为 .xlsx 或 CSV an old .xls file: save as .xlsx or CSV",
    "xlsx": "不是有效的 XLSX 文件 not a valid XLSX file",
    "encoding": "不是 UTF-8 或 GB18030 文本 not UTF-8 or GB18030 text",
    "csv": "不是有效的 CSV 文件 not a valid CSV file",
    "header": "表头缺少“身份证号”或“开始日期” the header lacks id_number or from",
    "too_many_rows": "行数过多 too many rows",
    "too_large": "文件过大 the file is too large",
    "unpacked": "XLSX 解压后过大 the XLSX file unpacks to more than a list can hold",
    "timeout": "服务器超时 the server did not answer in time",
    "unreachable": "无法连接服务器 the server could not be reached",
    "shrank": "名单过半被移除，疑为不完整，请由工作人员上传 more than half the list would be "
    "removed: it looks incomplete; upload it to apply it",
    "confirm_removal": "将移除的条目过多，需确认 it would lift too many bans: confirm to apply it",
}
HEADER_HELP = (
    "表头 Header: <code>身份证号,原因,开始日期,结束日期</code> 或 or "
    "<code>id_number,reason,from,until</code>。结束日期为空表示直到医院移除 "
    "(an empty until: until the hospital removes it)。CSV (UTF-8/GB18030) 或 or XLSX，最大 2 MB。"
)


def blacklist(
    prefix: str,
    viewer: Viewer,
    *,
    syncs: list[SyncReport],
    shown: SyncReport | None,
    hospital: BlacklistPage,
    noshow: BlacklistPage,
    pages: tuple[int, int],
    can_pull: bool,
) -> str:
    _, csrf = viewer
    parts = [
        "<p>医院黑名单只能通过同步医院名单更新，不能在本平台逐条修改。The hospital's entries "
        "come only from its list and cannot be edited here one by one.</p>",
    ]
    if shown is not None:
        parts.append(_outcome(shown))
        if shown.status is SyncStatus.HELD:
            parts.append(_confirmation(prefix, csrf, shown))
    parts.append(
        f'<form method="post" action="{prefix}/blacklist/upload" enctype="multipart/form-data">'
        f'{hidden(csrf)}<label>医院名单文件 The hospital\'s list <input type="file" name="file" '
        'accept=".csv,.xlsx,text/csv" required></label> <button>上传并同步 Upload and sync</button>'
        f"</form><p>{HEADER_HELP}</p>"
    )
    if can_pull:
        parts.append(
            f'<form method="post" action="{prefix}/blacklist/pull">{hidden(csrf)}'
            "<button>立即从医院拉取 Pull from the hospital now</button></form>"
        )
    parts.append("<h2>最近同步 Latest syncs</h2>" + _syncs(prefix, syncs))
    hp, np = pages
    parts.append(
        f"<h2>医院黑名单 The hospital's list ({hospital.total})</h2>"
        + _entries(hospital, "结束 Until", empty="直到医院移除 until removed")
        + _pager(prefix, "hp", hp, hospital, {"np": np})
    )
    parts.append(
        f"<h2>爽约限制 Bans after no-shows ({noshow.total})</h2>"
        "<p>由爽约规则自动添加，同步不会改变 Added by the no-show rule; syncs leave them be.</p>"
        + _entries(noshow, "结束 Until", empty="—")
        + _pager(prefix, "np", np, noshow, {"hp": hp})
    )
    return layout(prefix, "黑名单 Blacklist", "".join(parts), viewer)


def _confirmation(prefix: str, csrf: str, held: SyncReport) -> str:
    """The second step of an upload that lifts many bans: the same file again, and a box
    that agrees to the count shown (a different file lifting more is held again)."""
    before = held.removed + held.updated + held.unchanged
    n = held.removed
    return (
        f'<form class="confirm" method="post" action="{prefix}/blacklist/upload" '
        f'enctype="multipart/form-data">{hidden(csrf)}'
        f"<p><strong>此文件将移除医院黑名单 {before} 条中的 {n} 条。This file would remove "
        f"{n} of the {before} entries of the hospital's list.</strong> 如确属医院最新名单，"
        "请再次选择同一文件并勾选确认。If it is the hospital's whole list, choose the same "
        "file again and tick the box.</p>"
        '<label>医院名单文件 The hospital\'s list <input type="file" name="file" '
        'accept=".csv,.xlsx,text/csv" required></label> '
        f'<label><input type="checkbox" name="confirm_removal" value="{n}" required> '
        f"确认移除 {n} 条 I confirm removing {n} entries</label> "
        "<button>确认并同步 Confirm and sync</button></form>"
    )


def _outcome(report: SyncReport) -> str:
    css = "done" if report.status is SyncStatus.APPLIED else "error"
    role = "status" if report.status is SyncStatus.APPLIED else "alert"
    text = f"{STATUSES[report.status]}: {_counts(report)}"
    if report.failure:
        text += f" — {failure_text(report.failure)}"
    lines = "".join(f"<li>{escape(problem_text(p))}</li>" for p in report.problems)
    more = report.rejected - len({p.row for p in report.problems})
    if more > 0:
        lines += f"<li>另有 {more} 行有误 and {more} more rows</li>"
    problems = f'<ul class="problems">{lines}</ul>' if lines else ""
    return f'<div class="{css}" role="{role}"><p>{escape(text)}</p>{problems}</div>'


def _counts(r: SyncReport) -> str:
    return (
        f"读取 rows {r.rows} · 新增 added {r.added} · 更新 updated {r.updated} · "
        f"移除 removed {r.removed} · 未变 unchanged {r.unchanged} · 错误行 rejected {r.rejected}"
    )


def problem_text(p: RowProblem) -> str:
    column = COLUMNS.get(p.column, p.column)
    if p.problem == "duplicate":
        what = f"与第 {p.other_row} 行重复 repeats row {p.other_row}"
    else:
        what = PROBLEMS.get(p.problem, p.problem)
    return f"第 {p.row} 行 row {p.row}, {column}: {what}"


def failure_text(failure: str) -> str:
    if failure.startswith("http_"):
        return f"服务器回应 HTTP {failure[5:]} the server answered HTTP {failure[5:]}"
    return FAILURES.get(failure, failure)


def _syncs(prefix: str, syncs: list[SyncReport]) -> str:
    if not syncs:
        return "<p>尚未同步 No sync yet.</p>"
    heads = "时间 When|来源 Origin|操作人 By|结果 Result|读取 Rows|新增 Added|更新 Updated|" \
        "移除 Removed|未变 Unchanged|错误行 Rejected"  # fmt: skip
    rows = []
    for r in syncs:
        result = STATUSES[r.status].split("（")[0].split(" ")[0]
        if r.failure:
            result += f" ({failure_text(r.failure)})"
        link = (
            f'<a href="{prefix}/blacklist?{escape(urlencode({"sync": r.id}))}">{escape(result)}</a>'
        )
        cells = [
            escape(f"{r.at.astimezone(ZONE):%Y-%m-%d %H:%M}"),
            escape(ORIGINS[r.origin]),
            escape(r.username or "—"),
            link,
            *(str(n) for n in (r.rows, r.added, r.updated, r.removed, r.unchanged, r.rejected)),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in heads.split("|"))
    return f'<table class="syncs"><tr>{header}</tr>{"".join(rows)}</table>'


def _entries(found: BlacklistPage, until: str, *, empty: str) -> str:
    if not found.entries:
        return "<p>无 None.</p>"
    heads = ("身份证号 ID number", "原因 Reason", "开始 From", until, "加入 Added")
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(cell)}</td>"
            for cell in (
                e.id_masked or "—",
                e.reason or "—",
                e.starts_on.isoformat(),
                e.until.isoformat() if e.until else empty,
                f"{e.added_at.astimezone(ZONE):%Y-%m-%d}",
            )
        )
        + "</tr>"
        for e in found.entries
    )
    header = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return f"<table><tr>{header}</tr>{rows}</table>"


def _pager(prefix: str, name: str, number: int, found: BlacklistPage, keep: dict[str, int]) -> str:
    links = []
    if number > 1:
        query = escape(urlencode({**keep, name: number - 1}))
        links.append(f'<a href="{prefix}/blacklist?{query}">← 上一页 Previous</a>')
    if number * PER_PAGE < found.total:
        query = escape(urlencode({**keep, name: number + 1}))
        links.append(f'<a href="{prefix}/blacklist?{query}">下一页 Next →</a>')
    return f"<p>{' · '.join(links)}</p>" if links else ""
