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


# Booking and registration, as the code before typed tasks saved them on the way.
SAVED_BOOK = [
    {"task": "book", "slots": {}},
    {"task": "book", "slots": {"hospital": "H2", "not_here": "CARD"}},
    {"task": "book", "slots": {"department_candidates": ["ORTH1", "ORTH2"], "date": "2026-12-09"}},
    {"task": "book", "slots": {"specialty": "糖尿病", "for_relation": "son"}},
    {"task": "book", "slots": {"department": "CARD", "candidates": ["D001", "D002"]}},
    {
        "task": "book",
        "slots": {
            "department": "CARD",
            "doctor": "D001",
            "not_doctor": "D002",
            "date": "2026-12-09",
            "part": "pm",
            "list_sessions": True,
            "session": 12,
            "waitlist": True,
            "for_name": "王小红",
            "registering": True,
            "registration": {
                "name": "王小红",
                "id_number": "110105198005170012",
                "phone": "13812345678",
                "code_for": "phone",
                "phone_masked": "138****5678",
            },
        },
    },
    {
        "task": "book",
        "slots": {"department": "CARD", "doctor": "D001", "session": 12, "patient": 3},
    },
    {"task": "register", "slots": {}},
    {"task": "register", "slots": {"registration": {"phone": "13812345678"}}},
    {"task": "register", "slots": {"registration": {"id_number": "110105198005170012"}}},
]


@pytest.mark.parametrize("saved", SAVED_BOOK)
def test_a_saved_booking_or_registration_is_saved_again_as_it_was(
    saved: dict[str, object],
) -> None:
    assert DialogueState(saved).to_json() == saved


def test_a_booking_reads_typed() -> None:
    task = DialogueState(SAVED_BOOK[5]).book
    assert (task.doctor, task.session, task.waitlist, task.registering) == ("D001", 12, True, True)
    assert task.registration.missing() == [] and task.registration.code_for == "phone"
    assert DialogueState(SAVED_BOOK[4]).book.candidates == ["D001", "D002"]
    assert DialogueState(SAVED_BOOK[8]).registering.registration.missing() == ["name", "id_number"]


def test_values_saved_false_or_empty_read_as_not_chosen() -> None:
    # The booking saved "waitlist": false when a session was pressed, and an empty
    # registration when it began on the web chat.
    state = DialogueState(
        {"task": "book", "slots": {"session": 12, "waitlist": False, "registration": {}}}
    )
    assert state.book.waitlist is False and state.book.registration.missing() == [
        "name",
        "id_number",
        "phone",
    ]
    assert state.to_json() == {"task": "book", "slots": {"session": 12}}


def test_a_new_value_forgets_what_depended_on_it() -> None:
    task = DialogueState(SAVED_BOOK[5]).book
    task.choose("department", "CARD")  # the same: nothing forgotten
    assert task.doctor == "D001"
    task.choose("date", "2026-12-10")
    assert (task.session, task.waitlist, task.doctor) == (None, False, "D001")
    task.choose("department", "ORTH1")
    assert task.doctor is None and task.specialty is None
