"""Chinese typed in pinyin is understood as its characters are; English is left alone."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu.engine import BuiltinNlu
from nlu.pinyin import joined
from nlu.result import Parse
from tests.support import WEDNESDAY_10AM

# Dates and parts of day patients type, each as characters and as pinyin would spell them.
DAYS = ["今天", "明天", "后天", "大后天", "周一", "周三", "周五", "星期六", "下周二", "下周四"]
PARTS = ["上午", "下午", "晚上", "早上"]


def parse(nlu: BuiltinNlu, text: str) -> Parse:
    return nlu.parse(text, now=WEDNESDAY_10AM)


def _values(found: Parse) -> list[tuple[str, str]]:
    return [(e.entity, e.value) for e in found.entities]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    day=st.sampled_from(DAYS),
    part=st.sampled_from(PARTS),
    spacing=st.sampled_from(["words", "joined", "syllables", "capitals"]),
)
def test_a_date_in_pinyin_is_the_date_in_characters(
    nlu: BuiltinNlu, day: str, part: str, spacing: str
) -> None:
    words = [joined(day), joined(part)]
    typed = {
        "words": " ".join(words),
        "joined": "".join(words),
        "syllables": " ".join(joined(char) for char in day + part),
        "capitals": " ".join(word.capitalize() for word in words),
    }[spacing]
    assert _values(parse(nlu, typed)) == _values(parse(nlu, day + part))


@pytest.mark.parametrize(
    ("typed", "characters"),
    [
        ("houtian xiawu", "后天下午"),
        ("mingtian shangwu", "明天上午"),
        ("Hòutiān xiàwǔ", "后天下午"),  # tone marks
        ("wo yao guahao", "我要挂号"),
        ("wo de yuyue", "我的预约"),
        ("tuihao", "退号"),
        ("xiexie", "谢谢"),
        ("gua xinneike", "挂心内科"),
        ("xin nei ke", "心内科"),
    ],
)
def test_pinyin_is_read_as_its_characters(nlu: BuiltinNlu, typed: str, characters: str) -> None:
    found, meant = parse(nlu, typed), parse(nlu, characters)
    assert (found.intent, _values(found), found.language) == (meant.intent, _values(meant), "zh")


def test_spans_point_at_the_letters_typed(nlu: BuiltinNlu) -> None:
    typed = "Li Na yisheng houtian xiawu"
    found = parse(nlu, typed)
    assert [(e.entity, e.text) for e in found.entities] == [
        ("doctor", "Li Na"),
        ("date", "houtian"),
        ("time_of_day", "xiawu"),
    ]
    for entity in found.entities:
        assert typed[entity.start : entity.end] == entity.text


def test_a_doctor_in_pinyin_stays_the_sound_alike_it_is(nlu: BuiltinNlu) -> None:
    """ "zhang wei" is 张伟 or 张卫: read as characters it would become one of them."""
    doctor = parse(nlu, "zhang wei yisheng").first("doctor")
    assert doctor is not None and set(doctor.candidates) == {"00868", "02216"}
    assert parse(nlu, "he ping yisheng").values("doctor") == ["10045"]


def test_an_emergency_in_pinyin(nlu: BuiltinNlu) -> None:
    assert parse(nlu, "xiongtong").intent == "emergency"  # 胸痛


@pytest.mark.parametrize(
    "text",
    [
        "women's clinic",  # 我们 in pinyin, but English here
        "can you help me",
        "I want to see Dr. Li Na on Friday",
        "hi, how do I book",
        "banana",
    ],
)
def test_english_is_never_read_as_pinyin(nlu: BuiltinNlu, text: str) -> None:
    assert not any(
        "\u4e00" <= char <= "\u9fff" for e in parse(nlu, text).entities for char in e.value
    )
    assert parse(nlu, text).language == "en"


def test_every_day_and_part_spelt_every_way(nlu: BuiltinNlu) -> None:
    """All of them, not a sample: these are the words a booking needs."""
    for day, part in itertools.product(DAYS, PARTS):
        expected = _values(parse(nlu, day + part))
        assert _values(parse(nlu, f"{joined(day)} {joined(part)}")) == expected, (day, part)
