"""Emergency signs come first: chest pain, breathing difficulty, unconsciousness, seizures, stroke
signs, heavy bleeding. A plain list, checked before anything else and over the whole message, so
that "胸口剧痛，帮我挂个心内科" is an emergency whatever else it asks for."""

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from nlu.text import to_simplified

# Signs beyond the hospital's own list (the catalogue's triage.emergency), in the words
# patients use. Kept short and specific: a false alarm costs a sentence, a miss costs more.
BUILT_IN_SIGNS = (
    # chest pain / heart attack
    "胸痛", "胸口痛", "胸口疼", "胸口剧痛", "胸口很痛", "胸口好痛", "胸口压着疼", "心口疼得厉害",
    "心绞痛", "心梗", "心肌梗死", "心脏病发作", "心脏骤停", "心脏疼", "心脏痛",
    "chest pain", "chest pains", "chest hurts", "heart attack", "crushing chest",
    # breathing
    "呼吸困难", "喘不上气", "喘不过气", "上不来气", "透不过气", "无法呼吸", "不能呼吸", "没有呼吸",
    "憋气憋得", "窒息", "噎住了", "喘不动气", "嘴唇发紫", "嘴唇发青", "脸色发紫",
    "can't breathe", "cannot breathe", "can not breathe", "cant breathe", "trouble breathing",
    "difficulty breathing", "struggling to breathe", "not breathing", "choking", "short of breath",
    "turning blue", "blue lips", "lips are blue",
    # consciousness
    "昏迷", "昏倒", "晕倒", "晕过去", "意识不清", "不省人事", "叫不醒", "没有意识", "休克",
    "unconscious", "passed out", "fainted", "won't wake up", "unresponsive",
    # seizures (a child's with a fever too: 高热惊厥, 抽风 in everyday words)
    "抽搐", "癫痫发作", "口吐白沫", "惊厥", "抽风", "翻白眼", "烧抽了", "烧得抽", "seizure",
    "seizures", "convulsion",
    "convulsions", "having a fit", "had a fit",
    # stroke
    "中风", "脑卒中", "口角歪斜", "嘴歪眼斜", "嘴歪", "半身不遂", "半边身子不能动", "说话不清",
    "突然说不出话", "说话说不清", "说不清话", "口齿不清", "一边手动不了", "半边身子动不了",
    "stroke", "face drooping", "slurred speech", "one side numb",
    # bleeding
    "大出血", "出血不止", "血流不止", "止不住血", "大量出血", "吐血", "咯血不止",
    "severe bleeding", "heavy bleeding", "bleeding heavily", "won't stop bleeding",
    "bleeding a lot", "vomiting blood",
    # poisoning, self-harm
    "中毒", "喝了农药", "吃了很多安眠药", "想自杀", "自杀", "overdose", "poisoned", "suicide",
    "kill myself",
)  # fmt: skip

_NEGATIONS_ZH = ("不", "没", "没有", "无", "否认", "并没有")
# "no chest pain", "don't have any chest pain"; but "not only chest pain" is not a denial.
_NEGATIONS_EN = re.compile(
    r"(?:\bno|\bnot|\bwithout|\bnever had|\b(?:don't|doesn't|didn't) have|\bha(?:ve|s)n't had"
    r"|\bno signs? of|\bdenies)\s+(?:any\s+)?$"
)
# Signs inside ordinary words: 没有意识到 is "did not realise".
_NOT_A_SIGN_BEFORE = {"没有意识": ("到",), "意识不清": ("楚",)}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Whatever the message's length, the scan stays bounded: a sign after this many characters
# (of a message nobody types in a chat) is not looked for.
_SCANNED_CHARS = 100_000


class EmergencySigns:
    def __init__(self, signs: Iterable[str]) -> None:
        self.signs = tuple(sorted({_fold(sign) for sign in signs if sign.strip()}))
        # One trie-shaped pattern: each position is tried once, not once per sign.
        self._pattern = re.compile(_trie_pattern(self.signs))

    def find(self, text: str) -> str | None:
        """The first sign in the text that is not negated ("没有胸痛", "no chest pain")."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[str | None, bool]:
        """(the first sign not negated, whether a negated sign was seen)."""
        folded = _fold(text)
        negated = False
        for match in self._pattern.finditer(folded):
            start, end, sign = match.start(), match.end(), match.group(0)
            if not _whole_words(folded, start, end) or folded.startswith(
                _NOT_A_SIGN_BEFORE.get(sign, ()), end
            ):
                continue
            before = folded[max(0, start - 24) : start]
            if before.endswith(_NEGATIONS_ZH) or _NEGATIONS_EN.search(before):
                negated = True
                continue
            return sign, negated
        return None, negated


def _fold(text: str) -> str:
    """The same folding as the rest of the NLU (full-width, case, traditional characters,
    zero-width marks), without keeping offsets: only whether a sign is there matters."""
    folded = unicodedata.normalize("NFKC", text[:_SCANNED_CHARS])[:_SCANNED_CHARS]
    folded = folded.lower().translate(_ZERO_WIDTH)
    return " ".join(to_simplified(folded).replace("’", "'").split())


def _whole_words(text: str, start: int, end: int) -> bool:
    """ "stroke" is a sign; the "stroke" in "heatstrokes" is not."""
    latin_start = text[start].isascii() and text[start].isalpha()
    latin_end = text[end - 1].isascii() and text[end - 1].isalpha()
    if latin_start and start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        return False
    return not (latin_end and end < len(text) and text[end].isascii() and text[end].isalpha())


def _trie_pattern(terms: Iterable[str]) -> str:
    trie: dict[str, dict[str, Any]] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie) or "(?!)"


def _node_pattern(node: dict[str, dict[str, Any]]) -> str:
    branches = [re.escape(char) + _node_pattern(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a sign ends here, and a longer one may go on: prefer the longer
        return "(?:" + body + ")?" if len(branches) == 1 else body + "?"
    return body
