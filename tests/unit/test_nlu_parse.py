"""What a patient's message becomes: the intent, the language, normalised entities with spans
in the patient's own text, and an answer for any input at all."""

import json
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.runtime.nlu import build_builtin, vocabulary_from_catalogue
from nlu.engine import BuiltinNlu
from nlu.result import INTENTS, Parse
from nlu.training_data import load_directory
from nlu.vocabulary import DoctorTerms
from tests.support import NLU_DATA, WEDNESDAY_10AM, demo_catalogue, id_number


def parse(nlu: BuiltinNlu, text: str, lang: str | None = None) -> Parse:
    return nlu.parse(text, now=WEDNESDAY_10AM, lang_hint=lang)


def test_one_message_carries_everything(nlu: BuiltinNlu) -> None:
    found = parse(nlu, "帮我挂明天上午心内科张伟医生的号")
    assert found.intent == "book"
    assert found.language == "zh"
    assert found.confidence > 0.5
    assert {(e.entity, e.value) for e in found.entities} == {
        ("date", "2026-11-26"),
        ("time_of_day", "am"),
        ("department", "CARD"),
        ("doctor", "00868"),
    }


def test_spans_point_into_the_patients_own_text(nlu: BuiltinNlu) -> None:
    text = "幫我掛　１２月１號　皮膚科"  # traditional characters, full-width digits and space
    found = parse(nlu, text)
    for entity in found.entities:
        assert text[entity.start : entity.end] == entity.text
    assert found.values("date") == ["2026-12-01"]
    assert found.values("department") == ["DERM"]


def test_the_result_has_rasas_parse_shape(nlu: BuiltinNlu) -> None:
    result = json.loads(json.dumps(parse(nlu, "book cardiology tomorrow").to_rasa()))
    assert result["text"] == "book cardiology tomorrow"
    assert result["intent"]["name"] == "book"
    assert 0 < result["intent"]["confidence"] <= 1
    ranking = result["intent_ranking"]
    assert ranking[0]["name"] == "book"
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )
    assert {r["name"] for r in ranking} <= set(INTENTS)
    date = next(e for e in result["entities"] if e["entity"] == "date")
    assert (date["value"], date["start"], date["end"]) == ("2026-11-26", 16, 24)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("你好", "greet"),
        ("hello there", "greet"),
        ("再见", "goodbye"),
        ("谢谢你", "thanks"),
        ("thanks a lot", "thanks"),
        ("你能做什么", "help"),
        ("我要挂号", "book"),
        ("I want to make an appointment", "book"),
        ("我要退号", "cancel"),
        ("cancel my appointment", "cancel"),
        ("我想改约到下周", "reschedule"),
        ("查一下我的预约", "my_appointments"),
        ("show my bookings", "my_appointments"),
        ("明天心内科谁出诊", "query_schedule"),
        ("when does Dr. Li Na work", "query_schedule"),
        ("头疼应该挂什么科", "triage"),
        ("I have a toothache, which department should I go to", "triage"),
        ("我要实名注册", "register"),
        ("我要投诉", "complaint"),
        ("我的投诉TS2611240007处理得怎么样了", "complaint_status"),
        ("好的", "affirm"),
        ("yes", "affirm"),
        ("不用了", "deny"),
        ("no", "deny"),
        ("明天上午", "inform"),
        ("English please", "switch_language"),
        ("说中文", "switch_language"),
    ],
)
def test_everyday_messages_get_their_intent(nlu: BuiltinNlu, text: str, intent: str) -> None:
    assert parse(nlu, text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "胸口剧痛，帮我挂个心内科",
        "我爸突然昏迷了",
        "孩子一直抽搐",
        "我喘不上气",
        "奶奶口角歪斜，说话不清",
        "大出血了怎么办",
        "book cardiology tomorrow, I have chest pain",
        "my father is unconscious",
        "she is having a seizure",
        "I think he's having a stroke",
        "severe bleeding from the leg",
        "I can't breathe",
    ],
)
def test_emergency_signs_win_whatever_else_is_asked(nlu: BuiltinNlu, text: str) -> None:
    found = parse(nlu, text)
    assert found.intent == "emergency"
    assert found.confidence == 1.0
    # What else was asked stays in the ranking, for after the "call 120" answer.
    assert len(found.ranking) > 1


