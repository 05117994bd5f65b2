"""Pinyin for matching names by sound: 张维 sounds like 张伟 and 张卫, 新内科 like 心内科.

Syllables are folded the way southern speakers and pinyin typists blur them (zh/z, ch/c, sh/s,
-ng/-n, l-/n-), so a near homophone matches as well as a true one."""

import os
from functools import lru_cache

# Readings are taken character by character (below), so pypinyin's phrase dictionary is not
# needed; skipping it saves about 0.3 s of start-up.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")

from pypinyin import lazy_pinyin


@lru_cache(maxsize=8192)
def _char_sound(char: str) -> str:
    sounds = lazy_pinyin(char)  # a character that is not Han comes back as it is
    return sounds[0] if sounds else char


def syllables(text: str) -> tuple[str, ...]:
    """One item per character: the pinyin of a Han character, the character itself otherwise.
    Character by character (each reading cached), not by phrase: the same rule for the names
    and for the messages, and a hundred times faster on a whole message."""
    return tuple(_char_sound(char) for char in text)


def fold(syllable: str) -> str:
    for blurred, plain in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(blurred):
            syllable = plain + syllable[2:]
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    if syllable.endswith("ng"):
        syllable = syllable[:-1]
    return syllable


def sound_key(text: str) -> tuple[str, ...]:
    return tuple(fold(item) for item in syllables(text))


def joined(text: str) -> str:
    """心内科 -> xinneike: what a patient types with a Latin keyboard."""
    return "".join(syllables(text))
