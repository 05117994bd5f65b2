"""Dates, parts of day and clock times in Chinese and English (nlu.dates).

Unless a test says otherwise, today is Wednesday 25 November 2026. The texts are written the way
the NLU hands them over: NFKC-normalised, Latin letters lower-cased.
"""

import itertools
import random
import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from nlu.date_parts import Found, resolve
from nlu.dates import find_dates_and_times

TODAY = date(2026, 11, 25)  # a Wednesday


def found(text: str, today: date = TODAY) -> list[tuple[str, str, str]]:
    """(entity, value, the text it covers) for every expression found."""
    return [(f.entity, f.value, text[f.start : f.end]) for f in find_dates_and_times(text, today)]


def valid_id(first_17: str) -> str:
    """The resident ID number with these 17 characters and a valid GB 11643 check character."""
    return next(first_17 + c for c in "0123456789X" if ric.is_valid(first_17 + c))


# --- one expression: the whole text -----------------------------------------------------------

DATES = [
    # relative days
    ("今天", "2026-11-25"),
    ("今日", "2026-11-25"),
    ("today", "2026-11-25"),
    ("明天", "2026-11-26"),
    ("明日", "2026-11-26"),
    ("明儿", "2026-11-26"),
    ("tomorrow", "2026-11-26"),
    ("tmr", "2026-11-26"),
    ("tmrw", "2026-11-26"),
    ("tomorow", "2026-11-26"),
    ("后天", "2026-11-27"),
    ("the day after tomorrow", "2026-11-27"),
    ("day after tomorrow", "2026-11-27"),
    ("大后天", "2026-11-28"),
    ("昨天", "2026-11-24"),
    ("yesterday", "2026-11-24"),
    # bare weekday: the nearest such day from today on, today included
    ("周三", "2026-11-25"),
    ("周五", "2026-11-27"),
    ("星期五", "2026-11-27"),
    ("礼拜五", "2026-11-27"),
    ("周一", "2026-11-30"),
    ("周日", "2026-11-29"),
    ("星期天", "2026-11-29"),
    ("礼拜天", "2026-11-29"),
    ("星期日", "2026-11-29"),
    ("friday", "2026-11-27"),
    ("fri", "2026-11-27"),
    ("wed", "2026-11-25"),
    ("monday", "2026-11-30"),
    ("this coming friday", "2026-11-27"),
    # this week's day (Monday-Sunday), even when already past
    ("这周一", "2026-11-23"),
    ("这周五", "2026-11-27"),
    ("本周五", "2026-11-27"),
    ("这个星期五", "2026-11-27"),
    ("这礼拜五", "2026-11-27"),
    ("this friday", "2026-11-27"),
    ("this monday", "2026-11-23"),
    ("friday this week", "2026-11-27"),
    # next week's day, and the week after
    ("下周三", "2026-12-02"),
    ("下星期三", "2026-12-02"),
    ("下个星期三", "2026-12-02"),
    ("下礼拜三", "2026-12-02"),
    ("下周一", "2026-11-30"),
    ("下周日", "2026-12-06"),
    ("下下周三", "2026-12-09"),
    ("next monday", "2026-11-30"),
    ("next friday", "2026-12-04"),
    ("monday next week", "2026-11-30"),
    ("friday next week", "2026-12-04"),
    ("next week friday", "2026-12-04"),
    ("friday after next", "2026-12-11"),
    # last week
    ("上周五", "2026-11-20"),
    ("last friday", "2026-11-20"),
    # month and day
    ("12月1号", "2026-12-01"),
    ("12月1日", "2026-12-01"),
    ("十二月一号", "2026-12-01"),
    ("十二月三十一号", "2026-12-31"),
    ("12月1", "2026-12-01"),
    ("12/1", "2026-12-01"),
    ("2026-12-01", "2026-12-01"),
    ("2026/12/01", "2026-12-01"),
    ("12/1/2026", "2026-12-01"),
    ("2026年12月1日", "2026-12-01"),
    ("二〇二六年十二月一日", "2026-12-01"),
    ("dec 1", "2026-12-01"),
    ("dec. 1", "2026-12-01"),
    ("december 1st", "2026-12-01"),
    ("december 1st, 2026", "2026-12-01"),
    ("1 dec", "2026-12-01"),
    ("1st dec 2026", "2026-12-01"),
    ("1st of december", "2026-12-01"),
    ("the 1st of december", "2026-12-01"),
    ("dec 3", "2026-12-03"),
    ("11月25号", "2026-11-25"),  # today
    # bare day of the month
    ("3号", "2026-12-03"),
    ("3日", "2026-12-03"),
    ("三号", "2026-12-03"),
    ("28号", "2026-11-28"),
    ("25号", "2026-11-25"),
    ("31号", "2026-12-31"),  # November has no 31st
    ("the 3rd", "2026-12-03"),
    ("the 28th", "2026-11-28"),
    ("下个月3号", "2026-12-03"),
    ("下月3号", "2026-12-03"),
    ("这个月28号", "2026-11-28"),
    ("the 3rd of next month", "2026-12-03"),
]


