"""What a received mail's headers say: who to answer, about what, which mail it is, and
whether a machine sent it (then nobody is answered: two auto-responders would answer each
other for ever, RFC 3834)."""

from __future__ import annotations

import re
from email.errors import MessageError
from email.headerregistry import AddressHeader
from email.message import EmailMessage

_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\".]+")
_MACHINES = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
_BULK = {"bulk", "junk", "list", "auto_reply"}
# Headers only machines set: auto-responders, mailing lists and newsletters.
_MACHINE_HEADERS = ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe")
_LONGEST_ADDRESS = 254
_LONGEST_SUBJECT = 200
_LONGEST_ID = 250
_REMEMBERED_REFERENCES = 10


def address(raw: str | None) -> str | None:
    """The address written one way (lower case, as every provider patients use reads it), or
    None when it is not one that can be answered."""
    if not raw:
        return None
    written = raw.strip().strip("<>").lower()
    if len(written) > _LONGEST_ADDRESS or not _ADDRESS.fullmatch(written):
        return None
    return written


def sender_of(message: EmailMessage, envelope_sender: str) -> str | None:
    """The From address; the SMTP envelope's sender when From has none."""
    return address(_from_header(message)) or address(envelope_sender)


def automatic(message: EmailMessage, envelope_sender: str, sender: str) -> bool:
    """Sent by a machine: a bounce (no envelope sender), an auto-reply, a list or bulk mail."""
    if not envelope_sender or sender.split("@")[0] in _MACHINES:
        return True
    if not _text(message, "Auto-Submitted", "no").lower().startswith("no"):
        return True
    if _text(message, "Precedence").lower() in _BULK:
        return True
    return any(name in message for name in _MACHINE_HEADERS)


def subject_of(message: EmailMessage) -> str:
    raw = next((value for name, value in message.raw_items() if name.lower() == "subject"), "")
    # A subject of raw 8-bit bytes is kept as surrogates; the parsed header would garble it.
    subject = _recovered(raw) if _has_raw_bytes(raw) else _text(message, "Subject")
    return " ".join(subject.split())[:_LONGEST_SUBJECT]


def message_id_of(message: EmailMessage) -> str | None:
    written = " ".join(_text(message, "Message-ID").split())
    return written[:_LONGEST_ID] or None


def references_of(message: EmailMessage, message_id: str | None) -> tuple[str, ...]:
    """The References of a reply to this mail: its own, the last few kept, and its id."""
    earlier = _text(message, "References").split()[-_REMEMBERED_REFERENCES:]
    return (*earlier, message_id) if message_id else tuple(earlier)


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def _recovered(text: str) -> str:
    """Text whose raw 8-bit bytes (old Chinese mail programs send GBK headers unencoded) the
    parser kept as surrogates, read as UTF-8 or GB18030."""
    if not _has_raw_bytes(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    for charset in ("utf-8", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _from_header(message: EmailMessage) -> str | None:
    try:
        header = message["From"]
        if not isinstance(header, AddressHeader) or not header.addresses:
            return None
        return header.addresses[0].addr_spec
    except (MessageError, ValueError, IndexError, AttributeError):  # a malformed header
        return None


def _text(message: EmailMessage, name: str, default: str = "") -> str:
    try:
        value = message.get(name)
    except (MessageError, ValueError, IndexError, AttributeError):
        return default
    return default if value is None else str(value)
