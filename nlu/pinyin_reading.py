"""Chinese typed in pinyin ("houtian xiawu", "wo yao guahao", "zhang wei yisheng") read as its
characters (后天下午, 我要挂号, zhang wei 医生): a patient without a Chinese keyboard means
what the characters say, and every later step (dates, the intent) then reads them as such.

The words read are the ones the NLU knows in characters: every run of two to four Han
characters of the training data outside names (a doctor's name in pinyin stays as typed, for
the name finder, which knows "zhang wei" is 张伟 or 张卫). A word is read only when it is
pinyin through and through, and only in a message whose Latin words are all pinyin: "women's
clinic" is English, not 我们."""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from nlu.pinyin import syllables
from nlu.text import HAN_CHARS, Normalised
from nlu.training_data import Example

_SYLLABLE = (
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|uai|uan|iao|ian|ai|ei|ao|ou|an|en|in|un|ui|ia|ie"
    r"|iu|ua|uo|ve|ue|er|a|o|e|i|u|v)"
)
_PINYIN_WORD = re.compile(rf"(?:{_SYLLABLE})+")
_LATIN_WORD = re.compile(r"[a-z]+")
_HAN_RUN = re.compile(f"[{HAN_CHARS}]{{2,}}")
_NOT_READ = ("doctor", "person_name")  # names stay as typed, for the name finders
_LONGEST = 4  # characters in a phrase read from pinyin
_MOST_WORDS = 4  # words in a doctor's name typed in pinyin ("ou yang na na")
_UNREAD = 3  # a word left as typed costs more than a phrase read


def _plain(char: str) -> str:
    """ò -> o, ü -> v: pinyin typed with tone marks reads as without them."""
    if char in "üǖǘǚǜ":
        return "v"
    return unicodedata.normalize("NFD", char)[0]


