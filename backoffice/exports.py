"""A report table as a download: CSV (UTF-8 with a BOM, without which Excel reads Chinese
as the local code page) or XLSX (numbers as numbers: money in yuan with two decimals, rates
as percentages, so the sheet can be summed and charted)."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from booking.reports.statistics import Rate, Yuan
from booking.reports.tables import Cell, Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell that starts like this is a formula to a spreadsheet (CSV injection): names come from
# the hospital's catalogue and staff usernames, but a download must not run anything.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _rows(table: Table) -> list[tuple[Cell, ...]]:
    return [*table.rows, *([table.total] if table.total else [])]


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in _rows(table):
        writer.writerow([_text(cell) if isinstance(cell, str) else str(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = table.kind.value
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(table):
        sheet.append([_value(cell) for cell in row])
        for written, value in zip(sheet[sheet.max_row], row, strict=True):
            if isinstance(value, Yuan):
                written.number_format = "0.00"
            elif isinstance(value, Rate):
                written.number_format = "0.0%"
            elif isinstance(value, date):
                written.number_format = "yyyy-mm-dd"
    if table.total:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for n, column in enumerate(table.columns):
        sheet.column_dimensions[get_column_letter(n + 1)].width = max(12, len(column))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(cell: Cell) -> str | int | float | date | None:
    if isinstance(cell, Yuan):
        return cell.fen / 100  # exact to the fen for any hospital's takings (< 2**53 fen)
    if isinstance(cell, Rate):
        return cell.value
    if isinstance(cell, str):
        return _text(cell)
    return cell
