"""The reports as tables: one shape for the page, the CSV and the XLSX, so that the three
cannot disagree. Column names are in Chinese and English, as the rest of the back office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from booking.reports.statistics import Basis, Counts, Group, Rate, Report, Yuan, total

Cell = str | int | Yuan | Rate | date


class Kind(StrEnum):
    CLINIC_TYPE = "clinic_type"
    DEPARTMENT = "department"
    DOCTOR = "doctor"
    CHANNEL = "channel"
    DAILY = "daily"
    MONTHLY = "monthly"
    REFUNDS = "refunds"
    WORKLOAD = "workload"


TITLES = {
    Kind.CLINIC_TYPE: "按门诊类别 By clinic type",
    Kind.DEPARTMENT: "按科室 By department",
    Kind.DOCTOR: "按医生 By doctor",
    Kind.CHANNEL: "按渠道 By channel",
    Kind.DAILY: "日报表 Daily report",
    Kind.MONTHLY: "月报表 Monthly report",
    Kind.REFUNDS: "退号退费一览 Refunds",
    Kind.WORKLOAD: "员工工作量 Staff workload",
}
CHANNEL_NAMES = {
    "web": "网页 web chat",
    "telegram": "Telegram",
    "sms": "短信 SMS",
    "desk": "人工代挂 desk",
    "fhir": "医院系统 HIS (FHIR)",
    "email": "电子邮件 e-mail",
}
REASONS = {
    "patient": "患者退号 patient",
    "hospital_stop": "停诊 stopped",
    "staff": "工作人员 staff",
}
FEES = ("挂号费 Registration fee (¥)", "诊疗费 Consultation fee (¥)")
GROUP_COLUMNS = (
    "预约数 Bookings",
    "待就诊 Booked",
    "已签到 Arrived",
    "已就诊 Fulfilled",
    "已退号 Cancelled",
    "爽约 No-show",
    "爽约率 No-show rate",
    "退号率 Cancellation rate",
    *FEES,
    "过期关闭 Closed unattended",  # last ones: the columns before them keep their places
    "停诊 Stopped by the hospital",
)
SERIES_COLUMNS = (
    "预约数 Bookings", "就诊 Visits", "退号 Cancellations", "爽约 No-shows", *FEES,
    "过期关闭 Closed unattended", "停诊 Stopped by the hospital",
)  # fmt: skip
TOTAL = "合计 Total"
DAYS = {Basis.VISIT: "就诊日期 Visit date", Basis.BOOKED: "预约日期 Booking date"}


@dataclass(frozen=True)
class Table:
    kind: Kind
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    total: tuple[Cell, ...] | None = None


def _group_cells(c: Counts) -> tuple[Cell, ...]:
    return (
        c.total,
        c.booked,
        c.arrived,
        c.fulfilled,
        c.cancelled,
        c.noshow,
        c.no_show_rate,
        c.cancellation_rate,
        Yuan(c.registration_fen),
        Yuan(c.consultation_fen),
        c.expired,
        c.stopped,
    )


def _series_cells(c: Counts) -> tuple[Cell, ...]:
    return (
        c.total,
        c.visits,
        c.cancelled,
        c.noshow,
        Yuan(c.registration_fen),
        Yuan(c.consultation_fen),
        c.expired,
        c.stopped,
    )


def _groups(kind: Kind, first: str, groups: list[Group], labels: dict[str, str]) -> Table:
    rows = [(labels.get(g.label, g.label), *_group_cells(g.counts)) for g in groups]
    whole = (TOTAL, *_group_cells(total(g.counts for g in groups)))
    return Table(kind, TITLES[kind], (first, *GROUP_COLUMNS), rows, whole)


def _series(kind: Kind, first: str, groups: list[Group]) -> Table:
    rows = [(g.label, *_series_cells(g.counts)) for g in groups]
    whole = (TOTAL, *_series_cells(total(g.counts for g in groups)))
    return Table(kind, TITLES[kind], (first, *SERIES_COLUMNS), rows, whole)


def table(report: Report, kind: Kind) -> Table:
    if kind is Kind.CLINIC_TYPE:
        return _groups(kind, "门诊类别 Clinic type", report.clinic_types, {})
    if kind is Kind.DEPARTMENT:
        return _groups(kind, "科室 Department", report.departments, {})
    if kind is Kind.DOCTOR:
        return _groups(kind, "医生 Doctor", report.doctors, {})
    if kind is Kind.CHANNEL:
        return _groups(kind, "渠道 Channel", report.channels, CHANNEL_NAMES)
    if kind is Kind.DAILY:
        return _series(kind, DAYS[report.period.basis], report.days)
    if kind is Kind.MONTHLY:
        return _series(kind, "月份 Month", report.months)
    if kind is Kind.REFUNDS:
        return _refunds(report)
    return _workload(report)


def _refunds(report: Report) -> Table:
    columns = (
        "预约号 Booking no.",
        "退号时间 Cancelled at",
        "就诊日期 Visit date",
        "科室 Department",
        "医生 Doctor",
        "原因 Reason",
        "应退费 Refund due",
        *FEES,
        "应退金额 To refund (¥)",
    )
    rows: list[tuple[Cell, ...]] = [
        (
            r.booking_no,
            f"{r.cancelled_at.astimezone(report.zone):%Y-%m-%d %H:%M}" if r.cancelled_at else "",
            r.visit_date,
            r.department,
            r.doctor,
            REASONS.get(r.reason or "", r.reason or ""),
            "是 yes" if r.refund_due else "否 no",
            Yuan(r.registration_fen),
            Yuan(r.consultation_fen),
            Yuan(r.refund_fen),
        )
        for r in report.refunds
    ]
    whole = (
        TOTAL,
        len(report.refunds),
        "",
        "",
        "",
        "",
        sum(r.refund_due for r in report.refunds),
        Yuan(sum(r.registration_fen for r in report.refunds)),
        Yuan(sum(r.consultation_fen for r in report.refunds)),
        Yuan(sum(r.refund_fen for r in report.refunds)),
    )
    return Table(Kind.REFUNDS, TITLES[Kind.REFUNDS], columns, rows, whole)


def _workload(report: Report) -> Table:
    columns = ("员工 Staff", "操作 Action", "次数 Count")
    rows: list[tuple[Cell, ...]] = [(w.username, w.action, w.count) for w in report.workload]
    whole = (TOTAL, "", sum(w.count for w in report.workload))
    return Table(Kind.WORKLOAD, TITLES[Kind.WORKLOAD], columns, rows, whole)
