"""Complaints in everyday words: where it hurts and how it feels (胃不舒服, 膝盖有点疼, 老胃病,
"my stomach hurts", "sore knee", "pain in my lower back").

Patients name a body part and a feeling in endless combinations, so listing the combinations
(as the symptom lookup does) can never catch up. The words are data instead (the `body_part`
and `feeling` lookups in data/nlu, and the body parts of the catalogue's triage table), joined
here by one small rule: the part, at most a few little words, then the feeling; in English the
feeling may also come first ("sore knee", "pain in my knee")."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nlu.text import has_han

# What may stand between a body part and its feeling: 胃[有点]不舒服, 膝盖[一直]疼,
# 头[这两天老是]疼. Grammar, not vocabulary, so it lives with the rule.
_BETWEEN_ZH = (
    "有点儿", "有点", "有些", "一直", "老是", "总是", "总", "经常", "常常", "时常", "偶尔",
    "时不时", "特别", "非常", "很", "好", "太", "越来越", "还", "又", "也", "都", "突然",
    "最近", "这两天", "这几天", "一阵一阵", "一阵阵", "阵阵", "隐隐", "这里", "这边", "那里",
    "那边", "里面", "里", "上", "左边", "右边", "两边", "两侧", "左", "右", "有时候", "有时",
    "会", "感觉", "觉得", "就", "开始", "老", "挺", "蛮", "真", "超", "巨", "比较", "的", "地",
    "了", "一点", "部",
)  # fmt: skip
_BETWEEN_EN = (
    "my", "his", "her", "their", "our", "the", "a", "an", "is", "are", "was", "were", "has",
    "have", "had", "been", "feels", "feel", "feeling", "felt", "really", "very", "so", "bit",
    "little", "kind", "of", "in", "on", "with", "always", "keeps", "still", "quite", "terribly",
    "badly", "lot", "awful", "getting", "constantly", "left", "right", "both", "lower", "upper",
    "sometimes", "often",
)  # fmt: skip
_MOST_BETWEEN = 3
# A part of two characters or more may be told apart from its feeling by a whole phrase in one
# clause: 膝盖[上下楼梯就]疼, 肚子[从昨天晚上开始一阵一阵地]疼. One character (手, 头) may not:
# 手机坏了很难受 is no complaint about a hand.
_LONGEST_GAP = 14
_NO_PAUSE = r"[^\s,，.。!！?？;；、:：~～…]"
_DENIED = re.compile("[不没无未别]")


def _either(words: Iterable[str]) -> str:
    """An alternation that tries the longest word first, as a person reads."""
    ordered = sorted(set(words), key=lambda word: (-len(word), word))
    return "|".join(re.escape(word) for word in ordered) or "(?!)"


@dataclass(frozen=True, slots=True)
class Complaint:
    start: int
    end: int
    value: str  # as written, or the part and its feeling when something stands between them
    # The part and the feeling alone (胸口痛 of 胸口突然剧痛, "chest pain" of "pain in my
    # chest"): what an emergency sign is looked for in.
    core: str


class ComplaintFinder:
    def __init__(
        self, body_parts: Iterable[str], feelings: Iterable[str], injuries: Iterable[str] = ()
    ) -> None:
        """`injuries`: how a part was hurt, said before it (闪了腰, "twisted my ankle")."""
        parts = {" ".join(p.lower().split()) for p in body_parts if p.strip()}
        feels = {" ".join(f.lower().split()) for f in feelings if f.strip()}
        hurt = {" ".join(i.lower().split()) for i in injuries if i.strip()}
        self._parts = frozenset(parts)
        self._feelings = frozenset(feels)
        part_zh, part_en = _split(parts, "part")
        feel_zh, feel_en = _split(feels, "feel")
        hurt_zh, hurt_en = _split(hurt, "feel")
        between_zh = rf"(?:{_either(_BETWEEN_ZH)}){{0,{_MOST_BETWEEN}}}"
        between_en = rf"(?:\s+(?:{_either(_BETWEEN_EN)})){{0,{_MOST_BETWEEN}}}\s+"
        self._patterns = (
            re.compile(rf"{part_zh}{between_zh}{feel_zh}"),
            re.compile(rf"{hurt_zh}(?:了|到|伤了|伤){part_zh}"),
            re.compile(rf"(?<![a-z]){hurt_en}\s+(?:my|his|her|their|the)\s+{part_en}(?![a-z])"),
            re.compile(rf"(?<![a-z]){part_en}(?:'s)?{between_en}{feel_en}(?![a-z])"),
            re.compile(rf"(?<![a-z]){feel_en}{between_en}{part_en}(?![a-z])"),
            # "stomachache", "my tummy-ache": the feeling glued to the part.
            re.compile(rf"(?<![a-z]){part_en}[- ]?(?P<feel>ache|aches)(?![a-z])"),
        )
        longer = _either(p for p in parts if has_han(p) and len(p) >= 2)
        self._apart = re.compile(
            rf"(?P<part>{longer})(?P<gap>{_NO_PAUSE}{{1,{_LONGEST_GAP}}}?){feel_zh}"
        )
        self._any_part = re.compile(part_zh)

    def is_part_or_feeling(self, words: str) -> bool:
        """ "eyes" (a department's alias), "itchy" (a symptom on its own): each only half of a
        complaint such as "itchy eyes"."""
        return words.strip() in self._parts or words.strip() in self._feelings

    def find(self, text: str, free: Callable[[int, int], bool]) -> list[Complaint]:
        """Each complaint in normalised text, where `free` says a span is not already another
        entity (a department, a date). When something else stands between a part and its
        feeling (肚子从昨天晚上开始疼), the span is the part alone, and 昨天 stays a date."""
        found: list[Complaint] = []

        def unclaimed(start: int, end: int) -> bool:
            return all(end <= c.start or start >= c.end for c in found)

        for pattern in self._patterns:
            position = 0
            while (match := pattern.search(text, position)) is not None:
                start, end = match.span()
                if free(start, end) and unclaimed(start, end):
                    found.append(Complaint(start, end, text[start:end], _core(match)))
                    position = end
                else:  # "今天眼科眼睛疼": a later start may still be a complaint
                    position = start + 1
        for match in self._apart.finditer(text):
            start, end = match.span()
            part = match.span("part")
            gap = match.group("gap")
            if not unclaimed(start, end) or self._any_part.search(gap) or _DENIED.search(gap):
                continue  # 胸口不疼 is no complaint of 胸口疼
            if free(start, end):
                found.append(Complaint(start, end, text[start:end], _core(match)))
            elif free(*part):
                found.append(Complaint(*part, _core(match), _core(match)))
        return sorted(found, key=lambda c: c.start)


def _split(words: set[str], group: str) -> tuple[str, str]:
    """The Chinese and the Latin words, each as a named group."""
    han = _either(w for w in words if has_han(w))
    latin = _either(w for w in words if not has_han(w))
    return rf"(?P<{group}>{han})", rf"(?P<{group}>{latin})"


def _core(match: re.Match[str]) -> str:
    part, feel = match.group("part"), match.group("feel")
    return f"{part} {feel}" if part.isascii() else part + feel
