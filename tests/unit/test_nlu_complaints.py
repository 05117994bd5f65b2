"""How patients describe illness, as the NLU reads it: a body part and how it feels, a
temperature, who is ill (a child, an elderly parent), and emergency signs first."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu.engine import BuiltinNlu
from nlu.result import Parse
from nlu.training_data import load_directory
from tests.support import NLU_DATA, WEDNESDAY_10AM

LOOKUPS = load_directory(NLU_DATA).lookups
FEELINGS_ZH = [w for w in LOOKUPS["feeling"] if not w.isascii()]
FEELINGS_EN = [w for w in LOOKUPS["feeling"] if w.isascii()]
# Words the rule is not for: 头/头发 and 手 appear in other words, 背 and 跳 are feelings too.
PARTS_ZH = [w for w in LOOKUPS["body_part"] if not w.isascii() and w not in ("背", "身上")]
PARTS_EN = [w for w in LOOKUPS["body_part"] if w.isascii()]


def parse(nlu: BuiltinNlu, text: str, lang: str | None = None) -> Parse:
    return nlu.parse(text, now=WEDNESDAY_10AM, lang_hint=lang)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    part=st.sampled_from(PARTS_ZH),
    between=st.sampled_from(["", "有点", "一直", "老是", "特别", "这两天"]),
    feeling=st.sampled_from(FEELINGS_ZH),
    before=st.sampled_from(["", "我", "最近", "医生，我"]),
    after=st.sampled_from(["", "，挂什么科", "好几天了", "。"]),
)
def test_every_body_part_with_every_feeling_is_a_complaint_zh(
    nlu: BuiltinNlu, part: str, between: str, feeling: str, before: str, after: str
) -> None:
    complaint = f"{part}{between}{feeling}"
    found = parse(nlu, f"{before}{complaint}{after}")
    covered = [s for s in found.entities if s.entity == "symptom" and part in s.text]
    assert covered or found.intent == "emergency", (complaint, found.entities)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    part=st.sampled_from(PARTS_EN),
    feeling=st.sampled_from(FEELINGS_EN),
    shape=st.sampled_from(["my {p} {f}", "{f} {p}", "my {p} is {f}", "{f} in my {p}"]),
)
def test_every_body_part_with_every_feeling_is_a_complaint_en(
    nlu: BuiltinNlu, part: str, feeling: str, shape: str
) -> None:
    found = parse(nlu, shape.format(p=part, f=feeling) + ", which department?")
    covered = [s for s in found.entities if s.entity == "symptom" and part in s.text]
    assert covered or found.intent == "emergency", (part, feeling, found.entities)


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("胃不舒服", "胃不舒服"),
        ("老胃病又犯了", "老胃病"),
        ("膝盖上下楼梯就疼", "膝盖上下楼梯就疼"),  # a phrase between the part and the feeling
        ("闪了腰", "闪了腰"),  # how it was hurt, said first
        ("my tummy's been upset all week", "tummy's been upset"),
        ("twisted my ankle playing football", "twisted my ankle"),
        ("stomachache", "stomachache"),
        ("my elderly mother has blurry eyes", "blurry eyes"),  # "eyes" is also a department
    ],
)
def test_complaints_in_everyday_words(nlu: BuiltinNlu, text: str, symptom: str) -> None:
    found = parse(nlu, text)
    assert symptom in [s.text for s in found.entities if s.entity == "symptom"]
    assert found.values("department") == []


def test_a_date_between_the_part_and_the_feeling_stays_a_date(nlu: BuiltinNlu) -> None:
    found = parse(nlu, "我肚子从昨天晚上开始疼")
    assert found.values("date") == ["2026-11-24"]
    symptom = found.first("symptom")
    assert symptom is not None and (symptom.text, symptom.value) == ("肚子", "肚子疼")


def test_a_department_named_by_a_body_part_is_still_a_department(nlu: BuiltinNlu) -> None:
    assert parse(nlu, "book the eyes clinic tomorrow").values("department") == ["OPHT"]
    assert parse(nlu, "儿童科有号吗").values("department") == ["PEDI"]
    assert parse(nlu, "儿童过敏找哪个医生").values("specialty") == ["儿童过敏"]


@pytest.mark.parametrize(
    ("text", "celsius"),
    [
        ("孩子发烧39度", "39.0"),
        ("体温38.5℃", "38.5"),
        ("烧到三十九度五", "39.5"),
        ("38度2，要去医院吗", "38.2"),
        ("体温37.8", "37.8"),
        ("my son has a fever of 102F", "38.9"),
        ("temperature of 101.5", "38.6"),
        ("a fever of 39", "39.0"),
        ("she's running 39.5 degrees", "39.5"),
        ("104 degrees fahrenheit", "40.0"),
    ],
)
def test_temperatures_in_degrees_celsius(nlu: BuiltinNlu, text: str, celsius: str) -> None:
    assert parse(nlu, text).values("temperature") == [celsius]


@pytest.mark.parametrize("text", ["发烧3天了", "3度", "挂60号", "39号床的病人", "fever for 3 days"])
def test_numbers_that_are_no_temperature(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).values("temperature") == []


@pytest.mark.parametrize(
    "text",
    [
        "孩子发烧抽搐了",
        "宝宝高烧抽风",
        "孩子发高烧抽了",
        "宝宝烧到40度，翻白眼",
        "孩子发烧41度",  # 41 °C is an emergency by itself
        "my baby had a fit with a high fever",
        "my son has a fever of 106F",
        "my baby's lips are turning blue",
        "胸口突然剧痛",  # 胸口…痛: the part and the feeling make the sign
        "pain in my chest",
    ],
)
def test_emergency_signs_come_first_for_children_and_complaints(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent == "emergency"


@pytest.mark.parametrize(
    "text", ["今天41度，热死了", "no chest pain, just a cough", "我胸口不疼了"]
)
def test_no_emergency_in_the_weather_or_a_denial(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent != "emergency"


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("孩子发烧39度", ["child"]),
        ("我儿子3岁，胃疼", ["child", "child"]),
        ("宝宝8个月大，拉肚子", ["child", "child"]),
        ("my toddler has diarrhea", ["child"]),
        ("my 3 year old has an earache", ["child"]),
        ("我妈膝盖一直疼", ["elderly"]),
        ("外婆82岁，手抖", ["elderly", "elderly"]),
        ("my dad keeps forgetting things", ["elderly"]),
        ("我儿子25岁了，牙疼", []),  # an adult's age beats the word
        ("my son is 25 years old and has back pain", []),
        ("我30岁，孩子发烧了", ["child"]),  # the comma parts the age from the child
        ("我妈最近老头晕", ["elderly"]),  # 老 is "always" here, not 老头
        ("咳嗽两个月了", []),  # how long, not how old
    ],
)
def test_who_is_ill_by_age(nlu: BuiltinNlu, text: str, groups: list[str]) -> None:
    assert parse(nlu, text).values("age_group") == groups


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("孩子发烧39度", "zh"),
        ("胃不舒服", "zh"),
        ("胃病", "zh"),
        ("老胃病又犯了", "zh"),
        ("我妈膝盖一直疼", "zh"),
        ("my stomach hurts", "en"),
        ("sore knee", "en"),
        ("fever of 39", "en"),
    ],
)
def test_a_complaint_alone_asks_where_to_go(nlu: BuiltinNlu, text: str, lang: str) -> None:
    found = parse(nlu, text)
    assert (found.intent, found.language) == ("triage", lang)


@pytest.mark.parametrize(
    ("text", "name"),
    [("我叫张宝贝，身份证110101199003074514", "张宝贝"), ("姓名：王宝宝", "王宝宝"),
     ("孩子叫刘娃娃", "刘娃娃"), ("my name is Sonny Baby", "Sonny Baby")],
)  # fmt: skip
def test_a_name_made_of_the_words_for_a_child_is_a_name(
    nlu: BuiltinNlu, text: str, name: str
) -> None:
    assert parse(nlu, text).values("person_name") == [name]
