"""Body temperatures as patients write them: 发烧39度, 38.5℃, 烧到三十九度五, 体温38度2,
"a fever of 39", "102F", "temperature of 101.5". The value is in degrees Celsius with one
decimal ("38.9" for 102F), so that the dialogue compares it with one threshold whatever unit
the patient used. Only a body's temperatures count: 3度 or 60度 are something else."""

import re
from dataclasses import dataclass

from nlu.dates_zh import zh_int

_CN = "一二两三四五六七八九十"
_NUM = r"\d{2,3}(?:\.\d{1,2})?"
_NUM_ZH = rf"(?:{_NUM}|[三四]十[{_CN}]?)"
_TENTH = rf"(?P<tenth>[0-9{_CN}])(?![0-9{_CN}])"
_CUE_ZH = r"(?:发高烧|发烧|发热|高烧|低烧|烧|体温|温度)"
_LINK_ZH = r"(?:到了|到|了|有|是|达到|达|都|快|将近|差不多|一直|还|又|在|最高)*"
_NOT_AFTER_ZH = r"(?![0-9.]|\s*(?:天|号|日|点|岁|个|次|分|小时|周|月|年|斤|公斤|块|元))"
_CUE_EN = r"(?:fever|temperature|temp)"
_LINK_EN = r"(?:\s+(?:of|is|was|at|around|about|up|to|reached|hit|over|above|nearly|almost))*"
_PATTERNS = (
    re.compile(rf"(?<![0-9.])(?P<n>{_NUM_ZH})\s*(?:摄氏度|度|℃|°\s*[cf]?)(?:{_TENTH})?"),
    re.compile(rf"{_CUE_ZH}{_LINK_ZH}\s*(?P<n>{_NUM}){_NOT_AFTER_ZH}"),
    re.compile(
        rf"(?<![0-9.])(?P<n>{_NUM})\s*(?:°|º|degrees?|deg)\s*(?P<unit>celsius|centigrade|fahrenheit|c|f)?(?![a-z])"
    ),
    re.compile(rf"(?<![0-9.])(?P<n>{_NUM})\s*(?P<unit>[cf]|℉)(?![a-z])"),
    re.compile(
        rf"(?<![a-z]){_CUE_EN}{_LINK_EN}\s+(?P<n>{_NUM})(?![0-9.]|\s*(?:days?|hours?|times))"
    ),
)
# From here a fever is itself an emergency (hyperpyrexia): go now, do not book.
DANGEROUS_FROM = 41.0
# A temperature is a body's when the message speaks of a fever (or of a patient): 今天41度 is
# the weather.
_FEVER_WORDS = re.compile(r"烧|发热|体温|fever|temperature|temp(?![a-z])|febrile")
# What a body's temperature can be; a number between the two ranges is neither.
_CELSIUS = (34.0, 44.0)
_FAHRENHEIT = (93.0, 112.0)


@dataclass(frozen=True, slots=True)
class Temperature:
    celsius: float
    start: int
    end: int

    @property
    def value(self) -> str:
        return f"{self.celsius:.1f}"


def find_temperatures(text: str) -> list[Temperature]:
    """Temperatures in normalised text, left to right, none overlapping."""
    found: list[Temperature] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            celsius = _celsius(match)
            start, end = match.start("n"), match.end()
            if celsius is not None and all(end <= t.start or start >= t.end for t in found):
                found.append(Temperature(celsius, start, end))
    return sorted(found, key=lambda t: t.start)


def _celsius(match: re.Match[str]) -> float | None:
    written = match.group("n")
    number = float(written) if written[0].isdigit() else zh_int(written)
    if number is None:
        return None
    tenth = match.groupdict().get("tenth")
    if tenth and "." not in written:  # 38度5 is 38.5
        digit = int(tenth) if tenth.isdigit() else zh_int(tenth)
        number += (digit or 0) / 10
    unit = (match.groupdict().get("unit") or "").lower()
    fahrenheit = unit in ("f", "fahrenheit", "℉") or (not unit and number > _CELSIUS[1])
    if fahrenheit:
        if not _FAHRENHEIT[0] <= number <= _FAHRENHEIT[1]:
            return None
        number = (number - 32) * 5 / 9
    elif not _CELSIUS[0] <= number <= _CELSIUS[1]:
        return None
    return round(number, 1)


def dangerous_fever(text: str, celsius: list[float], about_a_patient: bool) -> bool:
    """41 °C and more, said of a fever or of a patient (宝宝41度, "fever of 106F")."""
    hot = bool(celsius) and max(celsius) >= DANGEROUS_FROM
    return hot and (about_a_patient or bool(_FEVER_WORDS.search(text)))
