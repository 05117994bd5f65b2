"""Dates, parts of day and clock times in Chinese and English messages.

The text handed in is already normalised by the caller (NFKC, Latin letters lower-cased).
Both recognisers (``nlu.dates_zh`` and ``nlu.dates_en``) run on every message, because one
message may mix the two languages; overlapping candidates are resolved here, longest first.

Values: a date is ``YYYY-MM-DD``, a part of day is ``am`` / ``pm`` / ``eve`` and a clock time is
``HH:MM`` (24-hour).
"""

from datetime import date

from nlu import dates_en, dates_zh
from nlu.date_parts import Found, resolve


def find_dates_and_times(text: str, today: date) -> list[Found]:
    """Every date, part-of-day and clock-time expression, sorted by start, never overlapping.

    ``today`` is the hospital's local date; relative expressions (明天, next monday, 3号) are
    resolved against it. Where candidates overlap the longest wins (下午3点 is one time, not a
    part of day and a time). The one exception to "never overlapping": "tonight" is both a date
    and a time_of_day, given as two entities with the same span (今晚 splits into 今 and 晚).
    """
    candidates = dates_zh.find(text, today)
    candidates.extend(dates_en.find(text, today))
    return resolve(candidates, len(text))