@pytest.mark.parametrize(("text", "value"), DATES)
def test_dates(text: str, value: str) -> None:
    assert found(text) == [("date", value, text)]


PARTS_OF_DAY = [
    ("上午", "am"),
    ("早上", "am"),
    ("早晨", "am"),
    ("上半天", "am"),
    ("凌晨", "am"),
    ("morning", "am"),
    ("下午", "pm"),
    ("中午", "pm"),
    ("下半天", "pm"),
    ("afternoon", "pm"),
    ("晚上", "eve"),
    ("傍晚", "eve"),
    ("夜里", "eve"),
    ("evening", "eve"),
    ("night", "eve"),
]


@pytest.mark.parametrize(("text", "value"), PARTS_OF_DAY)
def test_parts_of_day(text: str, value: str) -> None:
    assert found(text) == [("time_of_day", value, text)]


TIMES = [
    ("8点半", "08:30"),
    ("9:30", "09:30"),
    ("九点", "09:00"),
    ("两点", "14:00"),
    ("二点", "14:00"),
    ("3点", "15:00"),  # a bare hour 1-6 is in the afternoon
    ("6点", "18:00"),
    ("7点", "07:00"),
    ("8点一刻", "08:15"),
    ("10点三刻", "10:45"),
    ("9点10分", "09:10"),
    ("9点10", "09:10"),
    ("九点十分", "09:10"),
    ("八点零五", "08:05"),
    ("3点05", "15:05"),
    ("十二点", "12:00"),
    ("8点钟", "08:00"),
    ("8点整", "08:00"),
    ("15时30分", "15:30"),
    ("一点半", "13:30"),
    ("下午3点", "15:00"),
    ("下午三点", "15:00"),
    ("下午 3点", "15:00"),
    ("下午3:30", "15:30"),
    ("下午12点", "12:00"),
    ("晚上7点", "19:00"),
    ("晚7点", "19:00"),
    ("晚上12点", "00:00"),
    ("上午10点", "10:00"),
    ("上午12点", "12:00"),
    ("早上8点半", "08:30"),
    ("早8点", "08:00"),
    ("中午12点", "12:00"),
    ("中午1点", "13:00"),
    ("凌晨3点", "03:00"),
    ("9am", "09:00"),
    ("9 am", "09:00"),
    ("9 a.m.", "09:00"),
    ("9 a.m", "09:00"),
    ("2pm", "14:00"),
    ("2 pm", "14:00"),
    ("2:30pm", "14:30"),
    ("2:30 pm", "14:30"),
    ("9.30am", "09:30"),
    ("12am", "00:00"),
    ("12pm", "12:00"),
    ("nine am", "09:00"),
    ("noon", "12:00"),
    ("12 noon", "12:00"),
    ("midday", "12:00"),
    ("midnight", "00:00"),
    ("half past eight", "08:30"),
    ("half past three", "15:30"),
    ("quarter past nine", "09:15"),
    ("quarter to ten", "09:45"),
    ("quarter to one", "12:45"),
    ("ten past nine", "09:10"),
    ("20 minutes to 10", "09:40"),
    ("half past 2 pm", "14:30"),
    ("9 o'clock", "09:00"),
    ("9 oclock", "09:00"),
    ("three o'clock", "15:00"),
    ("9 in the morning", "09:00"),
    ("3 in the afternoon", "15:00"),
    ("8 in the evening", "20:00"),
    ("11 at night", "23:00"),
]


