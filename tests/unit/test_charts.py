"""The reports' charts (inline SVG, no scripts) and the rules of a report: periods, money in
fen shown as yuan, rates, and the daily series folded into months."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from backoffice.charts import bar_chart, line_chart
from booking.errors import InvalidInput
from booking.reports.statistics import (
    Basis,
    Counts,
    Group,
    Period,
    Rate,
    Report,
    Tally,
    Yuan,
    every_day,
    fold,
)
from booking.reports.statistics import parse_period as period

TODAY = date(2026, 11, 23)


def test_a_bar_chart_has_one_bar_per_label_sized_by_its_value() -> None:
    svg = bar_chart("By department", [("心血管内科", 8), ("呼吸内科", 4), ("骨科", 0)])
    widths = [float(w) for w in re.findall(r'<rect class="bar"[^>]* width="([\d.]+)"', svg)]
    assert len(widths) == 3
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert "<title>呼吸内科: 4</title>" in svg and "<script" not in svg


def test_chart_labels_are_escaped() -> None:
    svg = bar_chart("<b>", [('<script>alert("x")</script>', 1)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<title>&lt;b&gt;</title>" in svg
    line = line_chart("t", ["<x>"], [("<y>", [1])])
    assert "<x>" not in line and "<y>" not in line


def test_a_line_chart_draws_each_series_through_every_day() -> None:
    days = [f"11-{d}" for d in range(23, 28)]
    svg = line_chart("Daily", days, [("Bookings", [3, 0, 5, 1, 0]), ("Visits", [1, 0, 0, 0, 0])])
    lines = re.findall(r'<polyline class="line"[^>]* points="([^"]+)"', svg)
    assert [len(points.split()) for points in lines] == [5, 5]
    tops = [float(p.split(",")[1]) for p in lines[0].split()]
    assert min(tops) == tops[2]  # the busiest day is drawn highest
    assert "11-23" in svg and "11-27" in svg


def test_a_chart_of_nothing_says_so() -> None:
    assert "无数据" in bar_chart("By doctor", [])
    assert "无数据" in line_chart("Daily", [], [])
    assert "<svg" in bar_chart("All zero", [("骨科", 0)])  # zeros are data: drawn, not divided by


def test_a_period_is_checked_and_defaults_to_this_month() -> None:
    assert period("", "", None, TODAY) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert period("", "", "H01", date(2026, 12, 31)).last == date(2026, 12, 31)
    assert period("2026-11-23", "2026-11-23", "H02", TODAY) == Period(TODAY, TODAY, "H02")
    assert period("", "", None, TODAY, "booked").basis is Basis.BOOKED
    with pytest.raises(InvalidInput) as refused:
        period("", "", None, TODAY, "paid")
    assert refused.value.details["field"] == "basis"
    assert len(period("2025-11-01", "2026-12-05", None, TODAY).days) == 400  # the most
    for first, last, field in (
        ("2026-11-24", "2026-11-23", "to"),
        ("2025-11-01", "2026-12-06", "to"),  # 400 days and one
        ("23/11/2026", "2026-11-24", "from"),
        ("2026-11-23", "", "to"),
    ):
        with pytest.raises(InvalidInput) as refused:
            period(first, last, None, TODAY)
        assert refused.value.details["field"] == field


def test_money_is_summed_in_fen_and_shown_in_yuan() -> None:
    assert [str(Yuan(f)) for f in (0, 5, 100, 5100, 123456, -250)] == [
        "0.00",
        "0.05",
        "1.00",
        "51.00",
        "1234.56",
        "-2.50",
    ]


def test_rates_and_counts() -> None:
    tallies = [
        Tally("c", "心内", "arrived", 3, 300, 3000),
        Tally("c", "心内", "noshow", 1, 100, 1000),
        Tally("c", "心内", "cancelled", 2, 200, 2000),
        Tally("c", "心内", "booked", 4, 400, 4000),
        Tally("r", "呼吸", "booked", 1, 100, 1000),
    ]
    [heart, lungs] = fold(tallies)
    c = heart.counts
    assert (c.total, c.visits, c.registration_fen, c.consultation_fen) == (10, 3, 800, 8000)
    assert str(c.no_show_rate) == "25.0%"  # of the 4 whose day has come
    assert str(c.cancellation_rate) == "20.0%"
    assert str(Rate(0, 0)) == "—" and Rate(0, 0).value is None
    assert lungs.counts == Counts(booked=1, registration_fen=100, consultation_fen=1000)


def test_the_daily_series_has_every_day_and_folds_into_months() -> None:
    p = Period(date(2026, 11, 29), date(2026, 12, 2))
    days = every_day(p, [Tally("2026-12-01", "2026-12-01", "booked", 2, 200, 2000)])
    assert [d.key for d in days] == ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]
    months = Report(p, zone=ZoneInfo("Asia/Shanghai"), days=days).months
    assert months == [
        Group("2026-11", "2026-11", Counts()),
        Group("2026-12", "2026-12", Counts(booked=2, registration_fen=200, consultation_fen=2000)),
    ]


def test_a_download_runs_no_formula_from_a_name() -> None:
    """A doctor's or member of staff's name that starts like a formula stays text in the CSV
    and the XLSX (CSV injection: =HYPERLINK(…) in a cell a manager opens)."""
    import csv
    import io

    from openpyxl import load_workbook

    from backoffice.exports import to_csv, to_xlsx
    from booking.reports.tables import Kind, Table

    evil = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB")
    sheet_table = Table(Kind.WORKLOAD, "t", ("a", "b"), [(name, 1) for name in evil], None)
    rows = list(csv.reader(io.StringIO(to_csv(sheet_table).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["'" + name for name in evil]
    sheet = load_workbook(io.BytesIO(to_xlsx(sheet_table))).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(evil)  # text, not formulas ("f")
    assert [c.value for c in cells] == ["'" + name for name in evil]
