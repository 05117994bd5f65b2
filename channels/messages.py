"""The neutral messages every channel translates to and from: what a patient sent (`Inbound`)
and what the bot answers (`Outbound`: a text and the choices offered with it).

Channels with buttons (Telegram, the web chat) show choices as buttons; channels without them
(SMS, the terminal, later the phone) show them as numbered lines, and a reply of "2" picks the
second. Texts come ready-made from the dialogue, in the patient's language: nothing here says
anything to a patient by itself.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

_CHINESE_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CHINESE_NUMBERS |= {"六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# "2", "2.", "（2）", "第2个", "选2", "二": a number and nothing else that means something.
_NUMBERED_REPLY = re.compile(
    r"^(?:选|选择|第|no\.?|number|#)?\s*[(（]?\s*(\d{1,2}|[一二两三四五六七八九十])\s*[)）]?\s*"
    r"(?:个|项|号|\.|。)?$"
)


@dataclass(frozen=True, slots=True)
class Choice:
    key: str  # what the dialogue gets back when it is picked, e.g. "doctor:00868"
    label: str  # what the patient sees, e.g. "张伟 主任医师"


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a patient: typed text, or the key of a choice pressed."""

    channel: str  # "web", "telegram", "sms", "console"
    user_id: str  # the channel's own id of the person (chat id, phone number, session id)
    received_at: datetime
    text: str | None = None
    choice: str | None = None
    # The channel's id of this message: the same message delivered twice is handled once.
    message_id: str | None = None
    language_hint: str | None = None  # e.g. Telegram's language_code
    # The network address the message came from, where the channel knows it (the web chat):
    # complaints are capped per address too. Never logged or stored in clear.
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    choices: tuple[Choice, ...] = field(default=())
    # A reply given before to this same message (delivered again, e.g. after a restart): a
    # channel that pushes its replies (Telegram, SMS) sent it then and does not send it again;
    # the web chat, whose replies are the HTTP response, shows it again. Not part of what the
    # reply is: the same reply, given again, is equal to itself.
    repeat: bool = field(default=False, compare=False)


def answered_before(replies: list[Outbound]) -> bool:
    """Whether these are the replies of a message handled before: a pushing channel sent them
    then, and sends nothing now."""
    return bool(replies) and all(reply.repeat for reply in replies)


def numbered(message: Outbound) -> str:
    """The message for a channel without buttons: its text, then one numbered line per choice."""
    if not message.choices:
        return message.text
    lines = [f"{number}. {choice.label}" for number, choice in enumerate(message.choices, 1)]
    return "\n".join([message.text, *lines])


def picked(reply: str, offered: tuple[Choice, ...]) -> Choice | None:
    """The choice a numbered reply picks ("2", "２", "第2个", "二"), or None when the reply is
    not a number in range (then it is text for the language understanding)."""
    folded = unicodedata.normalize("NFKC", reply).strip().lower()
    match = _NUMBERED_REPLY.match(folded)
    if match is None:
        return None
    token = match.group(1)
    number = int(token) if token.isdigit() else _CHINESE_NUMBERS[token]
    return offered[number - 1] if 1 <= number <= len(offered) else None