def test_emergency_signs_anywhere_in_a_long_message(nlu: BuiltinNlu) -> None:
    assert parse(nlu, "我想挂号。" * 2000 + "现在胸口剧痛").intent == "emergency"


@pytest.mark.parametrize("text", ["我没有胸痛，只是想复查", "no chest pain, just a check-up"])
def test_a_denied_sign_is_not_an_emergency(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "今天天气怎么样",
        "what's the weather like tomorrow",
        "给我讲个笑话",
        "tell me a joke",
        "帮我订一张去北京的机票",
        "book me a flight to Shanghai",
        "asdfghjkl",
        "qwe rty uiop",
        "？？？",
        "🍕🍕🍕",
    ],
)
def test_out_of_scope_is_detected_not_forced(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent == "out_of_scope"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02\x1b[31m",
        "😀😀😀",
        "\ud800 lone surrogate",
        "a" * 100_000,
        "挂号" * 50_000,
        "1" * 100_000,
        "<script>alert(1)</script>",
        "'; DROP TABLE bookings; --",
    ],
)
def test_any_input_gets_a_parse(nlu: BuiltinNlu, text: str) -> None:
    found = parse(nlu, text)
    assert found.intent in INTENTS
    assert found.text == text
    for entity in found.entities:
        assert 0 <= entity.start < entity.end <= len(text)


def test_random_bytes_decoded_as_text_get_a_parse(nlu: BuiltinNlu) -> None:
    rng = random.Random(7)
    for _ in range(200):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        text = (
            raw.decode("utf-8", errors="replace") if rng.random() < 0.5 else raw.decode("latin-1")
        )
        assert parse(nlu, text).intent in INTENTS


def test_an_id_number_is_returned_only_with_a_valid_checksum(nlu: BuiltinNlu) -> None:
    valid = id_number(7)
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    assert parse(nlu, f"我的身份证号是{valid}").values("id_number") == [valid]
    assert parse(nlu, f"我的身份证号是{wrong}").values("id_number") == []
    lower_x = "11010220200506090x"
    assert parse(nlu, f"ID {lower_x}").values("id_number") == ["11010220200506090X"]


def test_numbers_patients_type(nlu: BuiltinNlu) -> None:
    found = parse(nlu, "手机 138 0013 8000，预约号26112712345678，投诉单ts2611240007")
    assert found.values("phone") == ["13800138000"]
    assert found.values("booking_no") == ["26112712345678"]
    assert found.values("complaint_no") == ["TS2611240007"]
    assert parse(nlu, "my number is +86 139-1234-5678").values("phone") == ["13912345678"]
    assert parse(nlu, "电话12345678901").values("phone") == []  # not a mobile number


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我叫王小明", "王小明"),
        ("王小明 110101199003074514", "王小明"),
        ("姓名：李雷，电话13800138000", "李雷"),
        ("给我妈加个就诊人，李桂兰，身份证110102194803051234", "李桂兰"),
        ("帮张三挂明天的号", "张三"),
        ("my name is Li Lei", "Li Lei"),
        ("add my daughter Emma Wang as a patient", "Emma Wang"),
    ],
)
def test_patients_names(nlu: BuiltinNlu, text: str, name: str) -> None:
    assert parse(nlu, text).values("person_name") == [name]


def test_the_sms_quick_command(nlu: BuiltinNlu) -> None:
    found = parse(nlu, "GHDH00868,04300830,张三")
    assert found.intent == "book"
    assert found.quick_command == "ok"
    assert {(e.entity, e.value) for e in found.entities} == {
        ("doctor", "00868"),
        ("date", "2027-04-30"),  # 30 April has passed this year
        ("time", "08:30"),
        ("person_name", "张三"),
    }
    assert parse(nlu, "ghdh00868，12010900，李雷").values("date") == ["2026-12-01"]


