"""The staff groups' button keys are made and read in one module, as they always were spelt."""

from bot.complaints import staff_keys
from bot.complaints.staff_keys import StaffKey, read
from channels.telegram import STAFF


def test_keys_keep_their_spelling() -> None:
    assert staff_keys.button("accept", "TS2611250001") == "staff:accept:TS2611250001"
    assert staff_keys.forward_to("TS2611250001", "RESP") == "staff:to:TS2611250001:RESP"
    assert staff_keys.PREFIX == STAFF  # the channel sends these presses to the staff desk


def test_reading() -> None:
    assert read("staff:escalate:ts1") == StaffKey("escalate", "ts1")
    assert read("staff:to:TS1:CARD") == StaffKey("to", "TS1", "CARD")
    for gone in ("staff:dance:TS1", "staff:to:TS1", "staff:accept", "session:1:D1", ""):
        assert read(gone) is None, gone
    for name in staff_keys.BUTTONS:
        assert read(staff_keys.button(name, "TS1")) == StaffKey(name, "TS1")