class PinyinReader:
    def __init__(self, examples: Iterable[Example], names: Iterable[str] = ()) -> None:
        """`names`: Latin names to leave as typed (doctors' "zhang wei", "zhangwei")."""
        counts: Counter[str] = Counter()
        words_marked: set[str] = set()
        for example in examples:
            text = example.text
            for mark in example.marks:
                if mark.entity in _NOT_READ:
                    text = text[: mark.start] + " " * (mark.end - mark.start) + text[mark.end :]
                else:
                    words_marked.add(text[mark.start : mark.end].lower())
            for run in _HAN_RUN.finditer(text.lower()):
                words = run.group(0)
                for size in range(2, _LONGEST + 1):
                    for start in range(len(words) - size + 1):
                        counts[words[start : start + size]] += 1
        self._phrases: dict[str, str] = {}
        for phrase, _ in counts.most_common():  # the commonest spelling of a sound wins
            self._phrases.setdefault("".join(syllables(phrase)), phrase)
        self._lengths = sorted({len(key) for key in self._phrases}, reverse=True)
        # Whole words, as the data marks them (后天, 上午, 心内科): read before any run of
        # characters that merely occurs (天上午 of 明天上午).
        self._words = frozenset(w for w in words_marked if _HAN_RUN.fullmatch(w))
        self._names = {" ".join(name.lower().split()) for name in names}

    def read(self, normalised: Normalised) -> Normalised:
        text = normalised.text
        if not _LATIN_WORD.search(text):
            return normalised
        letters = "".join(_plain(char) if ord(char) > 127 else char for char in text)
        words = [m.span() for m in _LATIN_WORD.finditer(letters)]
        if not all(_PINYIN_WORD.fullmatch(letters[s:e]) for s, e in words):
            return normalised
        replaced: list[tuple[str, list[tuple[int, int]]]] = []
        for run in _runs(text, words):
            for phrase, places in self._read_run(letters, run):
                replaced.append((phrase, _spans_of(phrase, places)))
        return _rewritten(normalised, replaced) if replaced else normalised

    def _read_run(self, letters: str, run: list[tuple[int, int]]) -> list[tuple[str, list[int]]]:
        """The phrases read in one run of words typed one after another, with the places of
        their letters. Across the whole run, so that "da hou tian shang wu" is 大后天 上午,
        not 大后 天上 and an unread "wu": the fewest phrases, a word left unread costing more
        than a phrase, and a doctor's name always left as typed."""
        places = [i for s, e in run for i in range(s, e)]
        typed = "".join(letters[s:e] for s, e in run)
        starts: dict[int, int] = {}  # a word's first letter in `typed` -> after its last
        position = 0
        for s, e in run:
            starts[position] = position + e - s
            position += e - s
        names = self._names_in(letters, run)
        # best[i]: (cost, phrases) for the first i letters; a phrase is (characters, start).
        best: list[tuple[float, list[tuple[str, int]]] | None] = [None] * (len(typed) + 1)
        best[0] = (0.0, [])
        for start in range(len(typed)):
            here = best[start]
            if here is None:
                continue
            cost, read = here
            steps: list[tuple[int, float, list[tuple[str, int]]]] = []
            if start in names:
                steps.append((names[start], cost, read))
            else:
                if start in starts:
                    steps.append((starts[start], cost + _UNREAD, read))
                for size in self._lengths:
                    if start + size > len(typed):
                        continue
                    phrase = self._phrases.get(typed[start : start + size])
                    if phrase is not None:
                        # Spaces the patient typed inside the phrase count against it a little:
                        # "xiazhouer shangwu" is 下周二 上午, not 下周 儿上午.
                        spaces = sum(1 for w in starts if start < w < start + size)
                        price = (0.5 if phrase in self._words else 1.0) + 0.25 * spaces
                        steps.append((start + size, cost + price, [*read, (phrase, start)]))
            for end, new_cost, new_read in steps:
                known = best[end]
                if known is None or new_cost < known[0]:
                    best[end] = (new_cost, new_read)
        final = best[len(typed)]
        if final is None:
            return []
        result = []
        for phrase, start in final[1]:
            size = len("".join(syllables(phrase)))
            result.append((phrase, places[start : start + size]))
        return result

    def _names_in(self, letters: str, run: list[tuple[int, int]]) -> dict[int, int]:
        """Doctors' names in the run, as (first letter, after the last) in its letters."""
        offsets = []
        position = 0
        for s, e in run:
            offsets.append(position)
            position += e - s
        found: dict[int, int] = {}
        for first in range(len(run)):
            for count in range(min(_MOST_WORDS, len(run) - first), 0, -1):
                group = [letters[s:e] for s, e in run[first : first + count]]
                if " ".join(group) in self._names or "".join(group) in self._names:
                    found[offsets[first]] = offsets[first] + sum(len(w) for w in group)
                    break
        return found


def _runs(text: str, words: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Words typed one after the other, parted by single spaces ("hou tian", not "hou, tian")."""
    runs: list[list[tuple[int, int]]] = []
    for word in words:
        if runs and text[runs[-1][-1][1] : word[0]] == " ":
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs


def _spans_of(read: str, places: list[int]) -> list[tuple[int, int]]:
    """For each character read, the first and last place in the text of the letters of its
    syllable ("houtian": 后 from h…u, 天 from t…n)."""
    spans = []
    position = 0
    for sound in syllables(read):
        spans.append((places[position], places[position + len(sound) - 1]))
        position += len(sound)
    return spans


def _rewritten(
    normalised: Normalised, replaced: list[tuple[str, list[tuple[int, int]]]]
) -> Normalised:
    """The text with the letters of each reading replaced by its characters; each character
    maps back to the letters of its syllable, so spans still point into the patient's text."""
    text, origin = normalised.text, normalised.origin
    ends = normalised.ends or origin
    cased = normalised.cased if len(normalised.cased) == len(text) else text
    pieces: list[str] = []
    cased_pieces: list[str] = []
    starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for read, spans in replaced:
        start, end = spans[0][0], spans[-1][1] + 1
        pieces += [text[position:start], read]
        cased_pieces += [cased[position:start], read]
        starts += [*origin[position:start], *(origin[first] for first, _ in spans)]
        new_ends += [*ends[position:start], *(ends[last] for _, last in spans)]
        position = end
    pieces.append(text[position:])
    cased_pieces.append(cased[position:])
    starts.extend(origin[position:])
    new_ends.extend(ends[position:])
    return Normalised(
        "".join(pieces),
        tuple(starts),
        normalised.original_length,
        "".join(cased_pieces),
        tuple(new_ends),
    )
