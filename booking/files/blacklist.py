"""Reading a copy of the hospital's blacklist: CSV (UTF-8, or GB18030 as Excel saves it in
China) or XLSX (the first sheet), recognised by its content.

The first non-blank row is the header; columns are found by name, in any order, Chinese or
English (a bilingual cell such as ``身份证号 id_number`` works too):

=============  =========================  =====================================================
column         header                     cells
=============  =========================  =====================================================
ID number      身份证号 / id_number       18-digit resident ID (required); in Excel, a text cell
reason         原因 / reason              free text, up to 200 characters (optional column)
from           开始日期 / from            the first day of the ban, 2026-11-23 (required)
until          结束日期 / until           the last day; empty: until the hospital removes it
=============  =========================  =====================================================

Dates may be written 2026-11-23, 2026/11/23, 2026.11.23 or 2026年11月23日, or be Excel dates.
Every bad row is reported (row number, column, problem); the ID number itself never is.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from booking.errors import InvalidIdNumber
from booking.patients.identity import mask_id_number, parse_id_number
from booking.patients.model import BrokenList, HospitalEntry, HospitalList, ListFile, RowProblem
from booking.protect import Protector

MAX_ROWS = 100_000  # a city hospital's list is a few thousand; more is not a list
# Rows read, blank ones included, so that a small file of millions of empty rows (an XLSX
# stores them in a few bytes) is refused at once instead of read to the end.
MAX_ROWS_READ = MAX_ROWS + 1_000
MAX_COLUMNS = 32  # of an XLSX sheet read: its dimension may claim 16,384, each row padded so
MAX_REASON = 200
MAX_UNPACKED = 64 * 1024 * 1024  # 100,000 rows of four columns unpack to well under this
Cell = str | int | float | date | datetime | None

COLUMNS = {
    "id_number": ("身份证号", "身份证号码", "证件号码", "身份证", "idnumber", "id"),
    "reason": ("原因", "事由", "reason"),
    "from": ("开始日期", "起始日期", "生效日期", "from", "startson", "start"),
    "until": ("结束日期", "截止日期", "失效日期", "until", "endson", "end"),
}
REQUIRED = ("id_number", "from")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SPLIT = re.compile(r"[\s/|()（）:：]+")


def read_list(file: ListFile, protector: Protector, today: date) -> HospitalList:
    """The entries and the bad rows of one copy; BrokenList when it is not a list at all."""
    rows = _at_most(_rows(file), MAX_ROWS_READ)
    header = _header(rows)
    return _check(header, rows, protector, today)


def _at_most(
    rows: Iterator[tuple[int, list[Cell]]], limit: int
) -> Iterator[tuple[int, list[Cell]]]:
    for read, row in enumerate(rows, start=1):
        if read > limit:
            raise BrokenList(f"more than {limit} rows, blank ones included", "too_many_rows")
        yield row


def _rows(file: ListFile) -> Iterator[tuple[int, list[Cell]]]:
    data = file.data
    if not data.strip():
        raise BrokenList("the file is empty", "empty")
    kind = file.content_type.split(";")[0].strip().lower()
    start = data.lstrip()[:64].lower()
    if kind in ("text/html", "application/xhtml+xml") or start.startswith((b"<!doctype", b"<html")):
        raise BrokenList("a web page came instead of the list", "html")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise BrokenList("an old Excel file (.xls): save it as .xlsx or CSV", "xls")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    return _csv_rows(data)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise BrokenList("not a text file in UTF-8 or GB18030", "encoding")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for line in reader:
                yield reader.line_num, list(line)
        except csv.Error as error:
            raise BrokenList(f"not a CSV file ({error})", "csv") from None

    return rows()


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook  # only when an XLSX comes

    _check_unpacked_size(data)
    # A damaged workbook raises whatever openpyxl's parsers raise (BadZipFile, KeyError, an
    # XML ParseError, …): each is a broken list, reported, not a 500 nor a pull loop's crash.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        raise BrokenList(f"not an XLSX file ({type(error).__name__})", "xlsx") from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise BrokenList("the workbook has no sheet", "xlsx")

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            cells = sheet.iter_rows(
                max_row=MAX_ROWS_READ + 1, max_col=MAX_COLUMNS, values_only=True
            )
            for number, values in enumerate(cells, start=1):
                if values.count(None) == len(values):  # blank: quickly, there may be many
                    yield number, []
                else:
                    yield number, [v if isinstance(v, Cell) else str(v) for v in values]
        except Exception as error:
            raise BrokenList(f"the XLSX file is damaged ({type(error).__name__})", "xlsx") from None
        finally:
            book.close()

    return rows()


def _check_unpacked_size(data: bytes) -> None:
    """An XLSX is a zip: a small upload could unpack to gigabytes, and openpyxl reads the
    shared strings whole even in read-only mode. What the archive says it holds is checked
    first, and zipfile stops reading any member that runs past what it said."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise BrokenList("not an XLSX file (BadZipFile)", "xlsx") from None
    if unpacked > MAX_UNPACKED:
        raise BrokenList("the XLSX file unpacks to more than a list can hold", "unpacked")


