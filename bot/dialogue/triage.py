"""Which department for a complaint (导诊), as the hospital's triage table says.

Emergency signs never reach this: the engine answers them first, whatever else a message says
(a child's febrile seizure included). Then, in this order:

1. a child goes to the departments the table names for children (`children`), whatever the
   complaint: paediatrics sees children's coughs, stomach aches and rashes alike;
2. each complaint goes where the hospital's words found in it say: `hints` (咳嗽, 拉肚子,
   stomach ache) and `body_parts` (胃, 膝盖, knee). Where two words overlap the longer one
   wins, so 掉头发 is dermatology although 头 is neurology's;
3. a temperature at or above 37.3 °C is the complaint 发热 (fever), whatever words came with it;
4. an elderly patient is routed by the complaint too; the departments the table names for
   them (`elderly`, e.g. a geriatrics clinic) are offered after, and the answer reminds of
   the signs of a stroke, which come on suddenly at that age and need 120, not a booking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from booking.catalogue.model import Catalogue, Department
from bot.dialogue.context import Context, Turn
from bot.dialogue.departments import department_choices, department_name
from channels.messages import Outbound
from nlu.result import Parse

# 发热 by the Chinese definition (armpit temperature above 37.3 °C).
FEVER_FROM = 37.3
FEVER = "发热"
_LATIN = re.compile(r"[a-z]")
_GLUED_ACHE = re.compile(r"(?<=[a-z])ache")


@dataclass(frozen=True, slots=True)
class Suggestion:
    departments: tuple[Department, ...]  # the ones to offer, the first ones suggested
    suggested: int  # how many of them the answer names
    child: bool = False
    elderly: bool = False


def suggest(parse: Parse | None, table: dict[str, object], catalogue: Catalogue) -> Suggestion:
    """The departments for what this message says, most likely first."""
    if parse is None:
        return Suggestion((), 0)
    groups = set(parse.values("age_group"))
    complaints = [*parse.values("symptom"), *parse.values("specialty")]
    if any(float(t) >= FEVER_FROM for t in parse.values("temperature")):
        complaints.append(FEVER)
    words = _words(table, "hints") + _words(table, "body_parts")
    by_complaint = [code for complaint in complaints for code in _codes_in(complaint, words)]
    child = "child" in groups
    first = _codes(table, "children") if child else []
    after = _codes(table, "elderly") if "elderly" in groups and not child else []
    bookable = {d.code: d for d in catalogue.departments if d.bookable}
    suggested = [bookable[c] for c in dict.fromkeys(first or by_complaint) if c in bookable]
    offered = [bookable[c] for c in dict.fromkeys([*first, *by_complaint, *after]) if c in bookable]
    return Suggestion(
        tuple(offered), len(suggested) or len(offered), child and bool(first), "elderly" in groups
    )


def answer(ctx: Context, turn: Turn, catalogue: Catalogue) -> list[Outbound]:
    found = suggest(turn.parse, ctx.triage, catalogue)
    hospital = turn.value("hospital")  # "市中医院看胃病挂哪个科": that hospital's only
    fitting = [d for d in found.departments if hospital in (None, d.hospital_code)]
    if not fitting:
        return [
            ctx.reply(ctx.say("triage.ask"), department_choices(ctx, catalogue, hospital=hospital))
        ]
    english = ctx.language == "en"
    choices = department_choices(ctx, catalogue, fitting)
    names = [department_name(ctx, d) for d in fitting if d in found.departments[: found.suggested]]
    named = ("、" if not english else ", ").join(names or [department_name(ctx, fitting[0])])
    text = ctx.say("triage.child" if found.child else "triage.suggest", departments=named)
    if found.elderly:
        text += "\n" + ctx.say("triage.elderly")
    return [ctx.reply(text, choices)]


def _words(table: dict[str, object], key: str) -> list[tuple[str, str]]:
    """(word, department code) pairs of one section of the table."""
    section = table.get(key) or {}
    if not isinstance(section, dict):
        return []
    return [
        (_fold(str(word)), str(code))
        for code, words in section.items()
        for word in words or []
        if str(word).strip()
    ]


def _codes(table: dict[str, object], key: str) -> list[str]:
    codes = table.get(key) or []
    return [str(code) for code in codes] if isinstance(codes, list) else []


def _codes_in(complaint: str, words: list[tuple[str, str]]) -> list[str]:
    """The departments of the hospital's words in one complaint, in the order they are
    written; a word inside a longer one that was also found does not count (头 in 头发)."""
    said = _fold(complaint)
    hits: list[tuple[int, int, str]] = []
    for word, code in words:
        start = said.find(word)
        while start >= 0:
            end = start + len(word)
            if _whole_words(said, start, end):
                hits.append((start, end, code))
            start = said.find(word, start + 1)
    kept = [
        (start, code)
        for start, end, code in hits
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in hits)
    ]
    return [code for _, code in sorted(kept)]


def _whole_words(text: str, start: int, end: int) -> bool:
    """ "ear" is a word of "ear ache" (and "migraine" of "migraines"), not of "heart"."""
    if end < len(text) and text[end] == "s":
        end += 1
    before = start > 0 and _LATIN.match(text[start - 1]) and _LATIN.match(text[start])
    after = end < len(text) and _LATIN.match(text[end]) and _LATIN.match(text[end - 1])
    return not before and not after


def _fold(words: str) -> str:
    """头疼 and 头痛 are the same complaint, and so are "toothache" and "tooth ache"."""
    folded = _GLUED_ACHE.sub(" ache", words.lower().replace("疼", "痛"))
    return " ".join(folded.split())
