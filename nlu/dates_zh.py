"""Chinese dates, parts of day and clock times: 明天, 下周三, 12月1号, 下午3点, 八点半."""

import re
from datetime import date

from nlu.date_parts import (
    AFTERNOON,
    AM,
    BARE,
    EVE,
    EVENING,
    MORNING,
    NIGHT,
    NOON,
    PM,
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

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二两三四五六七八九十"
# A number that does not continue a longer one: no digit or numeral before it, nor "12." / "3-".
# The lookbehinds come after the first character so that every regex starts with a character
# class, which lets ``re`` skip quickly to the places where an expression can start.
# A weekday just before is fine: 周四8点半 is Thursday at 8:30, not the number 48.
_NUM = (
    rf"[0-9{_CN}](?<![周期拜].)(?:(?<=[周期拜][一二三四五六日天七].)|(?<![0-9{_CN}百千万].))"
    rf"(?<![0-9][-/.:].)[0-9{_CN}]{{0,2}}"
)
_NUM_AFTER = rf"[0-9{_CN}]{{1,3}}"  # a number right after 月 / 点
# A day number (3号) must not name a building, window, metro line, bed, room, ...
_DAY_END = (
    r"(?![0-9])(?!楼|栋|幢|座|门|窗|线|床|诊|室|房|厅|馆|台|柜|机|口|位|车|通道|电梯|层|区|病人|患者)"
    rf"(?![0-9{_CN}]{{1,3}}次)"
)


def zh_int(text: str) -> int | None:
    """0-99 written in ASCII digits or Chinese numerals (十二, 二十三, 两, 零五); else ``None``."""
    if text.isascii():
        return int(text) if text.isdigit() else None
    if "十" not in text:
        if len(text) == 1:
            return _DIGIT.get(text)
        if len(text) == 2 and text[0] in "零〇":
            return _DIGIT.get(text[1])
        if len(text) == 4 and all(c in _DIGIT and c != "两" for c in text):  # 二〇二六
            return int("".join(str(_DIGIT[c]) for c in text))
        return None
    tens_text, _, ones_text = text.partition("十")
    tens = 1 if tens_text == "" else _DIGIT.get(tens_text) if len(tens_text) == 1 else None
    ones = 0 if ones_text == "" else _DIGIT.get(ones_text) if len(ones_text) == 1 else None
    if tens is None or ones is None or tens == 0 or "两" in text[1:]:
        return None
    return tens * 10 + ones


_RELATIVE_DAYS = {"今天": 0, "今日": 0, "今儿": 0, "今儿个": 0, "今": 0}
_RELATIVE_DAYS |= {"明天": 1, "明日": 1, "明儿": 1, "明儿个": 1, "明": 1}
_RELATIVE_DAYS |= {"后天": 2, "後天": 2, "大后天": 3, "大後天": 3}
_RELATIVE_DAYS |= {"昨天": -1, "昨日": -1, "昨": -1, "前天": -2, "大前天": -3}
_RELATIVE_RE = re.compile(
    r"大后天|大後天|大前天|今儿个|明儿个|今天|今日|今儿|明天|明日|明儿|后天|後天|昨天|昨日|前天"
    # 明早 / 今晚: the day is 明 / 今; but not the 明 of 说明 / 证明 or the 今 of 如今 / 至今.
    r"|(?<![说证聪光文发表透声简失鲜英高开分照指注查澄])明(?=[早晚晨夜])"
    r"|(?<![如至当现而古迄])今(?=[早晚晨夜])|(?<![往])昨(?=[早晚晨夜])"
)

_WEEK_PREFIXES = {"下下个": 2, "上上个": -2, "下下": 2, "上上": -2, "这个": 0, "下个": 1}
_WEEK_PREFIXES |= {"上个": -1, "这": 0, "本": 0, "下": 1, "上": -1}
_WEEK_PREFIX_WORDS = Prefixes(_WEEK_PREFIXES)
_NOT_LAST_WEEK = frozenset("早晚马楼网线路")  # 早上周五 is "Friday morning"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAY |= {str(n): n - 1 for n in range(1, 8)}
_WEEKDAY_RE = re.compile(
    r"(?:周|星期|礼拜|週|禮拜)(?P<d>[一二三四五六日天七](?![次回遍])|[1-7](?![0-9次回遍]))"
)

_MONTH_DAY_RE = re.compile(
    rf"(?P<m>{_NUM})月(?P<d>{_NUM_AFTER})(?P<suf>[号日])?(?(suf)|(?![号日]))" + _DAY_END
)
_YEAR_BEFORE_RE = re.compile(
    r"(?:(?<![0-9])(?P<y>[0-9]{4})|(?<![零〇一二三四五六七八九])(?P<yc>[零〇一二三四五六七八九]{4})"
    r"|(?P<ry>今|明))年\Z"
)
_MONTHS_AHEAD = {"下个月": 1, "这个月": 0, "下月": 1, "本月": 0, "这月": 0}
_MONTHS_AHEAD_WORDS = Prefixes(_MONTHS_AHEAD)
_DAY_RE = re.compile(rf"(?P<d>{_NUM})(?:号|日(?![内后]))" + _DAY_END)  # 3日内: within 3 days

# Parts of day: the value alone, and the way an hour written after it is read.
_PARTS = {"上午": (AM, MORNING), "早上": (AM, MORNING), "早晨": (AM, MORNING)}
_PARTS |= {"清晨": (AM, MORNING), "上半天": (AM, MORNING), "早": (AM, MORNING)}
_PARTS |= {"晨": (AM, MORNING), "凌晨": (AM, NIGHT), "中午": (PM, NOON)}
_PARTS |= {"下午": (PM, AFTERNOON), "午后": (PM, AFTERNOON), "下半天": (PM, AFTERNOON)}
_PARTS |= {"晚上": (EVE, EVENING), "傍晚": (EVE, EVENING), "晚间": (EVE, EVENING)}
_PARTS |= {"夜里": (EVE, EVENING), "夜间": (EVE, EVENING), "夜晚": (EVE, EVENING)}
_PARTS |= {"晚": (EVE, EVENING), "夜": (EVE, EVENING), "半夜": (EVE, NIGHT), "深夜": (EVE, NIGHT)}
_PART_WORDS = tuple(sorted((w for w in _PARTS if len(w) > 1), key=len, reverse=True))
_PART_RE = re.compile(
    "(?:" + "|".join(_PART_WORDS) + "|早(?<=[今明昨].)|晚(?<=[今明昨].)|晨(?<=[今明昨].)"
    "|夜(?<=[今明昨].))(?!好)"  # 早上好 is a greeting
)
_HOUR_PREFIXES = Prefixes((*_PART_WORDS, "早", "晚"))  # 下午3点, 早8点

_TIME_RE = re.compile(
    # Not 第三点 ("the third point") nor 三点想问 ("three things to ask").
    rf"(?P<h>{_NUM})(?<!第.)(?<!第..)"
    r"(?:(?P<pt>点钟?(?!想|建议|意见|原因|问题|要求|内容|看法|疑问|需要|注意)|时(?![辰候间]|半会))"
    rf"(?P<min>半|[一三]刻|整|(?P<mn>{_NUM_AFTER})(?P<fen>分)?)?|:(?P<mc>[0-5][0-9]))"
    r"(?![0-9])(?![-/.:][0-9])"
)
_QUARTERS = {"半": 30, "一刻": 15, "三刻": 45, "整": 0}


def _relative(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _RELATIVE_RE.finditer(text):
        found += found_date(shift_days(today, _RELATIVE_DAYS[m[0]]), m.start(), m.end())
    return found


def _week_prefix(text: str, start: int) -> str | None:
    """这 / 下下个 / 上 ... right before a weekday, unless the characters belong elsewhere."""
    prefix = _WEEK_PREFIX_WORDS.before(text, start)
    if prefix is None:
        return None
    before = text[start - len(prefix) - 1] if start > len(prefix) else ""
    if (prefix[0] == "下" and before == "一") or (prefix[0] == "上" and before in _NOT_LAST_WEEK):
        return None  # 看一下周五 is "have a look at Friday"; 早上周五 is "Friday morning"
    return prefix


def _weekdays(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    for m in _WEEKDAY_RE.finditer(text):
        prefix = _week_prefix(text, m.start())
        start = m.start() - len(prefix or "")
        if start > 0 and text[start - 1] == "每":
            continue  # 每周三: every Wednesday, no one day
        weekday = _WEEKDAY[m["d"]]
        if prefix is None:
            day = nearest_weekday(today, weekday)
        else:
            day = weekday_of_week(today, weekday, _WEEK_PREFIXES[prefix])
        found += found_date(day, start, m.end())
    return found


def _month_days(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    if "月" not in text:
        return found
    for m in _MONTH_DAY_RE.finditer(text):
        if m["suf"] is None and not m["d"].isascii():  # 十二月一个 is no date
            continue
        start, year = m.start(), None
        y = _YEAR_BEFORE_RE.search(text, max(0, start - 5), start)
        if y is not None:
            start = y.start()
            year = today.year + (y["ry"] == "明") if y["ry"] else zh_int(y["y"] or y["yc"])
        month, day = zh_int(m["m"]), zh_int(m["d"])
        if month is None or day is None:
            found += found_date(None, start, m.end())
        else:
            found += found_date(month_day(today, month, day, year), start, m.end())
    return found


def _bare_days(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    if "号" not in text and "日" not in text:
        return found
    for m in _DAY_RE.finditer(text):
        start = m.start()
        prefix = _MONTHS_AHEAD_WORDS.before(text, start)
        start -= len(prefix or "")
        if start > 0 and text[start - 1] in "第每":
            continue  # 第3号 is a queue number
        day = zh_int(m["d"])
        ahead = None if prefix is None else _MONTHS_AHEAD[prefix]
        found += found_date(
            None if day is None else day_of_month(today, day, ahead), start, m.end()
        )
    return found


def _minutes(m: re.Match[str]) -> int | None:
    """The minutes of a clock-time match; ``None`` when they do not read as minutes."""
    if m["mc"] is not None:
        return int(m["mc"])
    written = m["min"]
    if written is None:
        return 0
    if written in _QUARTERS:
        return _QUARTERS[written]
    number = m["mn"]
    # Without 分 only 05 / 30 / 十五 / 零五 are minutes: 三点五 is rather "3.5".
    minute_like = (len(number) == 2 and number.isascii()) or "十" in number or number[0] in "零〇"
    if m["fen"] is None and not minute_like:
        return None
    return zh_int(number)


def _a_bit(text: str, m: re.Match[str], part: str | None) -> bool:
    """好一点 / 快一点 / 晚一点 mean "a bit"; 1 o'clock needs minutes, a part of day or context."""
    if m["h"] != "一" or m["min"] is not None or m["pt"] != "点":
        return False
    if part not in (None, "早", "晚"):
        return False
    return part is not None or m.start() == 0 or text[m.start() - 1] not in "在到约于天日号"


def _times(text: str, today: date) -> list[Found]:
    found: list[Found] = []
    if "点" not in text and "时" not in text and ":" not in text:
        return found
    for m in _TIME_RE.finditer(text):
        start = m.start()
        spaced = start > 0 and text[start - 1] == " "
        part = _HOUR_PREFIXES.before(text, start - spaced)
        if part is not None:
            start -= spaced + len(part)
        hour, minute = zh_int(m["h"]), _minutes(m)
        if hour is None or minute is None or _a_bit(text, m, part):
            found += found_time(None, start, m.end())
            continue
        mode = BARE if part is None else _PARTS[part][1]
        found += found_time(clock(hour, minute, mode), start, m.end())
    return found


def _parts_of_day(text: str, today: date) -> list[Found]:
    return [
        Found(TIME_OF_DAY, _PARTS[m[0]][0], m.start(), m.end()) for m in _PART_RE.finditer(text)
    ]


_FINDERS = (_relative, _weekdays, _month_days, _bare_days, _times, _parts_of_day)


def find(text: str, today: date) -> list[Found]:
    """All Chinese candidates, overlapping ones included (the caller resolves overlaps)."""
    found: list[Found] = []
    for finder in _FINDERS:
        found += finder(text, today)
    return found
