"""The pages of doctors, their weekly templates and the roster (排班). Doctors' names are the
hospital's published catalogue; no patient appears here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from backoffice.pages import Viewer, hidden, layout
from backoffice.session_pages import department_options, notes, sessions_table
from booking.catalogue.model import Catalogue, Doctor, Part
from booking.roster.duty import RosterReport
from booking.roster.ports import SessionLine

WEEKDAYS = {1: "周一 Mon", 2: "周二 Tue", 3: "周三 Wed", 4: "周四 Thu", 5: "周五 Fri",
            6: "周六 Sat", 7: "周日 Sun"}  # fmt: skip
PARTS = {Part.AM: "上午 morning", Part.PM: "下午 afternoon", Part.EVE: "晚上 evening"}
NEW_DOCTORS = (  # the dialogue reads the catalogue every 30 s; its NLU learns names at start
    "新医生的出诊生成后半分钟内即可在机器人里按按钮预约；机器人按姓名识别新医生，要等它下次重启。"
    " A new doctor can be booked with the bot's buttons within half a minute of their sessions"
    " being generated; the bot understands their name in typed messages after its next restart."
)
ROSTER_RULE = (
    "按每位在岗医生的每周模板生成出诊（最多 92 天，从今天起）；已有的出诊（含已停诊的）保持不变。"
    " Sessions are made for every active doctor's weekly templates (at most 92 days, from"
    " today on); sessions already there, stopped ones included, stay as they are."
)
KEPT_SESSIONS = (
    "已生成的出诊保持不变：模板、科室、门诊类型的修改只影响以后生成的出诊。"
    " Sessions generated already stay as they are: changes to templates, department or clinic"
    " type apply to the sessions generated from now on."
)


def _clinic_options(catalogue: Catalogue, chosen: str) -> str:
    return "".join(
        f'<option value="{escape(code)}"{" selected" if code == chosen else ""}>'
        f"{escape(t.name_zh)} {escape(t.name_en)}</option>"
        for code, t in catalogue.clinic_types.items()
    )


def _duties(doctor: Doctor) -> str:
    return "、".join(
        f"{WEEKDAYS[t.weekday].split()[0]}{PARTS[t.part].split()[0]}×{t.capacity}"
        for t in doctor.templates
    )


def doctors(
    prefix: str,
    viewer: Viewer,
    catalogue: Catalogue,
    *,
    message: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> str:
    _, csrf = viewer
    parts = [
        notes(message, error),
        f'<p><a href="{prefix}/roster">生成排班 Generate the roster</a></p>',
    ]
    names = {(d.hospital_code, d.code): f"{d.name_zh} {d.name_en}" for d in catalogue.departments}
    types = catalogue.clinic_types
    heads = (
        "工号 Work no.|姓名 Name|职称 Title|门诊 Clinic|专长 Specialties|每周 Weekly|状态 Status"
    )
    head = "".join(f"<th>{escape(h)}</th>" for h in heads.split("|"))
    for (hospital, department), label in names.items():
        rows = [
            d
            for d in catalogue.doctors
            if (d.hospital_code, d.department_code) == (hospital, department)
        ]
        if not rows:
            continue
        body = "".join(
            "<tr>"
            f'<td><a href="{prefix}/doctors/{escape(d.hospital_code)}/{escape(d.work_no)}">'
            f"{escape(d.work_no)}</a></td>"
            f"<td>{escape(d.name)} {escape(d.name_en)}</td><td>{escape(d.title)}</td>"
            f"<td>{escape(types[d.clinic_type].name_zh if d.clinic_type in types else '')}</td>"
            f"<td>{escape('、'.join(d.specialties))}</td><td>{escape(_duties(d))}</td>"
            f"<td>{'出诊中 active' if d.active else '已停用 removed'}</td></tr>"
            for d in rows
        )
        parts.append(
            f"<h2>{escape(hospital)} · {escape(label)}</h2><table><tr>{head}</tr>{body}</table>"
        )
    t = typed or {}
    parts.append(
        "<h2>添加医生 Add a doctor</h2>"
        f'<form method="post" action="{prefix}/doctors">{hidden(csrf)}'
        f'<p><label>科室 Department <select name="department" required>'
        f"{department_options(catalogue, t.get('department', ''), everything=None)}"
        "</select></label></p>"
        f"{_record_fields(catalogue, t)}"
        '<p><label>工号 Work number <input name="work_no" required maxlength="16" '
        f'pattern="[0-9A-Za-z]{{1,16}}" value="{escape(t.get("work_no", ""))}"></label></p>'
        f"<p><button>添加 Add</button></p></form><p>{escape(NEW_DOCTORS)}</p>"
    )
    return layout(prefix, "医生 Doctors", "".join(parts), viewer)


def _record_fields(catalogue: Catalogue, t: dict[str, str]) -> str:
    return (
        '<p><label>姓名 Name <input name="name" required maxlength="50" '
        f'value="{escape(t.get("name", ""))}"></label> '
        '<label>英文名 Name in English <input name="name_en" maxlength="100" '
        f'value="{escape(t.get("name_en", ""))}"></label></p>'
        '<p><label>职称 Title <input name="title" required maxlength="50" '
        f'value="{escape(t.get("title", ""))}" placeholder="主任医师"></label> '
        '<label>门诊类型 Clinic type <select name="clinic_type">'
        f"{_clinic_options(catalogue, t.get('clinic_type', ''))}</select></label></p>"
        "<p><label>专长 Specialties (用逗号或“、”分隔 separated by commas or 、)<br>"
        f'<input name="specialties" size="60" maxlength="600" '
        f'value="{escape(t.get("specialties", ""))}"></label></p>'
    )


def typed_of(doctor: Doctor) -> dict[str, str]:
    """A doctor's record as the edit form shows it."""
    return {
        "department": f"{doctor.hospital_code}/{doctor.department_code}",
        "name": doctor.name,
        "name_en": doctor.name_en,
        "title": doctor.title,
        "clinic_type": doctor.clinic_type,
        "specialties": "、".join(doctor.specialties),
        "active": "on" if doctor.active else "",
    }


