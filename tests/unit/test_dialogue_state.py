"""Conversation states saved by earlier versions read back as the same typed tasks, and are
saved again with the same keys: a rolling deploy keeps every conversation where it was."""

import pytest

from bot.dialogue.state import DialogueState
from bot.dialogue.tasks import CancelTask, ComplaintTask, RescheduleTask, UnlinkTask

OFFERED = [["confirm:yes", "确认取消"], ["confirm:no", "不取消"]]

# As the code before typed tasks saved them, one or more a task.
SAVED = [
    {"lang": "zh", "task": "cancel", "slots": {}, "offered": [["cancel:B1", "12月9日 张伟"]]},
    {"lang": "zh", "task": "cancel", "slots": {"booking_no": "B20261208001"}, "offered": OFFERED},
    {"lang": "en", "task": "reschedule", "slots": {"booking_no": "B1", "date": "2026-12-09"}},
    {"lang": "zh", "task": "reschedule", "slots": {"booking_no": "B1", "part": "pm", "to": 42}},
    {"lang": "zh", "task": "complaint", "slots": {}},
    {"lang": "zh", "task": "complaint", "slots": {"department": "CARD", "category": "service"}},
    {"lang": "zh", "task": "complaint_status", "slots": {}},
    {"lang": "zh", "task": "unlink", "slots": {}},
    {"lang": "zh", "task": "unlink", "slots": {"patient": 3}},
    {"lang": "zh", "offered": []},
    {},
]


@pytest.mark.parametrize("saved", SAVED)
def test_a_saved_state_is_saved_again_as_it_was(saved: dict[str, object]) -> None:
    assert DialogueState(saved).to_json() == saved


def test_a_slot_saved_empty_reads_as_not_chosen() -> None:
    # The reschedule task saved the day and part asked for even when none was said.
    state = DialogueState(
        {"task": "reschedule", "slots": {"date": None, "part": None, "booking_no": "B1"}}
    )
    assert state.reschedule == RescheduleTask(booking_no="B1")
    assert state.to_json() == {"task": "reschedule", "slots": {"booking_no": "B1"}}


def test_each_task_reads_typed() -> None:
    assert DialogueState(SAVED[1]).cancel == CancelTask(booking_no="B20261208001")
    assert DialogueState(SAVED[3]).reschedule == RescheduleTask("B1", part="pm", to=42)
    assert DialogueState(SAVED[5]).complaint == ComplaintTask("CARD", "service")
    assert DialogueState(SAVED[8]).unlink == UnlinkTask(patient=3)


def test_a_task_not_in_progress_is_not_read() -> None:
    state = DialogueState(SAVED[1])
    with pytest.raises(LookupError):
        _ = state.unlink
    state.finish()
    assert state.task is None and state.current is None
    assert state.to_json() == {"lang": "zh", "offered": OFFERED}


def test_starting_a_task_forgets_the_last() -> None:
    state = DialogueState(SAVED[8])
    started = state.start(CancelTask())
    assert state.cancel is started and state.task == "cancel"
    assert state.to_json()["slots"] == {}
