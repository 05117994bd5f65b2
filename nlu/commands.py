"""Words that steer a conversation instead of answering it: stop, go back, which language, and
no more reminders (TD).

They are NLU data (data/nlu/commands.yml, Rasa lookup tables) and are read here whichever NLU
parses the messages, so a Rasa server in its place changes nothing of how a conversation stops.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlu.training_data import load_file

WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "nlu" / "commands.yml"
_CLOSING = "。.!！"
_PUNCTUATION = re.compile(r"[\s\W_]+")


@dataclass(frozen=True, slots=True)
class CommandWords:
    stop_booking: frozenset[str]
    stop_registering: frozenset[str]
    go_back: frozenset[str]
    english: tuple[str, ...]
    chinese: tuple[str, ...]
    quiet: dict[str, bool]  # TD / 退订: True; 订阅: False
    quiet_by_sms: dict[str, bool]  # and STOP / START, by SMS only
    language_request: re.Pattern[str]  # a whole message that only asks for a language


@cache
def command_words() -> CommandWords:
    lookups = load_file(WORDS_FILE).lookups

    def words(name: str) -> tuple[str, ...]:
        return tuple(word.lower() for word in lookups.get(name, []))

    def one_of(name: str) -> str:
        return "(?:" + "|".join(re.escape(word) for word in words(name)) + ")"

    chinese = (
        f"{one_of('language_ask_zh')}?你?{one_of('language_verb_zh')}?(?:简体)?"
        f"{one_of('language_name_zh')}{one_of('language_tail_zh')}*"
    )
    english = (
        "".join(
            f"(?:{one_of(f'language_{part}_en')} )?"
            for part in ("please", "ask", "switch", "to", "verb")
        )
        + f"{one_of('language_name_en')}(?: {one_of('language_tail_en')})?"
    )
    whole = "|".join(re.escape(_plain(phrase)) for phrase in words("language_request"))
    quiet = dict.fromkeys(words("quiet_on"), True) | dict.fromkeys(words("quiet_off"), False)
    by_sms = dict.fromkeys(words("quiet_on_by_sms"), True)
    by_sms |= dict.fromkeys(words("quiet_off_by_sms"), False)
    return CommandWords(
        frozenset(words("stop_booking")),
        frozenset(words("stop_registering")),
        frozenset(words("go_back")),
        words("language_en"),
        words("language_zh"),
        quiet,
        quiet | by_sms,
        re.compile(f"^(?:{chinese}|{english}|{whole})$"),
    )


def _plain(text: str) -> str:
    """Lower case, full-width letters as ASCII, punctuation as one space."""
    said = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCTUATION.sub(" ", said).split())


def stops_booking(text: str) -> bool:
    """The whole message asks to stop the booking under way (不挂了, "never mind")."""
    return text.strip().lower().rstrip(_CLOSING) in command_words().stop_booking


def stops_registering(text: str) -> bool:
    """The whole message asks to stop adding a patient (不注册了, "stop adding")."""
    said = " ".join(text.strip().lower().split()).rstrip(_CLOSING)
    return said in command_words().stop_registering


def goes_back(text: str) -> bool:
    """The whole message asks for the step before (返回, "go back")."""
    return text.strip().lower() in command_words().go_back


def asks_language(text: str) -> bool:
    """The whole message asks for a language, or to switch ("English please", "说中文",
    "切换到English", 切换语言), whether or not it names one."""
    said = _plain(text)
    request = command_words().language_request
    return bool(request.match(said) or request.match(said.replace(" ", "")))


def language_named(text: str) -> str | None:
    """The language a message names anywhere, "en" or "zh" (English when it names both), or
    None when it names neither."""
    lowered = text.lower()
    words = command_words()
    if any(word in lowered for word in words.english):
        return "en"
    if any(word in lowered for word in words.chinese):
        return "zh"
    return None


@dataclass(frozen=True, slots=True)
class QuietRequest:
    quiet: bool  # True: no more reminders; False: reminders again
    english: bool  # the word is English (a word of three or more Latin letters)


def asks_quiet(text: str, *, by_sms: bool) -> QuietRequest | None:
    """The whole message asks for no more reminders (TD, 退订) or for them again (订阅); STOP and
    START count only by SMS."""
    said = text.lower()
    words = command_words()
    quiet = (words.quiet_by_sms if by_sms else words.quiet).get(said)
    if quiet is None:
        return None
    return QuietRequest(quiet, english=len(said) >= 3 and said.isascii() and said.isalpha())