def doctor(
    prefix: str,
    viewer: Viewer,
    catalogue: Catalogue,
    found: Doctor,
    sessions: Sequence[SessionLine],
    *,
    message: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    blocking: Sequence[int] = (),
) -> str:
    _, csrf = viewer
    base = f"{prefix}/doctors/{escape(found.hospital_code)}/{escape(found.work_no)}"
    t = typed or typed_of(found)
    hospital_departments = Catalogue(
        catalogue.clinic_types,
        tuple(h for h in catalogue.hospitals if h.code == found.hospital_code),
        tuple(d for d in catalogue.departments if d.hospital_code == found.hospital_code),
        (),
    )
    parts = [notes(message, error)]
    if blocking:
        links = " ".join(f'<a href="{prefix}/sessions/{sid}">#{sid}</a>' for sid in blocking)
        parts.append(f"<p>需要先停诊的出诊 Sessions to stop first: {links}</p>")
    checked = " checked" if t.get("active") else ""
    parts.append(
        f'<h2>资料 Record</h2><form method="post" action="{base}">{hidden(csrf)}'
        f"<p>工号 Work number: <strong>{escape(found.work_no)}</strong> · "
        f"{escape(found.hospital_code)}</p>"
        f'<p><label>科室 Department <select name="department" required>'
        f"{department_options(hospital_departments, t.get('department', ''), everything=None)}"
        f"</select></label></p>{_record_fields(catalogue, t)}"
        f'<p><label><input type="checkbox" name="active"{checked}> 出诊中 Active</label></p>'
        f"<p><button>保存 Save</button></p></form><p>{escape(KEPT_SESSIONS)}</p>"
    )
    parts.append(_templates(base, csrf, found))
    parts.append(f"<h2>近期出诊 Sessions ahead</h2>{sessions_table(prefix, sessions)}")
    if found.active:
        parts.append(
            f'<h2>删除医生 Remove the doctor</h2><form method="post" action="{base}/remove">'
            f"{hidden(csrf)}<p>医生将停用，其尚未开始且无预约的出诊将关闭；若仍有预约，须先停诊。"
            " The doctor is made inactive and their sessions still to come are closed; while any"
            " holds a booking, stop those sessions first.</p>"
            "<p><button>删除 Remove</button></p></form>"
        )
    title = f"医生 Doctor {found.name} ({found.work_no})"
    return layout(prefix, title, "".join(parts), viewer)


def _templates(base: str, csrf: str, found: Doctor) -> str:
    rows = "".join(
        f"<tr><td>{escape(WEEKDAYS[t.weekday])}</td><td>{escape(PARTS[t.part])}</td>"
        f"<td>{t.capacity}</td><td>"
        f'<form class="inline" method="post" action="{base}/templates/remove">{hidden(csrf)}'
        f'<input type="hidden" name="weekday" value="{t.weekday}">'
        f'<input type="hidden" name="part" value="{escape(t.part.value)}">'
        "<button>删除 Remove</button></form></td></tr>"
        for t in found.templates
    )
    table = (
        "<table><tr><th>星期 Weekday</th><th>时段 Part</th><th>号源 Places</th><th></th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>没有每周出诊 No weekly duties.</p>"
    )
    days = "".join(f'<option value="{n}">{escape(label)}</option>' for n, label in WEEKDAYS.items())
    parts = "".join(
        f'<option value="{p.value}">{escape(label)}</option>' for p, label in PARTS.items()
    )
    return (
        f"<h2>每周出诊模板 Weekly templates</h2>{table}"
        f'<form method="post" action="{base}/templates">{hidden(csrf)}'
        f'<label>星期 Weekday <select name="weekday">{days}</select></label> '
        f'<label>时段 Part <select name="part">{parts}</select></label> '
        '<label>号源 Places <input name="capacity" type="number" min="1" max="500" value="20" '
        "required></label> <button>添加或修改 Add or change</button></form>"
    )


def roster(
    prefix: str,
    viewer: Viewer,
    catalogue: Catalogue,
    today: date,
    *,
    report: RosterReport | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> str:
    _, csrf = viewer
    t = typed or {}
    done = None
    if report is not None:
        done = (
            f"新建 {report.created} 个出诊，{report.existed} 个已存在。"
            f" {report.created} sessions created, {report.existed} already existed"
            f" ({report.doctors} 位医生有每周出诊 doctors with weekly duties)."
        )
    body = (
        f"{notes(done, error)}"
        f'<form method="post" action="{prefix}/roster">{hidden(csrf)}'
        f'<p><label>从 From <input type="date" name="from" required '
        f'value="{escape(t.get("from", today.isoformat()))}"></label> '
        f'<label>到 To <input type="date" name="to" required '
        f'value="{escape(t.get("to", ""))}"></label></p>'
        f'<p><label>科室 Departments <select name="scope">'
        f"{department_options(catalogue, t.get('scope', ''), everything='全部 Everywhere')}"
        "</select></label></p><p><button>生成 Generate</button></p></form>"
        f"<p>{escape(ROSTER_RULE)}</p><p>{escape(NEW_DOCTORS)}</p>"
    )
    return layout(prefix, "生成排班 Generate the roster", body, viewer)
