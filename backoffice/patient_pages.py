"""The patients' pages (B3): the search, a patient's record with their bookings, and the
forms to correct or remove it. ID and phone numbers are shown masked; an ID number in full
only to whoever typed it to search."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from backoffice.pages import Viewer, booking_table, hidden, layout
from booking.appointments.model import BookingView
from booking.patients.model import Patient
from booking.patients.ports import PatientRecord

SEXES = {"male": "男 M", "female": "女 F"}
DONE = {
    "edit": "已保存。Saved.",
    "unchanged": "没有改动。Nothing was changed.",
    "removed": "患者已删除（匿名化），其预约保留用于统计。The patient is removed (anonymised); "
    "their bookings stay for the statistics.",
}


def _notes(message: str | None, error: str | None) -> str:
    done = f'<p class="done" role="status">{escape(message)}</p>' if message else ""
    wrong = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return done + wrong


def search(
    prefix: str,
    viewer: Viewer,
    q: str,
    found: Sequence[Patient] | None,
    *,
    full_id: str | None = None,
    sealed: str | None = None,
    message: str | None = None,
    error: str | None = None,
) -> str:
    """``full_id``: the ID number typed, when the search was by it (shown, and carried to the
    patient's page in ``sealed``, the search's token, so that it shows it too)."""
    _, csrf = viewer
    form = (
        f'<form method="post" action="{prefix}/patients">{hidden(csrf)}'
        f"<label>身份证号、手机号或姓名 "
        f'ID number, phone or name <input name="q" value="{escape(q)}" maxlength="40" '
        "autofocus></label> <button>查找 Find</button></form>"
    )
    parts = [form, _notes(message, error)]
    if found is not None and not found:
        parts.append("<p>没有找到患者 No patients found.</p>")
    if found:
        head = "姓名 Name|身份证号 ID number|手机 Phone|性别 Sex|出生年 Born"
        heads = "".join(f"<th>{escape(h)}</th>" for h in head.split("|"))
        rows = []
        for p in found:
            query = f"?{escape(urlencode({'s': sealed}))}" if full_id and sealed else ""
            link = f'<a href="{prefix}/patients/{p.id}{query}">{escape(p.name)}</a>'
            cells = (
                link,
                escape(full_id or p.id_masked),
                escape(p.phone_masked),
                escape(SEXES.get(p.sex.value, "")),
                str(p.birth_date.year),
            )
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append(f"<table><tr>{heads}</tr>{''.join(rows)}</table>")
    return layout(prefix, "患者 Patients", "".join(parts), viewer)


def record(
    prefix: str,
    viewer: Viewer,
    found: PatientRecord,
    bookings: Sequence[BookingView],
    *,
    full_id: str | None = None,
    may_edit: bool = False,
    may_change_bookings: bool = False,
    coming: int = 0,
    message: str | None = None,
    error: str | None = None,
) -> str:
    _, csrf = viewer
    p = found.patient
    removed = found.removed_at is not None
    facts = (
        ("姓名 Name", p.name),
        ("身份证号 ID number", full_id or p.id_masked),
        ("手机 Phone", p.phone_masked or "—"),
        ("性别 Sex", SEXES.get(p.sex.value, "")),
        ("出生年 Born", str(p.birth_date.year)),
        ("管理该患者的聊天账号 Chat accounts managing them", str(found.accounts)),
    )
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    parts = [_notes(message, error), f"<table>{table}</table>"]
    if removed:
        parts.append("<p>该患者已删除（匿名化）。This patient was removed (anonymised).</p>")
    parts.append("<h2>预约 Bookings</h2>")
    parts.append(
        booking_table(prefix, csrf, bookings, may_change_bookings)
        if bookings
        else "<p>没有预约 No bookings.</p>"
    )
    if may_edit and not removed:
        parts.append(_edit_form(prefix, csrf, p))
        parts.append(_remove_form(prefix, csrf, p, coming))
    return layout(prefix, f"患者 Patient · {p.name}", "".join(parts), viewer)


def _edit_form(prefix: str, csrf: str, p: Patient) -> str:
    return (
        f'<h2>修改 Edit</h2><form method="post" action="{prefix}/patients/{p.id}/edit">'
        f'{hidden(csrf)}<p><label>姓名（身份证上的）Name as on the ID card<br><input name="name" '
        f'required maxlength="40" value="{escape(p.name)}"></label></p>'
        "<p><label>新手机号（不改则留空）New mobile phone (blank: keep)<br>"
        '<input name="phone" type="tel" maxlength="20" autocomplete="off"></label></p>'
        "<p><button>保存 Save</button></p></form>"
    )


def _remove_form(prefix: str, csrf: str, p: Patient, coming: int) -> str:
    what = (
        "删除后：姓名、身份证号、手机号被清除，聊天账号不再能管理该患者；已有预约保留（匿名）用于统计；"
        "黑名单不受影响。Removing forgets the name, ID and phone numbers and unlinks the chat "
        "accounts; past bookings stay, anonymised, for the statistics; bans stay."
    )
    if coming:
        return (
            f'<h2>删除 Remove</h2><p>{escape(what)}</p><p class="error">该患者还有 {coming} '
            f"个未就诊的预约，请先退号再删除。{coming} bookings are still to come: cancel them "
            "first.</p>"
        )
    return (
        f"<h2>删除 Remove</h2><p>{escape(what)}</p>"
        f'<form method="post" action="{prefix}/patients/{p.id}/remove">{hidden(csrf)}'
        "<button>删除该患者 Remove this patient</button></form>"
    )


def not_found(prefix: str, viewer: Viewer) -> str:
    body = f'<p>没有这个患者。No such patient.</p><p><a href="{prefix}/patients">返回 Back</a></p>'
    return layout(prefix, "404 患者 Patient", body, viewer)
