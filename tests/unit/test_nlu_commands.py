"""The words that steer a conversation (nlu.commands, data/nlu/commands.yml)."""

import pytest

from nlu.commands import (
    asks_language,
    asks_quiet,
    goes_back,
    language_named,
    stops_booking,
    stops_registering,
)


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
     ("English not Chinese", "en"), ("hello", None), ("说普通话", "zh"),
     ("switch to Mandarin", "zh")],
)  # fmt: skip
def test_the_language_named(text: str, language: str | None) -> None:
    assert language_named(text) == language


@pytest.mark.parametrize(
    "text",
    ["说英文", "请你用英文回复吧", "切换到English", "ＥＮＧＬＩＳＨ！", "English please",
     "Can you speak Chinese?", "switch to mandarin", "切换语言", "change language", "中英 切换",
     "i dont speak chinese", "I don't speak Chinese", "我看不懂英文", "en"],
)  # fmt: skip
def test_asking_for_a_language(text: str) -> None:
    assert asks_language(text)


@pytest.mark.parametrize(
    "text", ["刘中文", "Elaine English", "说中国话", "my mum can't read English", "中文名", ""]
)
def test_not_only_asking_for_a_language(text: str) -> None:
    assert not asks_language(text)


@pytest.mark.parametrize(
    ("text", "by_sms", "quiet", "english"),
    [
        ("TD", False, True, False),
        ("退订", True, True, False),
        ("Unsubscribe", False, True, True),
        ("订阅", False, False, False),
        ("subscribe", True, False, True),
        ("STOP", True, True, True),
        ("start", True, False, True),
    ],
)
def test_asking_for_no_more_reminders_or_for_them_again(
    text: str, by_sms: bool, quiet: bool, english: bool
) -> None:
    asked = asks_quiet(text, by_sms=by_sms)
    assert asked is not None and (asked.quiet, asked.english) == (quiet, english)


@pytest.mark.parametrize("text", ["stop", "start", "TD please", "退订吧"])
def test_stop_in_a_chat_or_a_longer_message_is_no_quiet_request(text: str) -> None:
    assert asks_quiet(text, by_sms=False) is None