@pytest.mark.parametrize(("text", "value"), TIMES)
def test_clock_times(text: str, value: str) -> None:
    assert found(text) == [("time", value, text)]


# --- expressions inside messages --------------------------------------------------------------

IN_CONTEXT = [
    ("at 3", [("time", "15:00", "3")]),
    ("at 9", [("time", "09:00", "9")]),
    ("at 9:30", [("time", "09:30", "9:30")]),
    ("at around 4", [("time", "16:00", "4")]),
    ("on friday", [("date", "2026-11-27", "friday")]),
    ("on sat", [("date", "2026-11-28", "sat")]),
    ("on the 3rd", [("date", "2026-12-03", "the 3rd")]),
    ("in the morning", [("time_of_day", "am", "morning")]),
    ("我想挂明天的号", [("date", "2026-11-26", "明天")]),
    ("看一下周五的号", [("date", "2026-11-27", "周五")]),  # not 下周五
    ("明天一点来", [("date", "2026-11-26", "明天"), ("time", "13:00", "一点")]),
    ("3号之前", [("date", "2026-12-03", "3号")]),
    ("12月1日后", [("date", "2026-12-01", "12月1日")]),
    ("明年1月5号", [("date", "2027-01-05", "明年1月5号")]),
    ("今年12月1号", [("date", "2026-12-01", "今年12月1号")]),
    ("sat morning", [("date", "2026-11-28", "sat"), ("time_of_day", "am", "morning")]),
]


