"""Choice keys are made and read in one module, and read back as they were made."""

from bot.dialogue import choice_keys
from bot.dialogue.choice_keys import Key, read


def test_keys_keep_their_spelling() -> None:
    assert choice_keys.session(12, "D003") == "session:12:D003"
    assert choice_keys.waitlist(12, "D003") == "waitlist:12:D003"
    assert choice_keys.move_to(7, "D1") == "to:7:D1"
    assert choice_keys.notice("rebook", "B20261125001", 31) == "notice:rebook:B20261125001:31"
    assert choice_keys.notice("again", None) == "notice:again:None"
    assert choice_keys.intent("book") == "intent:book"
    assert choice_keys.history(2) == "history:2"


def test_reading() -> None:
    assert read("session:12:D003") == Key("session", "12", "D003")
    assert read("doctor:A:1") == Key("doctor", "A:1")  # one value, whatever it holds
    assert read("confirm:yes") == Key("confirm", "yes")
    assert read("notice:rebook:B1:31").notice == Key("rebook", "B1", "31")
    assert read("notice:take:5").notice == Key("take", "5")
    assert read("intent:book").notice == Key("")
    assert read("notice") == Key("") and read("") == Key("")
