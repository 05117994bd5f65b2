"""The keys of the buttons under complaints posted to the staff groups, made and read here
only (as bot.dialogue.choice_keys does for patients' buttons):

- ``staff:<button>:<complaint no>``: accept, reply, forward, escalate or resolve;
- ``staff:to:<complaint no>:<department code>``: forward to that department.

channels.telegram sends every press whose key starts with ``staff:`` (its STAFF) to the staff
desk instead of a patient's conversation; it cannot import this module (channels import
nothing of the bot), so the prefix is written there too.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "staff:"
BUTTONS = ("accept", "reply", "forward", "escalate", "resolve")
FORWARD_TO = "to"


def button(name: str, complaint_no: str) -> str:
    return f"{PREFIX}{name}:{complaint_no}"


def forward_to(complaint_no: str, department: str) -> str:
    return f"{PREFIX}{FORWARD_TO}:{complaint_no}:{department}"


@dataclass(frozen=True, slots=True)
class StaffKey:
    action: str  # one of BUTTONS, or FORWARD_TO
    complaint_no: str  # as in the key: normalised by whoever looks it up
    department: str = ""  # FORWARD_TO's department code


def read(key: str) -> StaffKey | None:
    """A staff button's key read back; None for any key this version does not make."""
    parts = key.split(":")
    if len(parts) == 4 and parts[:2] == ["staff", FORWARD_TO]:
        return StaffKey(FORWARD_TO, parts[2], parts[3])
    if len(parts) == 3 and parts[0] == "staff" and parts[1] in BUTTONS:
        return StaffKey(parts[1], parts[2])
    return None
