"""While the bot waits for a field (a name, an ID number, a phone number, a code, the text of a
complaint), what the patient types is that field. 李秀英 is a name, not a request for English,
and 刘中文 is not a request for Chinese: only an explicit request ("English please", "说中文",
"我要退号") changes the language or the task, and emergency signs still come first.
"""

from __future__ import annotations

import re
import unicodedata

from bot.dialogue.state import DialogueState
from bot.dialogue.tasks import BookTask, ComplaintTask, RegisterTask
from nlu.commands import asks_language
from nlu.result import Parse

# The tasks the dialogue can carry out (its menu): what a patient may want instead of answering.
TASKS = (
    "book",
    "my_appointments",
    "cancel",
    "reschedule",
    "query_schedule",
    "triage",
    "register",
    "complaint",
    "complaint_status",
    "help",
)
# A task this sure, in a message that is not a plausible answer, is an explicit request.
SURE_OF_TASK = 0.8
# An emergency this sure was found by the signs scanner (胸痛, chest pain), not guessed by the
# classifier from a name such as "Kathleen Sharp".
SIGN_FOUND = 0.99

# Words no name is made of: the menu's tasks, and the little words of a sentence.
_NOT_IN_NAMES = re.compile(
    r"预约|挂号|退号|退掉|改约|转号|取消|投诉|查询|帮助|菜单|出诊|医生|科室|身份证|手机|验证码"
    r"|[我你您吗呢吧啊呀嘛么了的]"
)
_HAN_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0002ffff]{2,5}$")
_HAN_MINORITY_NAME = re.compile(r"^[\u3400-\u9fff]{1,10}(?:[·•.][\u3400-\u9fff]{1,10}){1,3}$")
_LATIN_NAME = re.compile(r"^[a-z][a-z'\-]*(?: [a-z][a-z'\-]*){0,4}$")
_SENTENCE_WORDS = """
    book booking bookings appointment appointments my cancel change reschedule help menu
    doctor doctors department register complaint complain status stop back quit please
    want need see show check who which what when where how is are the a an i me to for of
    in on with today tomorrow morning afternoon evening yes no ok okay hi hello thanks bye
"""
_NOT_LATIN_NAMES = frozenset(_SENTENCE_WORDS.split())


def awaited(state: DialogueState) -> str | None:
    """The field the bot waits for: name, id_number, phone, code or complaint_text; None
    when it waits for nothing typed in particular (a choice, a new request)."""
    task = state.current
    if isinstance(task, RegisterTask) or (isinstance(task, BookTask) and task.registering):
        answers = task.registration
        if answers.code_for:
            return "code"
        return next(iter(answers.missing()), None)
    if isinstance(task, ComplaintTask) and task.category is not None:
        return "complaint_text"
    return None


def asks_for_language(field: str, text: str, parse: Parse | None) -> bool:
    """An explicit request for the other language while the bot waits for `field`: the whole
    message asks for a language ("English please", "说中文", "切换到English"), or the NLU is
    sure it does and the message cannot be an answer ("my mum can't read English, switch to
    Chinese for her"; not "Elaine English", not 刘中文)."""
    if asks_language(text):
        return True
    return (
        field != "complaint_text"
        and parse is not None
        and parse.intent == "switch_language"
        and parse.confidence >= SURE_OF_TASK
        and not plausible(field, text)
    )


def plausible(field: str, text: str) -> bool:
    """Whether the message can be read as an answer to the field at all."""
    said = unicodedata.normalize("NFKC", text).strip()
    if field in ("id_number", "phone", "code"):
        return sum(ch.isdigit() for ch in said) >= (6 if field == "code" else 7)
    if field == "name":
        return plausible_name(said)
    return bool(said)


def plausible_name(text: str) -> bool:
    """A personal name as written on an ID card: 李秀英, 欧阳娜娜, 买买提·艾力, Li Xiuying,
    Janet Lang. Not 我的预约, not "my bookings"."""
    name = " ".join(text.split())
    if _HAN_NAME.match(name) or _HAN_MINORITY_NAME.match(name):
        return not _NOT_IN_NAMES.search(name)
    latin = name.lower()
    if _LATIN_NAME.match(latin):
        return not any(word in _NOT_LATIN_NAMES for word in latin.split())
    return False


def leaves(field: str, text: str, parse: Parse | None) -> bool:
    """An explicit request for another task, made while the bot waits for `field`: the NLU
    is sure of a task and the message cannot be an answer."""
    if parse is None or field == "complaint_text":
        return False
    return parse.intent in TASKS and parse.confidence >= SURE_OF_TASK and not plausible(field, text)
