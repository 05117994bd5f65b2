"""The NLU takes the catalogue's words as they change while it runs (a doctor added or removed
in the back office), without being trained again: the intent model sees every name only as its
entity's placeholder, so new names need new indexes, not a new model."""

from dataclasses import replace

from nlu.engine import BuiltinNlu
from nlu.training_data import load_directory
from nlu.vocabulary import DoctorTerms
from tests.support import NLU_DATA, WEDNESDAY_10AM

NEWCOMER = DoctorTerms("03999", "秦岚", "Qin Lan", "CARD", "H01", "副主任医师", ("早搏",))
ABOUT_THE_NEWCOMER = [
    "帮我挂秦岚医生明天的号",
    "秦岚医生什么时候出诊",
    "想约秦主任周五上午",
    "Dr. Qin Lan on Friday",
    "book qin lan tomorrow morning",
    "谁擅长看早搏",
    "GHDH03999,11270800,张三",
]


def _fresh(nlu: BuiltinNlu) -> BuiltinNlu:
    """A copy of the session's NLU with the same model: refreshing it leaves the shared one."""
    return BuiltinNlu(nlu.vocabulary, load_directory(NLU_DATA), nlu.model)


def test_a_refreshed_nlu_answers_as_one_trained_on_the_new_catalogue(nlu: BuiltinNlu) -> None:
    vocabulary = replace(nlu.vocabulary, doctors=(*nlu.vocabulary.doctors, NEWCOMER))
    retrained = BuiltinNlu(vocabulary, load_directory(NLU_DATA))
    refreshed = _fresh(nlu)
    *typed, command = [refreshed.parse(text, now=WEDNESDAY_10AM) for text in ABOUT_THE_NEWCOMER]
    assert all("03999" not in found.values("doctor") for found in typed)
    assert command.quick_command == "doctor"  # 医生工号不对

    refreshed.use_vocabulary(vocabulary)

    assert refreshed.model is nlu.model  # not trained again
    held_out = [example.text for example in load_directory(NLU_DATA / "test").examples]
    for text in [*ABOUT_THE_NEWCOMER, *held_out]:
        got = refreshed.parse(text, now=WEDNESDAY_10AM)
        assert got == retrained.parse(text, now=WEDNESDAY_10AM), text
    assert refreshed.parse(ABOUT_THE_NEWCOMER[0], now=WEDNESDAY_10AM).values("doctor") == ["03999"]
    assert refreshed.parse(ABOUT_THE_NEWCOMER[-1], now=WEDNESDAY_10AM).quick_command == "ok"


def test_a_doctor_removed_from_the_catalogue_is_no_longer_understood(nlu: BuiltinNlu) -> None:
    refreshed = _fresh(nlu)
    without = tuple(d for d in nlu.vocabulary.doctors if d.work_no != "00868")  # 张伟
    refreshed.use_vocabulary(replace(nlu.vocabulary, doctors=without))

    assert refreshed.parse("GHDH00868,11270800,张三", now=WEDNESDAY_10AM).quick_command == "doctor"
    assert "00868" not in refreshed.parse("挂张伟医生的号", now=WEDNESDAY_10AM).values("doctor")
    # The orthopaedist whose name sounds the same (张卫) is still known.
    assert refreshed.parse("骨科张卫", now=WEDNESDAY_10AM).values("doctor") == ["02216"]
    # The session's NLU is untouched.
    assert nlu.parse("GHDH00868,11270800,张三", now=WEDNESDAY_10AM).quick_command == "ok"
