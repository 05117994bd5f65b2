"""Choices as numbered lines where there are no buttons, and numbered replies picking them."""

import pytest

from channels.messages import Choice, Outbound, numbered, picked

DOCTORS = (
    Choice("doctor:00868", "张伟 主任医师"),
    Choice("doctor:00871", "李娜 副主任医师"),
    Choice("doctor:00902", "李明 主治医师"),
)


def test_choices_become_numbered_lines() -> None:
    message = Outbound("请选择医生（回复数字）", DOCTORS)
    assert numbered(message) == (
        "请选择医生（回复数字）\n1. 张伟 主任医师\n2. 李娜 副主任医师\n3. 李明 主治医师"
    )
    assert numbered(Outbound("预约成功")) == "预约成功"


@pytest.mark.parametrize(
    ("reply", "key"),
    [
        ("2", "doctor:00871"),
        (" 2 ", "doctor:00871"),
        ("２", "doctor:00871"),  # full-width, as many phones type it
        ("2.", "doctor:00871"),
        ("（3）", "doctor:00902"),
        ("第2个", "doctor:00871"),
        ("选1", "doctor:00868"),
        ("二", "doctor:00871"),
        ("#3", "doctor:00902"),
    ],
)
def test_a_numbered_reply_picks_that_choice(reply: str, key: str) -> None:
    choice = picked(reply, DOCTORS)
    assert choice is not None and choice.key == key


@pytest.mark.parametrize("reply", ["0", "4", "12", "2个医生都行", "张伟", "", "2026-11-27"])
def test_anything_else_is_left_to_the_language_understanding(reply: str) -> None:
    assert picked(reply, DOCTORS) is None


def test_nothing_is_picked_when_nothing_was_offered() -> None:
    assert picked("1", ()) is None
