"""The words a person wrote in an e-mail: the text/plain part (or the HTML one made plain),
decoded from whatever charset Chinese and Western mail programs use, attachments left aside,
and the earlier mail a reply quotes cut off where that is obvious."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

# Mail programs label GBK and GB18030 text "gb2312"; each of these reads the older one too.
_WIDER_CHARSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
}
# Tried in turn when the declared charset is missing, unknown or wrong.
_GUESSES = ("utf-8", "gb18030")
# Where a reply's quotation of the earlier mail begins, in the programs patients use.
_QUOTE_STARTS = re.compile(
    r"^(?:-{2,}\s*(?:original message|原始邮件|原邮件|forwarded message|转发邮件)\s*-{2,}"
    r"|-{5,}\s*原始邮件\s*-{5,}"
    r"|on\b.{0,200}\bwrote:"
    r"|.{0,200}写道[:：])$",
    re.IGNORECASE,
)
# Outlook quotes with a header block: "From: …" then "Sent: …" on one of the next lines.
_QUOTED_FROM = re.compile(r"^\s*(?:from|发件人)\s*[:：]", re.IGNORECASE)
_QUOTED_DATE = re.compile(r"^\s*(?:sent|date|发送时间|日期|时间)\s*[:：]", re.IGNORECASE)
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
_SPACES = re.compile(r"\s+")
_SKIPPED_TAGS = {"script", "style", "head", "title", "blockquote"}


def readable_text(message: EmailMessage) -> str:
    """What the sender wrote, or "" when nothing could be read."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    text = decoded(part)
    if text is None:
        return ""
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return tidy(without_quotation(text))


def decoded(part: EmailMessage) -> str | None:
    """The part's text; None when no likely charset decodes it."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    declared = (part.get_content_charset() or "").lower()
    for charset in (_WIDER_CHARSET.get(declared, declared), *_GUESSES):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def without_quotation(text: str) -> str:
    """The text up to the earlier mail it quotes, and without "> " lines; the whole text when
    that would leave nothing (a forwarded mail is all quotation)."""
    lines = text.splitlines()
    kept: list[str] = []
    for number, line in enumerate(lines):
        if _QUOTE_STARTS.match(line.strip()) or line == "-- ":  # "-- ": a signature follows
            break
        if _QUOTED_FROM.match(line) and any(map(_QUOTED_DATE.match, lines[number : number + 4])):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    trimmed = "\n".join(kept)
    return trimmed if trimmed.strip() else text


def tidy(text: str) -> str:
    """Lines without spaces around them, at most one blank line in a row, none at either end."""
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Crude but enough for what people type: the text, a line break at each block, quoted
    earlier mail (blockquote), scripts and styles left out."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.pieces)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.pieces.append(_SPACES.sub(" ", data))  # HTML's line breaks are spaces
