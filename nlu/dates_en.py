"""English (and plain numeric) dates, parts of day and clock times: tomorrow, next monday,
dec 1, the 3rd, 2026-12-01, 12/1, 2:30pm, at 3, half past eight, friday morning."""

import re
import string
from collections.abc import Iterable
from datetime import date

from nlu.date_parts import (
    AFTERNOON,
    AM,
    BARE,
    EVE,
    EVENING,
    MORNING,
    PM,
    STRICT_AM,
    TIME_OF_DAY,
    Found,
    Prefixes,
    clock,
    day_of_month,
    found_date,
    found_time,
    month_day,
    nearest_weekday,
    shift_days,
    weekday_of_week,
)


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of the words, longest first."""
    return "|".join(sorted(words, key=len, reverse=True))


# Every regex starts with a literal or a character class, so that ``re`` can skip ahead to the
# places where an expression may start; the left boundary is then checked after the first
# character (numbers) or in code (words, see _word_start).
_LETTERS = frozenset(string.ascii_lowercase + "'’")
_RW = r"(?![a-z])"
# The first digit of a number that does not continue a word or a longer number (phone, ID, 1.5).
_D = r"[0-9](?<![0-9a-z'].)(?<![0-9][-/.:].)"
_RD = r"(?![0-9])(?![-/.:][0-9])"


def _word_start(text: str, index: int) -> bool:
    """No Latin letter right before ``index`` ("fri" in "friend", "noon" in "afternoon")."""
    return index == 0 or text[index - 1] not in _LETTERS


_TOMORROW = ("tomorrow", "tomorow", "tommorow", "tommorrow", "tmrw", "tmr")
_RELATIVE = {"today": 0, "tonight": 0, "yesterday": -1} | dict.fromkeys(_TOMORROW, 1)
_RELATIVE |= {f"{the}day after {word}": 2 for the in ("the ", "") for word in _TOMORROW}
_RELATIVE_RE = re.compile(rf"(?:{_alternatives(_RELATIVE)}){_RW}")

_WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2}
_WEEKDAYS |= {"weds": 2, "wed": 2, "thursday": 3, "thurs": 3, "thur": 3, "thu": 3}
_WEEKDAYS |= {"friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
# Weeks from the current Monday-Sunday week; None: the nearest such day from today on.
_WEEKS_BEFORE = {"this coming ": None, "coming ": None, "next week ": 1, "this week ": 0}
_WEEKS_BEFORE |= {"this ": 0, "next ": 1, "last ": -1}
_WEEKS_BEFORE_WORDS = Prefixes(_WEEKS_BEFORE)
_DAY_PARTS = (" morning", " afternoon", " evening", " night")
_WEEKS_AFTER = {"next week": 1, "this week": 0, "last week": -1, "after next": 2}
_WEEKDAY_RE = re.compile(
    rf"(?P<wd>{_alternatives(_WEEKDAYS)}){_RW}"
    rf"(?: (?:of )?(?P<post>{_alternatives(_WEEKS_AFTER)}){_RW})?"
)

_MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3}
_MONTHS |= {"april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7}
_MONTHS |= {"august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10}
_MONTHS |= {"oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12}
_MON = rf"(?P<mon>{_alternatives(_MONTHS)})"
_ANY_MONTH_RE = re.compile(_alternatives(_MONTHS))
_MONTH_BEFORE = Prefixes([f"{month} " for month in _MONTHS] + [f"{month}. " for month in _MONTHS])
_YEAR = r"(?:,? (?P<y>[0-9]{4})(?![0-9]))?"
_DAY_MONTH_RE = re.compile(rf"(?P<d>{_D}[0-9]?)(?:st|nd|rd|th)?(?: of)? {_MON}\.?{_RW}{_YEAR}")
_MONTH_DAY_RE = re.compile(
    rf"{_MON}\.? (?:the )?(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?![a-z0-9]){_YEAR}"
)
_THE_DAY_RE = re.compile(
    r"the (?P<d>[0-9]{1,2})(?:st|nd|rd|th)(?: of (?P<rel>next|this) month)?(?![a-z0-9])"
    r"(?! (?:floor|building|window|line|room|bed|one|time|patient|person|counter|gate|exit"
    r"|door|entrance|level|desk|place|doctor|appointment|visit|option|in line))"
)
# 2026-12-01, 2026/12/01, 12/1, 12/1/2026 (month first); the parts are told apart in code.
_NUMERIC_RE = re.compile(
    rf"(?P<a>{_D}[0-9]{{0,3}})(?P<sep>[-/])(?P<b>[0-9]{{1,2}})(?:(?P=sep)(?P<c>[0-9]{{1,4}}))?"
    + _RD
)

_HOURS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_HOURS |= {"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_AP = r"(?P<ap>[ap])(?:\.m\.?|m)(?![a-z])"
_PARTS = {"morning": (AM, MORNING), "afternoon": (PM, AFTERNOON), "evening": (EVE, EVENING)}
_PARTS |= {"night": (EVE, EVENING)}
_CLOCK = r" ?o['’]? ?clock"
# An hour followed by what makes it a time: 9:30, 2pm, 9 o'clock, 9 in the morning, 11 at night.
_HOUR_TAIL = (
    rf"(?=[:.][0-5][0-9]|{_CLOCK}| ?[ap](?:\.m|m)| in the | at night)"
    r"(?:(?P<sep>[:.])(?P<mi>[0-5][0-9]))?"
    rf"(?P<oc>{_CLOCK})?"
    rf"(?: ?{_AP}| in the (?P<part>morning|afternoon|evening){_RW}| at (?P<night>night){_RW})?"
    + _RD
)
_HOUR_MARKS = (":", ".", "clock", "m", " in the ", " at night")  # one is in every such time
_DIGIT_HOUR_RE = re.compile(rf"(?P<h>{_D}[0-9]?)" + _HOUR_TAIL)
_WORD_HOUR_RE = re.compile(rf"(?P<h>{_alternatives(_HOURS)}){_RW}" + _HOUR_TAIL)
_AT_RE = re.compile(
    r"at (?:around |about )?(?P<t>(?P<h>[0-9]{1,2})(?::(?P<mi>[0-5][0-9]))?)(?![a-z0-9])"
    r"(?![-/.:][0-9])"
)
_NOON_RE = re.compile(rf"(?:12 noon|noon|midday|midnight){_RW}")
_MINUTE_WORDS = {"half": 30, "quarter": 15, "five": 5, "ten": 10, "twenty": 20}
_MINUTE_WORDS |= {"twenty-five": 25, "twenty five": 25}
_PAST_TO_RE = re.compile(
    rf"(?:past|after|to) (?P<h>[0-9]{{1,2}}|{_alternatives(_HOURS)})(?![0-9:])(?: ?{_AP})?{_RW}"
)
_MINUTES_BEFORE_RE = re.compile(
    rf"(?<![a-z0-9'])(?P<mq>{_alternatives(_MINUTE_WORDS)}|[0-9]{{1,2}})(?P<mins> minutes?)? \Z"
)
_PART_RE = re.compile(rf"(?:morning|afternoon|evening|night){_RW}")
_GOOD = Prefixes(("good ",))  # good morning is a greeting
_THE = Prefixes(("the ",))


def _relative(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _RELATIVE_RE.finditer(text):
        if _word_start(text, m.start()):
            found += found_date(shift_days(today, _RELATIVE[m[0]]), m.start(), m.end())
            if m[0] == "tonight":
                found.append(Found(TIME_OF_DAY, EVE, m.start(), m.end()))
    return found


def _plainly_a_day(text: str, start: int, end: int) -> bool:
    """Whether the context makes "sat" / "sun" a weekday: on sat, by sun, sat morning."""
    after_on = start >= 3 and text[start - 3 : start] in ("on ", "by ")
    return after_on or text.startswith(_DAY_PARTS, end)


def _weekdays(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _WEEKDAY_RE.finditer(text):
        start, post, word = m.start(), m["post"], m["wd"]
        if not _word_start(text, start):
            continue
        pre = _WEEKS_BEFORE_WORDS.before(text, start)
        if pre is not None and _word_start(text, start - len(pre)):
            start -= len(pre)
        else:
            pre = None
        if word in ("sat", "sun") and not (pre or post or _plainly_a_day(text, start, m.end())):
            continue  # "sat" and "sun" are words too
        weekday = _WEEKDAYS[word]
        weeks = _WEEKS_AFTER[post] if post is not None else _WEEKS_BEFORE.get(pre or "")
        if weeks is None:  # bare, "coming", "this coming"
            day = nearest_weekday(today, weekday)
        else:
            day = weekday_of_week(today, weekday, weeks)
        found += found_date(day, start, m.end())
    return found


def _numeric_date(today: date, m: re.Match[str]) -> list[Found]:
    a, b, c = m["a"], int(m["b"]), m["c"]
    if len(a) == 4 and c is not None and len(c) <= 2:
        return found_date(month_day(today, b, int(c), int(a)), m.start(), m.end())
    if len(a) <= 2 and m["sep"] == "/" and (c is None or len(c) == 4):
        year = None if c is None else int(c)
        return found_date(month_day(today, int(a), b, year), m.start(), m.end())
    return []  # 3-5 is a range, 2026-12 a month


def _named_months(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _DAY_MONTH_RE.finditer(text):
        year = int(m["y"]) if m["y"] else None
        start = m.start() - 4 * (_THE.before(text, m.start()) is not None)
        day = month_day(today, _MONTHS[m["mon"]], int(m["d"]), year)
        found += found_date(day, start if _word_start(text, start) else m.start(), m.end())
    for m in _MONTH_DAY_RE.finditer(text):
        if _word_start(text, m.start()):
            year = int(m["y"]) if m["y"] else None
            day = month_day(today, _MONTHS[m["mon"]], int(m["d"]), year)
            found += found_date(day, m.start(), m.end())
    return found


def _month_days(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    if _ANY_MONTH_RE.search(text):
        found += _named_months(text, today)
    for m in _THE_DAY_RE.finditer(text):
        if _word_start(text, m.start()):
            ahead = {None: None, "this": 0, "next": 1}[m["rel"]]
            found += found_date(day_of_month(today, int(m["d"]), ahead), m.start(), m.end())
    if "/" in text or "-" in text:
        for m in _NUMERIC_RE.finditer(text):
            found += _numeric_date(today, m)
    return found


def _hour(written: str) -> int:
    return int(written) if written.isdigit() else _HOURS[written]


def _with_ap(hour: int, minute: int, ap: str | None) -> str | None:
    if ap is None:
        return clock(hour, minute, BARE)
    if hour == 0:
        return None
    return clock(hour, minute, AFTERNOON if ap == "p" else STRICT_AM)


def _hour_led(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    if not any(mark in text for mark in _HOUR_MARKS):
        return found
    for regex in (_DIGIT_HOUR_RE, _WORD_HOUR_RE):
        for m in regex.finditer(text):
            if regex is _WORD_HOUR_RE and not _word_start(text, m.start()):
                continue
            if not (m["mi"] or m["oc"] or m["ap"] or m["part"] or m["night"]):
                continue
            if not (m["mi"] or m["oc"] or m["ap"]) and _MONTH_BEFORE.before(text, m.start()):
                continue  # "dec 3 in the afternoon" is a day and a part of day
            if m["sep"] == "." and not m["ap"]:
                continue  # 9.30 alone may be a price or a date; 9.30am is a time
            hour, minute = _hour(m["h"]), int(m["mi"] or 0)
            if m["part"] or m["night"]:
                value = clock(hour, minute, _PARTS[m["part"] or m["night"]][1])
            else:
                value = _with_ap(hour, minute, m["ap"])
            found += found_time(value, m.start(), m.end())
    return found


def _times(text: str, today: date) -> list[Found]:
    found = _hour_led(text, today)
    for m in _AT_RE.finditer(text):
        if _word_start(text, m.start()):
            value = clock(int(m["h"]), int(m["mi"] or 0), BARE)
            found += found_time(value, m.start("t"), m.end("t"))
    for m in _NOON_RE.finditer(text):
        if _word_start(text, m.start()):
            value = "00:00" if m[0] == "midnight" else "12:00"
            found += found_time(value, m.start(), m.end())
    for m in _PAST_TO_RE.finditer(text):
        before = _MINUTES_BEFORE_RE.search(text, max(0, m.start() - 20), m.start())
        if before is None or not _word_start(text, m.start()):
            continue
        written = before["mq"]
        minutes = int(written) if written.isdigit() else _MINUTE_WORDS[written]
        to = m[0].startswith("to")
        if (to and not (written == "quarter" or before["mins"])) or minutes > 59:
            continue  # "9 to 11" is a range, not 10:51
        value = _with_ap(_hour(m["h"]), 0, m["ap"])
        if value is not None:
            total = int(value[:2]) * 60 + (-minutes if to else minutes)
            value = f"{total // 60 % 24:02d}:{total % 60:02d}"
        found += found_time(value, before.start(), m.end())
    return found


def _parts_of_day(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _PART_RE.finditer(text):
        if _word_start(text, m.start()) and _GOOD.before(text, m.start()) is None:
            found.append(Found(TIME_OF_DAY, _PARTS[m[0]][0], m.start(), m.end()))
    return found


_FINDERS = (_relative, _weekdays, _month_days, _times, _parts_of_day)


def find(text: str, today: date) -> list[Found]:
    """All English and numeric candidates, overlapping ones included."""
    found: list[Found] = []
    for finder in _FINDERS:
        found += finder(text, today)
    return found
