"""Finding the hospital's names in a message: exact forms first, then homophones by pinyin, then
typos; doctors are resolved to work numbers, with candidates when several fit about equally."""

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from nlu.gazetteer import TITLES_ZH, Gazetteer, Term
from nlu.pinyin import sound_key

_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")
_LATIN_WORDS = re.compile(r"[a-z]+(?:[ '-][a-z]+)?")
_HAN = re.compile(r"[\u3400-\u9fff]")
_DR_PREFIX = re.compile(r"(?<![a-z])(?:dr|doctor|doc|prof|professor)\.?\s*([a-z]+)(?![a-z])")
_TITLE_AFTER = re.compile("|".join(TITLES_ZH))


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


def find_names(text: str, gazetteer: Gazetteer, taken: list[tuple[int, int]]) -> list[NameMatch]:
    """Names in normalised text, outside the spans already `taken` (numbers, dates)."""
    found: list[NameMatch] = []
    covered = list(taken)
    for match in _exact(text, gazetteer):
        if _free(match.start, match.end, covered):
            found.append(match)
            covered.append((match.start, match.end))
    for finder in (_by_sound, _surname_and_title, _latin_typos, _han_typos):
        for match in finder(text, gazetteer):
            if _free(match.start, match.end, covered):
                found.append(match)
                covered.append((match.start, match.end))
    return sorted(found, key=lambda m: m.start)


def _free(start: int, end: int, covered: list[tuple[int, int]]) -> bool:
    return all(end <= lo or start >= hi for lo, hi in covered)


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
    kept: list[NameMatch] = []
    for match in sorted(candidates, key=lambda m: (m.start - m.end, m.start)):
        if _free(match.start, match.end, [(k.start, k.end) for k in kept]):
            kept.append(match)
    return kept


def _by_sound(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    if not _HAN.search(text) or not gazetteer.sounds:
        return []
    keys = sound_key(text)
    if len(keys) != len(text):
        return []
    candidates: list[NameMatch] = []
    for start in range(len(text)):
        if not _HAN.match(text[start]):
            continue
        for size in gazetteer.sound_lengths:
            end = start + size
            terms = gazetteer.sounds.get(keys[start:end]) if end <= len(text) else None
            if not terms or not all(_HAN.match(char) for char in text[start:end]):
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
    """ "cardiolgy" -> Cardiology; only words of five letters or more, where typos are safe."""
    if not gazetteer.latin_names:
        return []
    found: list[NameMatch] = []
    for match in _LATIN_WORDS.finditer(text):
        word = match.group(0)
        if len(word) < 5:
            continue
        best = process.extractOne(
            word, gazetteer.latin_names.keys(), scorer=fuzz.ratio, score_cutoff=84
        )
        if best is not None:
            found.append(
                NameMatch(
                    match.start(),
                    match.end(),
                    tuple(gazetteer.latin_names[best[0]]),
                    0.9 * best[1] / 100,
                )
            )
    return found


def _han_typos(text: str, gazetteer: Gazetteer) -> list[NameMatch]:
    """ "心血管肉科" -> 心血管内科: one wrong character in a name of four or more."""
    if not gazetteer.han_names or len(text) > 200 or not _HAN.search(text):
        return []
    found: list[NameMatch] = []
    for name, terms in gazetteer.han_names.items():
        alignment = fuzz.partial_ratio_alignment(name, text, score_cutoff=75)
        if alignment is None or alignment.score >= 100:
            continue
        start, end = alignment.dest_start, alignment.dest_end
        if end - start >= len(name) - 1 and all(_HAN.match(c) for c in text[start:end]):
            found.append(NameMatch(start, end, tuple(terms), 0.8 * alignment.score / 100))
    return _longest_first(found)
