"""The SMS quick booking command from the hospital's design: GHDH<work no.>,<MMDDhhmm>,<name>,
e.g. GHDH00868,04300830,张三 = doctor 00868 on 30 April at 08:30 for 张三. A wrong command is
answered with the part that is wrong, so the parser says which part failed.

The work number is the hospital's, as it writes it: letters and digits (00868, N0001), in
either case; which doctor it names is for the catalogue to say (nlu.extraction)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

_COMMAND = re.compile(r"^\s*ghdh\s*(?P<rest>.*)$", re.DOTALL)
_SEPARATORS = re.compile(r"\s*[,;/、]\s*")
WORK_NO = re.compile(r"[0-9a-z]{1,16}")  # booking.roster.doctors.WORK_NO, in the lower-cased text
_NAME = re.compile(r"^(?:[\u3400-\u9fff·]{2,10}|[a-z][a-z .'-]{1,39})$")

PARTS = ("format", "doctor", "date", "time", "name")


@dataclass(frozen=True, slots=True)
class QuickCommand:
    """What the command says; `error` names the first wrong part (one of PARTS) or is None."""

    error: str | None
    work_no: str | None = None
    visit_date: date | None = None
    time: str | None = None
    name: str | None = None
    # (start, end) of each part in the normalised text, for entity spans.
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


def parse_quick_command(text: str, today: date) -> QuickCommand | None:
    """None when the text is not a quick command at all. `text` is normalised (lower case)."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    rest_start = match.start("rest")
    rest = match.group("rest").rstrip()
    pieces: list[tuple[str, int]] = []
    position = 0
    for separator in _SEPARATORS.finditer(rest):
        pieces.append((rest[position : separator.start()], rest_start + position))
        position = separator.end()
    pieces.append((rest[position:], rest_start + position))
    if len(pieces) != 3:
        return QuickCommand(error="format")
    (work_no, work_at), (when, when_at), (name, name_at) = pieces
    spans: dict[str, tuple[int, int]] = {}
    if not WORK_NO.fullmatch(work_no):
        return QuickCommand(error="doctor")
    spans["doctor"] = (work_at, work_at + len(work_no))
    if not re.fullmatch(r"\d{8}", when):
        return QuickCommand(error="date", work_no=work_no, spans=spans)
    visit_date = _month_day(int(when[:2]), int(when[2:4]), today)
    if visit_date is None:
        return QuickCommand(error="date", work_no=work_no, spans=spans)
    spans["date"] = (when_at, when_at + 4)
    hour, minute = int(when[4:6]), int(when[6:8])
    if hour > 23 or minute > 59:
        return QuickCommand(error="time", work_no=work_no, visit_date=visit_date, spans=spans)
    clock = f"{hour:02d}:{minute:02d}"
    spans["time"] = (when_at + 4, when_at + 8)
    if not _NAME.match(name):
        return QuickCommand(
            error="name", work_no=work_no, visit_date=visit_date, time=clock, spans=spans
        )
    spans["person_name"] = (name_at, name_at + len(name))
    return QuickCommand(None, work_no, visit_date, clock, name, spans)


def _month_day(month: int, day: int, today: date) -> date | None:
    """The next such day from today on: in December, 0105 means January next year."""
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def write_quick_command(work_no: str, at: datetime, name: str) -> str | None:
    """The command that books doctor `work_no` from `at` (the hospital's local time) for the
    patient `name`, as a patient can send it; None when this parser would refuse it (a work
    number with other than letters and digits, a name the command cannot carry)."""
    command = f"GHDH{work_no},{at:%m%d%H%M},{name}"
    parsed = parse_quick_command(command.lower(), at.date())
    return command if parsed is not None and parsed.error is None else None