@pytest.mark.parametrize(
    ("text", "wrong_part"),
    [
        ("GHDH", "format"),
        ("GHDH00868,04300830", "format"),
        ("GHDH868,04300830,张三", "doctor"),
        ("GHDH99999,04300830,张三", "doctor"),  # no such doctor
        ("GHDH00868,0430,张三", "date"),
        ("GHDH00868,02300830,张三", "date"),  # 30 February
        ("GHDH00868,04302530,张三", "time"),
        ("GHDH00868,04300830,", "name"),
        ("GHDH00868,04300830,123", "name"),
    ],
)
def test_a_wrong_quick_command_says_which_part(nlu: BuiltinNlu, text: str, wrong_part: str) -> None:
    found = parse(nlu, text)
    assert found.intent == "book"
    assert found.quick_command == wrong_part


@pytest.mark.parametrize(
    ("text", "hint", "language"),
    [
        ("帮我挂号", None, "zh"),
        ("帮我book明天的号", None, "zh"),
        ("can I book 心内科 tomorrow", None, "en"),
        ("hello", "zh", "en"),
        ("1", "en", "en"),
        ("1", None, "zh"),
        ("👍", "en", "en"),
    ],
)
def test_the_language_comes_from_the_message(
    nlu: BuiltinNlu, text: str, hint: str | None, language: str
) -> None:
    assert parse(nlu, text, hint).language == language


def test_a_doctor_added_to_the_catalogue_is_understood_without_new_data() -> None:
    catalogue = demo_catalogue()
    vocabulary = vocabulary_from_catalogue(catalogue)
    newcomer = DoctorTerms("00999", "欧阳娜娜", "Ouyang Nana", "CARD", "H01", "主治医师", ("早搏",))
    vocabulary = replace(vocabulary, doctors=(*vocabulary.doctors, newcomer))
    nlu = BuiltinNlu(vocabulary, load_directory(NLU_DATA))
    found = nlu.parse("帮我挂欧阳娜娜医生明天的号", now=WEDNESDAY_10AM)
    assert found.intent == "book"
    assert found.values("doctor") == ["00999"]
    assert nlu.parse("Dr. Ouyang Nana on Friday", now=WEDNESDAY_10AM).values("doctor") == ["00999"]
    assert nlu.parse("谁擅长看早搏", now=WEDNESDAY_10AM).values("specialty") == ["早搏"]


def test_the_same_data_gives_the_same_answers() -> None:
    first = build_builtin(demo_catalogue(), NLU_DATA)
    second = build_builtin(demo_catalogue(), NLU_DATA)
    for text in ("帮我挂号", "what can you do", "明天", "asdf"):
        assert first.parse(text, now=WEDNESDAY_10AM) == second.parse(text, now=WEDNESDAY_10AM)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list("帮我挂明天上午下午周三号点半心内科张伟维卫医生胸痛不没有的，。 ")
            + list("0123456789xX:-+")
            + list("abcdrz ")
            + ["\u3000", "\ufeff", "１", "😀", "\x00"]
        ),
        max_size=60,
    )
)
def test_any_mix_of_the_hard_characters_parses_with_true_spans(nlu: BuiltinNlu, text: str) -> None:
    found = parse(nlu, text)
    assert found.intent in INTENTS
    for entity in found.entities:
        assert text[entity.start : entity.end] == entity.text
        assert entity.entity != "id_number" or len(entity.value) == 18


@pytest.mark.parametrize(
    "text",
    [
        "我想自殺",  # traditional characters
        "我想預約心內科，我爸中風了",
        "心臟病發作了",
        "胸\u200b痛得厉害",  # a zero-width mark inside the sign
        "ghdh 我爸昏迷了怎么办",  # a quick command is no escape
        "GHDH00868,12010900,张三 我胸痛喘不上气",
        "Not only chest pain, I also feel dizzy",  # "not only" denies nothing
    ],
)
def test_emergency_signs_in_every_disguise(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent == "emergency"


@pytest.mark.parametrize(
    "text",
    ["the booking page is not responding", "我没有意识到要带身份证", "请说明早上几点开门"],
)
def test_words_that_only_look_like_signs(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).intent != "emergency"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("帮我妈王芳挂号", "王芳"),  # a patient who shares a doctor's name
        ("姓名：李明", "李明"),
        ("我叫欧阳娜娜", "欧阳娜娜"),  # a two-character surname
    ],
)
def test_a_patients_name_is_not_read_as_a_doctor(nlu: BuiltinNlu, text: str, name: str) -> None:
    found = parse(nlu, text)
    assert found.values("person_name") == [name]
    assert found.values("doctor") == []
    assert parse(nlu, f"{name}医生明天出诊吗").values("person_name") == []


