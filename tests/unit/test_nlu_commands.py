"""The words that steer a conversation (nlu.commands, data/nlu/commands.yml)."""

import pytest

from nlu.commands import goes_back, language_named, stops_booking, stops_registering


@pytest.mark.parametrize("text", ["不挂了", "算了。", "Never mind!", " stop booking ", "QUIT"])
def test_stopping_a_booking(text: str) -> None:
    assert stops_booking(text)


@pytest.mark.parametrize("text", ["不挂了吗", "stop adding", "取消", "明天不挂了"])
def test_not_stopping_a_booking(text: str) -> None:
    assert not stops_booking(text)


@pytest.mark.parametrize("text", ["不注册了", "stop   adding。", "Cancel", "返回", "back"])
def test_stopping_a_registration(text: str) -> None:
    assert stops_registering(text)


def test_going_back() -> None:
    assert goes_back("返回上一步") and goes_back(" Go back ")
    assert not goes_back("back!") and not goes_back("回去")


@pytest.mark.parametrize(
    ("text", "language"),
    [("说英语", "en"), ("English please", "en"), ("改回中文", "zh"), ("Chinese", "zh"),
     ("English not Chinese", "en"), ("hello", None), ("说普通话", None)],
)  # fmt: skip
def test_the_language_named(text: str, language: str | None) -> None:
    assert language_named(text) == language
