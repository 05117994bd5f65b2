"""The pieces both date recognisers share: entity names, parts of day, the hour modes, the
``Found`` candidate and the calendar helpers (``nlu.dates_zh`` and ``nlu.dates_en`` build on them,
``nlu.dates`` resolves their overlaps).
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

DATE = "date"
TIME_OF_DAY = "time_of_day"
TIME = "time"
# An expression that was recognised but names no real day or time (2月30号, 25:00). It still
# claims its span while overlaps are resolved, so that 30号 is not read out of 2月30号, and is
# dropped afterwards.
VOID = ""

AM = "am"
PM = "pm"
EVE = "eve"

# How an hour written with a part of day (or with none) becomes a 24-hour hour.
BARE = "bare"  # no part of day: 1-6 is the afternoon, 7-12 as written
MORNING = "morning"  # 上午/早上: as written (上午12点 is noon)
AFTERNOON = "afternoon"  # 下午 / p.m.: 1-11 plus twelve
NOON = "noon"  # 中午: 11 and 12 as written, 1-10 plus twelve
EVENING = "evening"  # 晚上: 5-11 plus twelve, 12 is midnight, 1-4 as written
NIGHT = "night"  # 凌晨/半夜: as written, 12 is midnight
STRICT_AM = "strict_am"  # English a.m.: 12 is midnight, 13 and later are not an a.m. hour


@dataclass(frozen=True, slots=True)
class Found:
    """One expression found in the text: ``text[start:end]`` is the expression."""

    entity: str  # "date" | "time_of_day" | "time"
    value: str  # "2026-11-27" | "am" / "pm" / "eve" | "15:00"
    start: int
    end: int


def found_date(day: date | None, start: int, end: int) -> list[Found]:
    """The date as a one-element list; a void candidate when there is no such day."""
    return [
        Found(VOID if day is None else DATE, "" if day is None else day.isoformat(), start, end)
    ]


def found_time(value: str | None, start: int, end: int) -> list[Found]:
    """The clock time as a one-element list; a void candidate when it is no valid time."""
    return [Found(VOID if value is None else TIME, value or "", start, end)]


class Prefixes:
    """Optional words that may come right before an expression (下 in 下周三, 下午 in 下午3点).

    The recognisers anchor their regexes on the core of an expression (the weekday, the hour) so
    that ``re`` can skip ahead quickly, and look for these prefixes by hand.
    """

    __slots__ = ("_by_last",)

    def __init__(self, words: Iterable[str]) -> None:
        by_last: dict[str, list[str]] = {}
        for word in sorted(words, key=len, reverse=True):
            by_last.setdefault(word[-1], []).append(word)
        self._by_last = {last: tuple(group) for last, group in by_last.items()}

    def before(self, text: str, start: int) -> str | None:
        """The longest of the words that ends right at ``start``, if any."""
        if start == 0:
            return None
        for word in self._by_last.get(text[start - 1], ()):
            if start >= len(word) and text.startswith(word, start - len(word)):
                return word
        return None


def shift_days(today: date, days: int) -> date:
    return today + timedelta(days=days)


def nearest_weekday(today: date, weekday: int) -> date:
    """The first day on or after ``today`` that falls on ``weekday`` (Monday is 0)."""
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def weekday_of_week(today: date, weekday: int, weeks_ahead: int) -> date:
    """``weekday`` of the Monday-Sunday week ``weeks_ahead`` weeks from the current one."""
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * weeks_ahead + weekday)


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def month_day(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """A month and day; without a year, the next such day from today on (so past ones roll over
    to next year). ``None`` when the day does not exist (2月30号)."""
    if year is not None:
        return _make(year, month, day)
    for candidate_year in (today.year, today.year + 1):
        found = _make(candidate_year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _add_months(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def day_of_month(today: date, day: int, months_ahead: int | None = None) -> date | None:
    """A bare day of the month (3号, the 3rd).

    With ``months_ahead`` given (本月 is 0, 下个月 is 1) that month's day. Without, this month's
    day when it is not past, else the first following month that has the day.
    """
    if not 1 <= day <= 31:
        return None
    if months_ahead is not None:
        return _make(*_add_months(today, months_ahead), day)
    for ahead in range(3):
        year, month = _add_months(today, ahead)
        if day <= calendar.monthrange(year, month)[1] and (ahead > 0 or day >= today.day):
            return date(year, month, day)
    return None


def clock(hour: int, minute: int, mode: str = BARE) -> str | None:
    """``HH:MM`` for an hour as people say it, or ``None`` when it is no time of day."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if hour > 12:
        return None if mode == STRICT_AM else f"{hour:02d}:{minute:02d}"
    if (
        (mode == BARE and 1 <= hour <= 6)
        or (mode == AFTERNOON and hour < 12)
        or (mode == NOON and hour < 11)
        or (mode == EVENING and 5 <= hour < 12)
    ):
        hour += 12
    elif hour == 12 and mode in (EVENING, NIGHT, STRICT_AM):
        hour = 0
    return f"{hour:02d}:{minute:02d}"


def resolve(candidates: Iterable[Found], length: int) -> list[Found]:
    """Keep the longest candidates that do not overlap, sorted by start.

    Ties go to the earlier start, then to the candidate produced first. The one exception to
    "never overlapping": a word that is both a day and a part of day ("tonight") gives a date and
    a time_of_day with the very same span.
    """
    ordered = sorted(candidates, key=lambda f: (f.start - f.end, f.start))
    taken = bytearray(length)
    spans: dict[tuple[int, int], list[Found]] = {}
    for found in ordered:
        span = (found.start, found.end)
        same = spans.get(span)
        if same is not None:
            if all(other.entity != found.entity for other in same):
                same.append(found)
            continue
        if found.start >= found.end or taken.find(1, found.start, found.end) != -1:
            continue
        taken[found.start : found.end] = b"\x01" * (found.end - found.start)
        spans[span] = [found]
    kept = [found for group in spans.values() for found in group if found.entity != VOID]
    return sorted(kept, key=lambda f: (f.start, f.entity))