@pytest.mark.parametrize("text", ["我有三点想问", "第三点是费用", "请说明早上几点开门"])
def test_numbers_and_words_that_only_look_like_times(nlu: BuiltinNlu, text: str) -> None:
    found = parse(nlu, text)
    assert found.values("time") == [] and found.values("date") == []


@pytest.mark.parametrize(
    "text", ["ﷺ" * 1000, "张伟" * 500, "骨科张伟" * 250, "㍱" * 30_000, "no " * 33_333]
)
def test_long_repetitive_or_expanding_text_is_cut_short(nlu: BuiltinNlu, text: str) -> None:
    found = parse(nlu, text)
    assert found.intent in INTENTS
    assert len(found.entities) <= 1000


def test_every_id_number_of_a_generated_population_is_recognised(nlu: BuiltinNlu) -> None:
    """Any GB 11643 number: a county newer than its holder (440106 for someone born in 1950),
    or one the tables do not know, is an ID number all the same."""
    from tests.population import Population

    people = [p for f in Population(1643).families(300) for p in f.people]
    missed = [
        p.id_number
        for p in people
        if parse(nlu, p.id_number).first("id_number") is None
        or parse(nlu, f"身份证号{p.id_number.lower()}").first("id_number") is None
    ]
    assert not missed, missed[:10]


@pytest.mark.parametrize("number", ["110101199003074513", "110101199013074514"])
def test_an_id_number_with_a_wrong_check_digit_or_date_is_none(
    nlu: BuiltinNlu, number: str
) -> None:
    assert parse(nlu, f"身份证{number}").values("id_number") == []


@pytest.mark.parametrize(
    "text",
    [
        # Guangzhou Tianhe (440106) for someone born in 1975: valid by GB 11643, although
        # python-stdnum's table has the county only from 1985.
        "身份证号440106197512035117",
        "310115198811093626",  # Shanghai Pudong, the same
    ],
)
def test_an_id_number_of_a_county_newer_than_its_holder(nlu: BuiltinNlu, text: str) -> None:
    assert parse(nlu, text).values("id_number") == [text[-18:]]


@pytest.mark.parametrize(
    ("text", "name", "number"),
    [
        ("我叫王小明，身份证110101199003074514", "王小明", "110101199003074514"),
        ("register Li Lei 110101199003074514", "Li Lei", "110101199003074514"),
        ("我叫孙丽华，身份证是110105196207140351", "孙丽华", "110105196207140351"),
        # Guangzhou Tianhe (440106) for someone born in 1975: valid by GB 11643, although
        # python-stdnum's table has the county only from 1985.
        ("我叫刘建华，身份证号440106197512035117", "刘建华", "440106197512035117"),
        ("my name is Chen Jie and my ID is 310115198811093626", "Chen Jie", "310115198811093626"),
    ],
)
def test_a_sentence_giving_an_id_number_is_a_registration(
    nlu: BuiltinNlu, text: str, name: str, number: str
) -> None:
    found = parse(nlu, text)
    assert found.intent == "register"
    assert (found.values("person_name"), found.values("id_number")) == ([name], [number])


@pytest.mark.parametrize(
    ("text", "specialty"),
    [
        ("我想挂个看糖尿病的专家号", "糖尿病"),
        ("帮我约个治近视的专家", "近视"),
        ("想挂个帕金森方面的专家号", "帕金森"),
        ("I need a diabetes specialist", "糖尿病"),
        ("can you book me in with a pneumonia expert", "肺炎"),
        ("I'd like an appointment with an osteoporosis specialist", "骨质疏松"),
    ],
)
def test_asking_for_an_expert_for_a_disease_is_a_booking(
    nlu: BuiltinNlu, text: str, specialty: str
) -> None:
    found = parse(nlu, text)
    assert (found.intent, found.values("specialty")) == ("book", [specialty])
