"""Words that steer a conversation instead of answering it: stop, go back, which language, and
no more reminders (TD).

They are NLU data (data/nlu/commands.yml, Rasa lookup tables) and are read here whichever NLU
parses the messages, so a Rasa server in its place changes nothing of how a conversation stops.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlu.training_data import load_file

WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "nlu" / "commands.yml"
_CLOSING = "。.!！"


@dataclass(frozen=True, slots=True)
class CommandWords:
    stop_booking: frozenset[str]
    stop_registering: frozenset[str]
    go_back: frozenset[str]
    english: tuple[str, ...]
    chinese: tuple[str, ...]
    quiet: dict[str, bool]  # TD / 退订: True; 订阅: False
    quiet_by_sms: dict[str, bool]  # and STOP / START, by SMS only


@cache
def command_words() -> CommandWords:
    lookups = load_file(WORDS_FILE).lookups

    def words(name: str) -> tuple[str, ...]:
        return tuple(word.lower() for word in lookups.get(name, []))

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
    )


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
