"""Finding the hospital's names in a message: exact forms first, then homophones by pinyin, then
typos; doctors are resolved to work numbers, with candidates when several fit about equally."""

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from nlu.gazetteer import TITLES_ZH, Gazetteer, Term
from nlu.pinyin import sound_key
from nlu.text import has_han, is_han

_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")
_LATIN_WORD = re.compile(r"[a-z]+")
_DR_PREFIX = re.compile(r"(?<![a-z])(?:professor|doctor|prof|doc|dr)\.?\s*([a-z]+)(?![a-z])")
_TITLE_AFTER = re.compile("|".join(TITLES_ZH))
_BLANK = "\x00"  # matches no name, and is neither a letter nor a Han character


@dataclass(frozen=True, slots=True)
class NameMatch:
    start: int
    end: int
    terms: tuple[Term, ...]
    confidence: float
    # A doctor named by surname and title only ("张主任", "Dr. Zhang").
    surname_only: bool = False


def _boundary_ok(text: str, start: int, end: int) -> bool:
    if _LATIN_OR_DIGIT.match(text[start]) and start > 0 and _LATIN_OR_DIGIT.match(text[start - 1]):
        return False
    return not (
        _LATIN_OR_DIGIT.match(text[end - 1])
        and end < len(text)
        and _LATIN_OR_DIGIT.match(text[end])
    )


class Coverage:
    """Which characters of the text are already claimed: linear in the text, however many
    names a long message repeats."""

    def __init__(self, length: int, taken: Iterable[tuple[int, int]] = ()) -> None:
        self._claimed = bytearray(length)
        for start, end in taken:
            self.claim(start, end)

    def free(self, start: int, end: int) -> bool:
        return not any(self._claimed[start:end])

    def claim(self, start: int, end: int) -> None:
        self._claimed[start:end] = b"\x01" * (end - start)


def find_names(text: str, gazetteer: Gazetteer, taken: list[tuple[int, int]]) -> list[NameMatch]:
    """Names in normalised text, outside the spans already `taken` (numbers, dates)."""
    found: list[NameMatch] = []
    coverage = Coverage(len(text), taken)
    # Taken spans are blanked first: a name overlapping one ("孩子发烧" when 孩子 is the
    # patient) would otherwise hide a shorter name beside it ("发烧").
    blanked = list(text)
    for start, end in taken:
        blanked[start:end] = _BLANK * (end - start)
    searched = "".join(blanked)
    for finder in (_exact, _by_sound, _surname_and_title, _latin_typos, _han_typos):
        for match in finder(searched, gazetteer):
            if coverage.free(match.start, match.end):
                found.append(match)
                coverage.claim(match.start, match.end)
    return sorted(found, key=lambda m: m.start)


def _exact(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    candidates: list[NameMatch] = []
    length = len(text)
    for start in range(length):
        if text[start] == " ":
            continue
        for size in gazetteer.exact_lengths:
            end = start + size
            if end > length:
                continue
            terms = gazetteer.exact.get(text[start:end])
            if terms is None:
                continue
            if end < length and text[end] == "s" and text[start:end].isascii():
                end_plural = end + 1  # "headaches", "cataracts"
                if _boundary_ok(text, start, end_plural):
                    end = end_plural
            if _boundary_ok(text, start, end):
                candidates.append(NameMatch(start, end, tuple(terms), 1.0))
                break
    return _longest_first(candidates)


def _longest_first(candidates: list[NameMatch]) -> list[NameMatch]:
    if not candidates:
        return []
    kept: list[NameMatch] = []
    coverage = Coverage(max(match.end for match in candidates))
    for match in sorted(candidates, key=lambda m: (m.start - m.end, m.start)):
        if coverage.free(match.start, match.end):
            kept.append(match)
            coverage.claim(match.start, match.end)
    return kept


def _by_sound(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    if not has_han(text) or not gazetteer.sounds:
        return []
    keys = sound_key(text)
    if len(keys) != len(text):
        return []
    candidates: list[NameMatch] = []
    for start in range(len(text)):
        if not is_han(text[start]):
            continue
        for size in gazetteer.sound_lengths:
            end = start + size
            terms = gazetteer.sounds.get(keys[start:end]) if end <= len(text) else None
            if not terms or not all(is_han(char) for char in text[start:end]):
                continue
            kept = tuple(term for term in terms if _sound_plausible(term, text, start, end))
            if kept:
                candidates.append(NameMatch(start, end, kept, 0.85))
                break
    return _longest_first(candidates)


def _sound_plausible(term: Term, text: str, start: int, end: int) -> bool:
    """A doctor's name by sound needs the right surname or a title after it: 孙丽 sounds like
    顺利 ("it went smoothly"), which is not a doctor."""
    if term.entity != "doctor":
        return True
    return text[start] == term.surface[0] or bool(_TITLE_AFTER.match(text, end))


def _surname_and_title(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    found: list[NameMatch] = []
    for start, char in enumerate(text):
        doctors = gazetteer.surnames.get(char)
        if doctors and _TITLE_AFTER.match(text, start + 1):
            terms = tuple(Term("doctor", d.work_no, char) for d in doctors)
            found.append(NameMatch(start, start + 1, terms, 0.7, surname_only=True))
    for match in _DR_PREFIX.finditer(text):
        doctors = gazetteer.surnames.get(match.group(1))
        if doctors:
            terms = tuple(Term("doctor", d.work_no, match.group(1)) for d in doctors)
            found.append(NameMatch(match.start(1), match.end(1), terms, 0.7, surname_only=True))
    return found


def _latin_typos(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    """ "cardiolgy" -> Cardiology, "genral surgery" -> General Surgery: single words and pairs
    of words, five letters or more, where typos are safe."""
    if not gazetteer.latin_names:
        return []
    words = [match.span() for match in _LATIN_WORD.finditer(text)]
    spans = [span for span in words if span[1] - span[0] >= 5]
    spans += [
        (first[0], second[1])
        for first, second in itertools.pairwise(words)
        if second[0] == first[1] + 1
    ]
    found: list[NameMatch] = []
    for start, end in spans:
        best = process.extractOne(
            text[start:end], gazetteer.latin_names.keys(), scorer=fuzz.ratio, score_cutoff=84
        )
        if best is not None:
            terms = tuple(gazetteer.latin_names[best[0]])
            found.append(NameMatch(start, end, terms, 0.9 * best[1] / 100))
    return _longest_first(found)


def _han_typos(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    """ "心血管肉科" -> 心血管内科: one wrong or missing character inside a name of four or more;
    the first and last characters must be right, so that 皮肤病吗 is not 皮肤病科."""
    if not gazetteer.han_names or len(text) > 200 or not has_han(text):
        return []
    found: list[NameMatch] = []
    for name, terms in gazetteer.han_names.items():
        alignment = fuzz.partial_ratio_alignment(name, text, score_cutoff=70)
        if alignment is None or alignment.score >= 100:
            continue
        for start in range(max(0, alignment.dest_start - 1), alignment.dest_start + 2):
            for size in (len(name), len(name) - 1):
                window = text[start : start + size]
                if (
                    len(window) == size
                    and window[0] == name[0]
                    and window[-1] == name[-1]
                    and Levenshtein.distance(window, name) == 1
                    and all(is_han(char) for char in window)
                ):
                    found.append(NameMatch(start, start + size, tuple(terms), 0.75))
    return _longest_first(found)
