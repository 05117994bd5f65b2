"""Names as patients write them: aliases, English, pinyin, typos, homophones and titles."""

import pytest

from nlu.engine import BuiltinNlu
from nlu.result import Parse
from tests.support import WEDNESDAY_10AM


def parse(nlu: BuiltinNlu, text: str) -> Parse:
    return nlu.parse(text, now=WEDNESDAY_10AM)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("心血管内科", "CARD"),
        ("心内科", "CARD"),  # alias
        ("心内", "CARD"),
        ("新内科", "CARD"),  # homophone typed by a pinyin keyboard
        ("心血管肉科", "CARD"),  # one wrong character in a long name
        ("cardiology", "CARD"),
        ("Cardiology", "CARD"),
        ("cardiolgy", "CARD"),  # English typo
        ("xinneike", "CARD"),  # pinyin in Latin letters
        ("呼吸科", "RESP"),
        ("pulmonology", "RESP"),
        ("耳鼻喉科", "ENT"),
        ("ENT", "ENT"),
        ("牙科", "DENT"),
        ("dental", "DENT"),
        ("皮膚科", "DERM"),  # traditional characters
        ("针灸科", "ACUP"),
    ],
)
def test_department_names_become_codes(nlu: BuiltinNlu, text: str, code: str) -> None:
    found = parse(nlu, f"我想挂{text}的号" if not text.isascii() else f"book {text} please")
    assert found.values("department") == [code]


@pytest.mark.parametrize(
    ("text", "work_no"),
    [
        ("张伟", "00868"),
        ("张卫", "02216"),
        ("李娜", "00871"),
        ("李那", "00871"),  # homophone, same surname
        ("王方", "01105"),  # 王芳
        ("00868", "00868"),  # work number
        ("工号01321", "01321"),
        ("Li Na", "00871"),
        ("li na", "00871"),
        ("Wang Fang", "01105"),
        ("wangfang", "01105"),
    ],
)
def test_doctor_names_become_work_numbers(nlu: BuiltinNlu, text: str, work_no: str) -> None:
    doctor = parse(nlu, f"挂{text}医生的号").first("doctor")
    assert doctor is not None
    assert doctor.value == work_no
    assert doctor.candidates == ()


def test_a_homophone_of_two_doctors_offers_both_as_candidates(nlu: BuiltinNlu) -> None:
    doctor = parse(nlu, "张维医生明天有号吗").first("doctor")
    assert doctor is not None
    assert set(doctor.candidates) == {"00868", "02216"}
    assert doctor.value in doctor.candidates
    assert doctor.confidence < 0.9  # the dialogue asks instead of guessing


def test_the_english_name_shared_by_two_doctors_offers_both(nlu: BuiltinNlu) -> None:
    doctor = parse(nlu, "Can I see Dr. Zhang Wei tomorrow?").first("doctor")
    assert doctor is not None
    assert set(doctor.candidates) == {"00868", "02216"}
    assert doctor.text == "Zhang Wei"  # the title is not part of the name


def test_the_department_in_the_message_picks_the_homophone(nlu: BuiltinNlu) -> None:
    doctor = parse(nlu, "心内科张维医生").first("doctor")
    assert doctor is not None and doctor.value == "00868"
    assert doctor.candidates == ()
    orthopaedics = parse(nlu, "骨科的张维大夫").first("doctor")
    assert orthopaedics is not None and orthopaedics.value == "02216"


def test_surname_and_title_names_the_doctors_with_that_surname(nlu: BuiltinNlu) -> None:
    doctor = parse(nlu, "我想找王医生看看").first("doctor")
    assert doctor is not None and doctor.value == "01105"  # the only 王
    zhang = parse(nlu, "张主任下周一出诊吗").first("doctor")
    assert zhang is not None
    assert zhang.value == "00868"  # 主任医师; 张卫 is 主治医师
    dr = parse(nlu, "is Dr. Li in on Friday").first("doctor")
    assert dr is not None and set(dr.candidates) == {"00871", "00902"}


def test_a_sound_alike_word_is_not_a_doctor(nlu: BuiltinNlu) -> None:
    # 顺利 ("smoothly") sounds like the doctor 孙丽 once sh/s are blurred.
    assert parse(nlu, "祝你一切顺利").first("doctor") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("市一院", "H01"), ("第一人民医院", "H01"), ("中医院", "H02"), ("First Hospital", "H01")],
)
def test_hospital_names_become_codes(nlu: BuiltinNlu, text: str, code: str) -> None:
    assert parse(nlu, f"{text}明天有号吗").values("hospital") == [code]


def test_a_department_of_both_hospitals_is_settled_by_the_hospital(nlu: BuiltinNlu) -> None:
    both = parse(nlu, "挂骨伤科").first("department")
    assert both is not None and set(both.candidates) == {"ORTH", "TCMO"}
    settled = parse(nlu, "中医院骨伤科").first("department")
    assert settled is not None and settled.value == "TCMO" and settled.candidates == ()


def test_specialties_and_symptoms_follow_the_question(nlu: BuiltinNlu) -> None:
    who = parse(nlu, "哪位医生擅长治疗哮喘")
    assert who.intent == "query_schedule"
    assert who.values("specialty") == ["哮喘"]
    which = parse(nlu, "我有哮喘应该挂什么科")
    assert which.intent == "triage"
    assert which.values("symptom") == ["哮喘"]
    english = parse(nlu, "which doctor treats cataracts")
    assert english.values("specialty") == ["白内障"]


@pytest.mark.parametrize("text", ["耳科", "我是顾客", "复课了", "看皮肤病吗", "消化内镜检查"])
def test_words_near_a_department_name_are_not_departments(nlu: BuiltinNlu, text: str) -> None:
    # 耳科 sounds like 儿科, 顾客 like 骨科; 皮肤病吗 is one letter from 皮肤病科.
    assert parse(nlu, text).values("department") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("see neurolgy", "NEUR"), ("i see neurolgy", "NEUR"), ("genral surgery please", "GSUR")],
)
def test_english_typos_wherever_they_stand(nlu: BuiltinNlu, text: str, code: str) -> None:
    assert parse(nlu, text).values("department") == [code]


def test_professor_is_a_title(nlu: BuiltinNlu) -> None:
    assert parse(nlu, "Professor Wang on Monday").values("doctor") == ["01105"]


@pytest.mark.parametrize(
    ("text", "chosen", "work_no", "candidates"),
    [
        ("张维", "CARD", "00868", ()),  # a sound-alike, in cardiology: cardiology's 张伟
        ("张维", "ORTH", "02216", ()),  # in orthopaedics: 张卫
        ("zhang wei", "CARD", "00868", ()),
        ("张维", None, "00868", ("00868", "02216")),  # nothing chosen yet: the bot asks
        ("张卫", "CARD", "00868", ("00868", "02216")),  # an exact name elsewhere: it asks
        ("骨科张维", "CARD", "02216", ()),  # the department named in the message wins
    ],
)
def test_a_sound_alike_is_resolved_in_the_department_already_chosen(
    nlu: BuiltinNlu, text: str, chosen: str | None, work_no: str, candidates: tuple[str, ...]
) -> None:
    doctor = nlu.parse(text, now=WEDNESDAY_10AM, department=chosen).first("doctor")
    assert doctor is not None
    assert (doctor.value, set(doctor.candidates)) == (work_no, set(candidates))