@pytest.mark.parametrize(("text", "expected"), IN_CONTEXT)
def test_expressions_in_context(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


COMBINATIONS = [
    ("明天下午", [("date", "2026-11-26", "明天"), ("time_of_day", "pm", "下午")]),
    ("下周三上午9点", [("date", "2026-12-02", "下周三"), ("time", "09:00", "上午9点")]),
    ("明天下午3点", [("date", "2026-11-26", "明天"), ("time", "15:00", "下午3点")]),
    ("周五晚上", [("date", "2026-11-27", "周五"), ("time_of_day", "eve", "晚上")]),
    ("12月1号上午", [("date", "2026-12-01", "12月1号"), ("time_of_day", "am", "上午")]),
    ("今晚7点", [("date", "2026-11-25", "今"), ("time", "19:00", "晚7点")]),
    ("今晚", [("date", "2026-11-25", "今"), ("time_of_day", "eve", "晚")]),
    ("明早", [("date", "2026-11-26", "明"), ("time_of_day", "am", "早")]),
    ("tomorrow at 2pm", [("date", "2026-11-26", "tomorrow"), ("time", "14:00", "2pm")]),
    ("friday morning", [("date", "2026-11-27", "friday"), ("time_of_day", "am", "morning")]),
    ("next monday at 9", [("date", "2026-11-30", "next monday"), ("time", "09:00", "9")]),
    (
        "dec 3 in the afternoon",
        [("date", "2026-12-03", "dec 3"), ("time_of_day", "pm", "afternoon")],
    ),
    # "tonight" is a day and a part of day: the one case of two entities on one span
    ("tonight", [("date", "2026-11-25", "tonight"), ("time_of_day", "eve", "tonight")]),
    ("下午3点到5点", [("time", "15:00", "下午3点"), ("time", "17:00", "5点")]),
]


@pytest.mark.parametrize(("text", "expected"), COMBINATIONS)
def test_combinations_give_separate_entities(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert found(text) == expected


MIXED = [
    ("明天 at 3pm", [("date", "2026-11-26", "明天"), ("time", "15:00", "3pm")]),
    ("下周三 9am", [("date", "2026-12-02", "下周三"), ("time", "09:00", "9am")]),
    ("tomorrow下午3点", [("date", "2026-11-26", "tomorrow"), ("time", "15:00", "下午3点")]),
    ("周五morning", [("date", "2026-11-27", "周五"), ("time_of_day", "am", "morning")]),
    ("next friday上午", [("date", "2026-12-04", "next friday"), ("time_of_day", "am", "上午")]),
    ("dec 1号上午10点", [("date", "2026-12-01", "dec 1"), ("time", "10:00", "上午10点")]),
]


@pytest.mark.parametrize(("text", "expected"), MIXED)
def test_mixed_chinese_and_english(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


# --- overlaps: the longest expression wins ----------------------------------------------------

OVERLAPS = [
    ("下午3点", [("time", "15:00", "下午3点")]),  # no separate 下午
    ("12月1号", [("date", "2026-12-01", "12月1号")]),  # no separate 1号
    ("下周三", [("date", "2026-12-02", "下周三")]),  # no separate 周三
    ("大后天", [("date", "2026-11-28", "大后天")]),  # no separate 后天
    ("the 1st of december", [("date", "2026-12-01", "the 1st of december")]),
    ("2:30 pm", [("time", "14:30", "2:30 pm")]),  # not 2:30 read as 14:30 plus pm
    ("3:30 am", [("time", "03:30", "3:30 am")]),
    ("at 3pm", [("time", "15:00", "3pm")]),  # not "at 3"
    ("2月30号", []),  # an invalid date claims its span: 30号 is not read out of it
]


@pytest.mark.parametrize(("text", "expected"), OVERLAPS)
def test_overlaps_keep_the_longest(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


def test_resolve_keeps_the_longest_then_the_earliest() -> None:
    candidates = [
        Found("date", "a", 0, 2),
        Found("time", "b", 1, 5),
        Found("time_of_day", "c", 4, 7),
        Found("time_of_day", "d", 5, 7),
        Found("time_of_day", "e", 1, 5),  # same span, other entity: kept
        Found("time", "f", 1, 5),  # same span, same entity: dropped
        Found("", "", 7, 9),  # void: claims its span, never returned
        Found("date", "g", 8, 9),
    ]
    assert resolve(candidates, 9) == [
        Found("time", "b", 1, 5),
        Found("time_of_day", "e", 1, 5),
        Found("time_of_day", "d", 5, 7),
    ]


# --- year and month rollover ------------------------------------------------------------------

ROLLOVER = [
    ("1月5号", TODAY, "2027-01-05"),
    ("jan 5", TODAY, "2027-01-05"),
    ("1/5", TODAY, "2027-01-05"),
    ("11月24号", TODAY, "2027-11-24"),  # yesterday's date means next year
    ("11月25号", TODAY, "2026-11-25"),
    ("dec 1", TODAY, "2026-12-01"),
    ("2026年1月5号", TODAY, "2026-01-05"),  # an explicit year is kept
    ("明天", date(2026, 12, 31), "2027-01-01"),
    ("下周三", date(2026, 12, 31), "2027-01-06"),
    ("3号", date(2026, 12, 25), "2027-01-03"),
    ("the 3rd", date(2026, 12, 25), "2027-01-03"),
    ("下个月3号", date(2026, 12, 25), "2027-01-03"),
    ("30号", date(2027, 1, 31), "2027-03-30"),  # no 30 February
    ("2月29号", date(2027, 11, 25), "2028-02-29"),  # the next leap day
    ("24号", date(2026, 11, 24), "2026-11-24"),
]


@pytest.mark.parametrize(("text", "today", "value"), ROLLOVER)
def test_rollover(text: str, today: date, value: str) -> None:
    assert found(text, today) == [("date", value, text)]


@pytest.mark.parametrize(
    ("text", "today"),
    [("下个月31号", date(2027, 1, 10)), ("the 31st of next month", date(2027, 1, 10))],
)
def test_no_such_day_next_month(text: str, today: date) -> None:
    assert found(text, today) == []


# --- what is not a date or a time -------------------------------------------------------------

NOTHING = [
    # invalid dates and times
    "2月30号",
    "2月29号",  # 2026 and 2027 have none
    "13月1号",
    "32号",
    "feb 30",
    "2026-02-30",
    "2026-13-01",
    "13/1",
    "25点",
    "0am",
    "the 32nd",
    # digits inside longer numbers
    "26112712345678",  # booking number
    "预约号26112712345678",
    "ts2611240007",  # complaint number
    "13800138000",
    "138 0013 8000",
    "138-0013-8000",
    "110101199003074514",  # ID number
    "11010119900307451x",
    "12.1",  # dotted forms are skipped
    "1.5",
    "9.30",
    "9:30:00",
    "3-5",
    "2026-12",
    "第3号",
    "12026年12月1日1",
    # a day number that names a place, a line, a bed
    "3号楼",
    "3号窗口",
    "3号线",
    "3号诊室",
    "5号床",
    "the 3rd floor",
    # not a time or not one day
    "好一点了",
    "快一点",
    "晚一点",
    "一点",
    "三点五",
    "体温三十八点五度",
    "一日三次",
    "3日内",
    "每周三",
    "一周一次",
    "早上好",
    "晚上好",
    "good morning",
    "good evening",
    "i sat down",
    "the sun",
    "we may come",
    "friendly",
    "afternoons",
    "from 9 to 11",
    "5 to 10 days",
    "下周",
    "next week",
    "asdfgh",
    "？？？",
    "",
]


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_found(text: str) -> None:
    assert found(text) == []


def test_a_date_next_to_identity_numbers() -> None:
    id_number = valid_id("32010219850612003")
    bad_id = id_number[:-1] + ("1" if id_number[-1] != "1" else "2")
    assert not ric.is_valid(bad_id)
    for number in (id_number, bad_id, "13800138000", "26112712345678"):
        text = f"{number}明天3号"
        assert found(text) == [("date", "2026-11-26", "明天"), ("date", "2026-12-03", "3号")]
        text = f"my number {number} tomorrow at 2pm"
        assert found(text) == [("date", "2026-11-26", "tomorrow"), ("time", "14:00", "2pm")]


# --- offsets ----------------------------------------------------------------------------------


def test_offsets_point_into_the_text() -> None:
    text = "我想挂下周三上午9点心内科张伟医生的号,or next monday at 2:30pm?"
    assert find_dates_and_times(text, TODAY) == [
        Found("date", "2026-12-02", 3, 6),
        Found("time", "09:00", 6, 10),
        Found("date", "2026-11-30", 23, 34),
        Found("time", "14:30", 38, 44),
    ]
    assert [text[f.start : f.end] for f in find_dates_and_times(text, TODAY)] == [
        "下周三",
        "上午9点",
        "next monday",
        "2:30pm",
    ]


@pytest.mark.parametrize(
    "text",
    [text for text, _ in DATES + PARTS_OF_DAY + TIMES]
    + [text for text, _ in IN_CONTEXT + COMBINATIONS + MIXED],
)
def test_offsets_survive_surrounding_text(text: str) -> None:
    plain = find_dates_and_times(text, TODAY)
    padded = find_dates_and_times(f"你好,{text}。", TODAY)
    assert [(f.entity, f.value, f.start + 3, f.end + 3) for f in plain] == [
        (f.entity, f.value, f.start, f.end) for f in padded
    ]


# --- robustness -------------------------------------------------------------------------------


def _check_shape(text: str, result: list[Found]) -> None:
    assert result == sorted(result, key=lambda f: (f.start, f.entity))
    for found_ in result:
        assert 0 <= found_.start < found_.end <= len(text)
        assert found_.entity in ("date", "time_of_day", "time")
    for earlier, later in itertools.pairwise(result):
        same_span = (earlier.start, earlier.end) == (later.start, later.end)
        assert same_span or earlier.end <= later.start


@pytest.mark.parametrize("kind", ["digits", "ascii", "cjk", "dense"])
def test_100_kb_of_input_completes(kind: str) -> None:
    rng = random.Random(kind)
    cjk = "今明后天周星期号日月点半上下午晚早一二三四五六七八九十两楼线:/-. " + string.digits
    alphabet = {
        "digits": string.digits,
        "ascii": string.ascii_lowercase + string.digits + " :/-.",
        "cjk": cjk,
    }.get(kind)
    if alphabet is None:
        text = ("明天下午3点 tomorrow at 2:30pm 12月1号 " * 3000)[:100_000]
    else:
        text = "".join(rng.choice(alphabet) for _ in range(100_000))
    result = find_dates_and_times(text, TODAY)
    assert isinstance(result, list)
    _check_shape(text, result)


_PIECES = [
    *"今明后大天周星期礼拜号日月点半刻分上下午晚早中这本个第每楼线0123456789:/-. ",
    *("next ", "this ", "fri", "day", "dec ", "the ", "st", "at ", "pm", "am", "noon"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_gives_sorted_non_overlapping_entities(text: str) -> None:
    _check_shape(text, find_dates_and_times(text, TODAY))


# --- every form the issue lists, exactly as written there -------------------------------------

ISSUE_FORMS = [
    ("今天", [("date", "2026-11-25", "今天")]),
    ("明天", [("date", "2026-11-26", "明天")]),
    ("后天", [("date", "2026-11-27", "后天")]),
    ("大后天", [("date", "2026-11-28", "大后天")]),
    ("周五", [("date", "2026-11-27", "周五")]),
    ("星期五", [("date", "2026-11-27", "星期五")]),
    ("这周六", [("date", "2026-11-28", "这周六")]),
    ("下周三", [("date", "2026-12-02", "下周三")]),
    ("下星期一", [("date", "2026-11-30", "下星期一")]),
    ("12月1号", [("date", "2026-12-01", "12月1号")]),
    ("12月2日", [("date", "2026-12-02", "12月2日")]),
    ("上午", [("time_of_day", "am", "上午")]),
    ("下午", [("time_of_day", "pm", "下午")]),
    ("晚上", [("time_of_day", "eve", "晚上")]),
    ("早上", [("time_of_day", "am", "早上")]),
    ("8点半", [("time", "08:30", "8点半")]),
    ("9:30", [("time", "09:30", "9:30")]),
    ("九点", [("time", "09:00", "九点")]),
    ("today", [("date", "2026-11-25", "today")]),
    ("tomorrow", [("date", "2026-11-26", "tomorrow")]),
    ("this friday", [("date", "2026-11-27", "this friday")]),
    ("next monday", [("date", "2026-11-30", "next monday")]),
    ("dec 3", [("date", "2026-12-03", "dec 3")]),
    ("the 3rd of december", [("date", "2026-12-03", "the 3rd of december")]),
    ("morning", [("time_of_day", "am", "morning")]),
    ("afternoon", [("time_of_day", "pm", "afternoon")]),
    ("evening", [("time_of_day", "eve", "evening")]),
    # a weekday numeral right before a clock time is no number (周四8点半 was missed once)
    ("周四8点半", [("date", "2026-11-26", "周四"), ("time", "08:30", "8点半")]),
    ("下周三8点", [("date", "2026-12-02", "下周三"), ("time", "08:00", "8点")]),
]


@pytest.mark.parametrize(("text", "expected"), ISSUE_FORMS)
def test_every_form_the_issue_lists(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected
