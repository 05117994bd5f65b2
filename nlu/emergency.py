"""Emergency signs come first: chest pain, breathing difficulty, unconsciousness, seizures, stroke
signs, heavy bleeding. A plain list, checked before anything else and over the whole message, so
that "胸口剧痛，帮我挂个心内科" is an emergency whatever else it asks for."""

import re
import unicodedata
from collections.abc import Iterable

# Signs beyond the hospital's own list (the catalogue's triage.emergency), in the words
# patients use. Kept short and specific: a false alarm costs a sentence, a miss costs more.
BUILT_IN_SIGNS = (
    # chest pain / heart attack
    "胸痛", "胸口痛", "胸口疼", "胸口剧痛", "胸口很痛", "胸口好痛", "胸口压着疼", "心口疼得厉害",
    "心绞痛", "心梗", "心肌梗死", "心脏病发作", "心脏骤停",
    "chest pain", "chest pains", "chest hurts", "heart attack", "crushing chest",
    # breathing
    "呼吸困难", "喘不上气", "喘不过气", "上不来气", "透不过气", "无法呼吸", "不能呼吸", "没有呼吸",
    "憋气憋得", "窒息", "噎住了",
    "can't breathe", "cannot breathe", "can not breathe", "cant breathe", "trouble breathing",
    "difficulty breathing", "struggling to breathe", "not breathing", "choking", "short of breath",
    # consciousness
    "昏迷", "昏倒", "晕倒", "晕过去", "意识不清", "不省人事", "叫不醒", "没有意识", "休克",
    "unconscious", "passed out", "fainted", "won't wake up", "not responding", "unresponsive",
    # seizures
    "抽搐", "癫痫发作", "口吐白沫", "seizure", "seizures", "convulsion", "convulsions",
    # stroke
    "中风", "脑卒中", "口角歪斜", "嘴歪眼斜", "半身不遂", "半边身子不能动", "说话不清",
    "突然说不出话",
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
_NEGATIONS_EN = re.compile(r"(?:\bno|\bnot|\bwithout|\bnever|n't)(?:\s+\w+)?\s*$")


class EmergencySigns:
    def __init__(self, signs: Iterable[str]) -> None:
        terms = sorted({_fold(sign) for sign in signs if sign.strip()}, key=len, reverse=True)
        self._pattern = re.compile("|".join(_term_pattern(term) for term in terms))

    def find(self, text: str) -> str | None:
        """The first sign in the text that is not negated ("没有胸痛", "no chest pain")."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[str | None, bool]:
        """(the first sign not negated, whether a negated sign was seen)."""
        folded = _fold(text)
        negated = False
        for match in self._pattern.finditer(folded):
            before = folded[max(0, match.start() - 12) : match.start()]
            if before.endswith(_NEGATIONS_ZH) or _NEGATIONS_EN.search(before):
                negated = True
                continue
            return match.group(0), negated
        return None, negated


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().replace("’", "'").split())


def _term_pattern(term: str) -> str:
    escaped = re.escape(term)
    if term[0].isascii() and term[0].isalnum():
        escaped = r"(?<![a-z])" + escaped
    if term[-1].isascii() and term[-1].isalnum():
        escaped += r"(?![a-z])"
    return escaped
