"""Who the patient is, by age: a child (孩子, 宝宝, 儿子3岁, my toddler, my 3 year old) or an
elderly person (老人, 我妈, 爷爷, my dad, 78岁). Triage sends a child to paediatrics whatever
the complaint, so this is read apart from the complaint itself.

The words are data (the `child` and `elderly` synonyms in data/nlu); ages are read here. An age
written out beats the word: 儿子25岁 is no child, 我妈45岁 is not elderly."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nlu.dates_zh import zh_int
from nlu.text import has_han

CHILD = "child"
ELDERLY = "elderly"
# Paediatrics in China sees children under 14; 60 is where 老年人 begins (老年人权益保障法).
CHILD_UNDER = 14
ELDERLY_FROM = 60

_NEAR = 4  # characters between a word and the age that is its own
_PAUSE = re.compile(r"[,，.。;；!！?？、]")
_CN = "一二两三四五六七八九十"
_YEARS_ZH = re.compile(rf"(?<![0-9.])(?P<n>\d{{1,3}}|[{_CN}]{{1,3}})(?:周岁|岁半|岁)")
# Months, weeks and days only with 大 (8个月大): 咳嗽两个月了 is how long, not how old.
_BABY_ZH = re.compile(
    rf"(?<![0-9.])(?:\d{{1,2}}|[{_CN}]{{1,3}})(?:个多月|个月|周|天)大|刚满月|满月"
)
_YEARS_EN = re.compile(
    r"(?<![0-9a-z.])(?:(?P<n>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old|aged?\s+(?P<aged>\d{1,3})"
    r"|(?P<yo>\d{1,3})\s*y/?o)(?![a-z])"
)
_BABY_EN = re.compile(r"(?<![0-9a-z.])\d{1,2}[\s-]*(?:months?|weeks?|days?)[\s-]*old(?![a-z])")


@dataclass(frozen=True, slots=True)
class AgeGroup:
    value: str  # child | elderly
    start: int
    end: int


def _either(words: Iterable[str]) -> str:
    ordered = sorted(set(words), key=lambda word: (-len(word), word))
    return "|".join(re.escape(word) for word in ordered) or "(?!)"


class AgeGroups:
    def __init__(self, words: dict[str, str]) -> None:
        """`words`: surface form -> child | elderly."""
        self._value = {" ".join(w.lower().split()): v for w, v in words.items()}
        han = [w for w in self._value if has_han(w)]
        latin = [w for w in self._value if not has_han(w)]
        self._words = re.compile(
            rf"(?:{_either(han)})|(?<![a-z])(?:{_either(latin)})(?=(?:'s)?(?![a-z]))"
        )

    def find(self, text: str, free: Callable[[int, int], bool]) -> list[AgeGroup]:
        ages = [found for found in (*_years(text), *_babies(text)) if free(found.start, found.end)]
        words = [
            AgeGroup(self._value[match.group(0)], *match.span())
            for match in self._words.finditer(text)
            if free(*match.span())
        ]
        for adult in (age for age in ages if not age.value):  # 儿子25岁: no child
            words = [w for w in words if not _beside(text, w, adult)]
        found = [age for age in ages if age.value] + words
        kept: list[AgeGroup] = []
        for item in sorted(found, key=lambda a: (a.start, -a.end)):
            if all(item.end <= k.start or item.start >= k.end for k in kept):
                kept.append(item)
        return kept


def _beside(text: str, word: AgeGroup, age: AgeGroup) -> bool:
    """儿子今年25岁, "my son is 25 years old", "a 25-year-old son": the age is the word's;
    not in 我30岁，孩子发烧了, where a comma parts them."""
    if 0 <= age.start - word.end <= _NEAR:
        between = text[word.end : age.start]
    elif 0 <= word.start - age.end <= _NEAR:
        between = text[age.end : word.start]
    else:
        return False
    return not _PAUSE.search(between)


def _years(text: str) -> list[AgeGroup]:
    found = []
    for pattern in (_YEARS_ZH, _YEARS_EN):
        for match in pattern.finditer(text):
            written = next(g for g in match.groups() if g)
            years = int(written) if written.isdigit() else zh_int(written)
            if years is None or years > 120:
                continue
            found.append(AgeGroup(_group(years), *match.span()))
    return found


def _babies(text: str) -> list[AgeGroup]:
    return [
        AgeGroup(CHILD, *match.span())
        for pattern in (_BABY_ZH, _BABY_EN)
        for match in pattern.finditer(text)
    ]


def _group(years: int) -> str:
    if years < CHILD_UNDER:
        return CHILD
    return ELDERLY if years >= ELDERLY_FROM else ""