def _header(rows: Iterator[tuple[int, list[Cell]]]) -> dict[str, int]:
    for _, cells in rows:
        if all(_blank(c) for c in cells):
            continue
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            name = _column_of(cell)
            if name is not None and name not in found:
                found[name] = index
        missing = [name for name in REQUIRED if name not in found]
        if missing:
            raise BrokenList(
                "the header lacks " + ", ".join(missing) + " (身份证号/id_number, 开始日期/from)",
                "header",
            )
        return found
    raise BrokenList("the file has no rows", "empty")


def _column_of(cell: Cell) -> str | None:
    text = unicodedata.normalize("NFKC", str(cell or "")).strip().lower()
    words = {w.replace("_", "").replace("-", "") for w in _SPLIT.split(text) if w}
    words.add(re.sub(r"[\s_\-]", "", text))
    for name, aliases in COLUMNS.items():
        if words & set(aliases):
            return name
    return None


def _check(
    header: dict[str, int],
    rows: Iterable[tuple[int, list[Cell]]],
    protector: Protector,
    today: date,
) -> HospitalList:
    entries: list[HospitalEntry] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    count = 0
    for number, cells in rows:
        if all(_blank(c) for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise BrokenList(f"more than {MAX_ROWS} rows", "too_many_rows")

        def cell(name: str, cells: list[Cell] = cells) -> Cell:
            index = header.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        entry, found = _entry(number, cell, protector, today)
        if entry is not None and entry.id_hash in first_row:
            found.append(RowProblem(number, "id_number", "duplicate", first_row[entry.id_hash]))
        if found:
            problems.extend(found)
        elif entry is not None:
            first_row[entry.id_hash] = number
            entries.append(entry)
    return HospitalList(tuple(entries), tuple(problems), count)


def _entry(
    number: int, get: Callable[[str], Cell], protector: Protector, today: date
) -> tuple[HospitalEntry | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    raw_id = get("id_number")
    id_hash = id_masked = None
    if isinstance(raw_id, int | float):
        # Excel keeps 15 significant digits: an 18-digit number in a number cell is already
        # wrong, whatever it shows. The column must be text.
        problems.append(RowProblem(number, "id_number", "number_cell"))
    elif _blank(raw_id):
        problems.append(RowProblem(number, "id_number", "missing"))
    else:
        try:
            resident = parse_id_number(str(raw_id), today)
        except InvalidIdNumber as bad:
            problems.append(RowProblem(number, "id_number", str(bad.details.get("problem"))))
        else:
            id_hash = protector.lookup_hash("id", resident.number)
            id_masked = mask_id_number(resident.number)
    reason = " ".join(unicodedata.normalize("NFKC", str(get("reason") or "")).split())
    if len(reason) > MAX_REASON:
        problems.append(RowProblem(number, "reason", "too_long"))
    starts_on = _date(get("from"), number, "from", problems, required=True)
    until = _date(get("until"), number, "until", problems, required=False)
    if starts_on and until and until < starts_on:
        problems.append(RowProblem(number, "until", "before_from"))
    if problems or id_hash is None or id_masked is None or starts_on is None:
        return None, problems
    return HospitalEntry(id_hash, id_masked, reason, starts_on, until), []


def _date(
    value: Cell, row: int, column: str, problems: list[RowProblem], *, required: bool
) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _blank(value):
        if required:
            problems.append(RowProblem(row, column, "missing"))
        return None
    found = _DATE.match(unicodedata.normalize("NFKC", str(value)).strip())
    try:
        if found is None:
            raise ValueError
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        problems.append(RowProblem(row, column, "date"))
        return None


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
