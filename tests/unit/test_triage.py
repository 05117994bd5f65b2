"""Which department triage suggests first, for how patients describe illness: generated
phrasings (body parts × feelings × who × sentence, temperatures, everyday disease words) and a
held-out set written apart from them, through the real NLU and the demo hospital's table."""

import os
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from booking.catalogue.model import Catalogue
from bot.dialogue.context import Turn
from bot.dialogue.dispatch import _intent_of
from bot.dialogue.triage import suggest
from bot.runtime.nlu import build_builtin
from nlu.engine import BuiltinNlu
from tests.complaint_phrasings import CHILD, ELDERLY, sample
from tests.support import NLU_DATA, WEDNESDAY_10AM, demo_catalogue

CATALOGUE = demo_catalogue()
HELD_OUT = Path(__file__).parents[1] / "complaints_held_out.yml"
# Replay a failure with GUAHAO_TRIAGE_SEED=<the seed printed>; GUAHAO_TRIAGE_SAMPLE for more.
SEED = int(os.environ.get("GUAHAO_TRIAGE_SEED", "1407"))
SAMPLE = int(os.environ.get("GUAHAO_TRIAGE_SAMPLE", "1500"))


def first_department(nlu: BuiltinNlu, text: str, catalogue: Catalogue = CATALOGUE) -> str:
    """What the patient is offered first: a department, "emergency", or where it went."""
    parse = nlu.parse(text, now=WEDNESDAY_10AM)
    if parse.intent == "emergency":
        return "emergency"
    route = _intent_of(Turn(text, parse=parse))
    found = suggest(parse, catalogue.triage, catalogue).departments
    if route != "triage" or not found:
        return f"{route}: {[d.code for d in found]}"
    return found[0].code


def test_generated_phrasings_are_triaged_right(nlu: BuiltinNlu) -> None:
    wrong = [
        (p.text, p.department, got)
        for p in sample(SAMPLE, SEED)
        if (got := first_department(nlu, p.text)) != p.department
    ]
    assert not wrong, f"seed {SEED}: {len(wrong)} of {SAMPLE} wrong, e.g. {wrong[:10]}"


def test_the_held_out_complaints_are_mostly_triaged_right(nlu: BuiltinNlu) -> None:
    rows = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))
    wrong = [
        (text, want, got) for text, want in rows if (got := first_department(nlu, text)) != want
    ]
    # Written apart from the rules and not tuned on one by one: a floor, not a target.
    assert len(wrong) <= len(rows) // 10, wrong
    assert not [w for w in wrong if w[1] == "emergency"], "every emergency is answered as one"


@pytest.mark.parametrize(
    ("text", "first", "also"),
    [
        ("孩子咳嗽发烧", "PEDI", "RESP"),  # the child first, what the complaint says after
        ("宝宝眼睛红", "PEDI", "OPHT"),
        ("my son has a toothache", "PEDI", "DENT"),
        ("我妈膝盖疼", "ORTH", None),  # an elderly parent: by the complaint
        ("掉头发挂什么科", "DERM", None),  # 头发 over 头: the longer word wins
        ("头疼得厉害", "NEUR", None),
        ("血压有点高，头还晕", "CARD", "NEUR"),  # in the order they are said
        ("体温38.5", "RESP", None),  # a fever by its temperature alone
        ("I have a cold", "RESP", None),
        ("migraines, which department?", "NEUR", None),  # "migraine" of the table, plural
    ],
)
def test_the_rules_of_the_table(nlu: BuiltinNlu, text: str, first: str, also: str | None) -> None:
    parse = nlu.parse(text, now=WEDNESDAY_10AM)
    codes = [d.code for d in suggest(parse, CATALOGUE.triage, CATALOGUE).departments]
    assert codes[0] == first
    assert also is None or also in codes


def test_a_normal_temperature_is_no_fever(nlu: BuiltinNlu) -> None:
    parse = nlu.parse("体温36.8，正常吗", now=WEDNESDAY_10AM)
    assert suggest(parse, CATALOGUE.triage, CATALOGUE).departments == ()


def test_who_is_ill_is_told_apart(nlu: BuiltinNlu) -> None:
    child = suggest(nlu.parse("孩子拉肚子", now=WEDNESDAY_10AM), CATALOGUE.triage, CATALOGUE)
    elder = suggest(nlu.parse("我爸拉肚子", now=WEDNESDAY_10AM), CATALOGUE.triage, CATALOGUE)
    assert (child.child, child.elderly, child.suggested) == (True, False, 1)
    assert (elder.child, elder.elderly, elder.departments[0].code) == (False, True, "GAST")


def test_a_hospital_extends_the_table_with_data() -> None:
    """Its own words, a body part the NLU did not know, and a clinic for older patients:
    data in the catalogue, understood once the NLU is built from it."""
    table = dict(CATALOGUE.triage)
    table["hints"] = {**table["hints"], "ENDO": ["嘴里发甜"]}  # type: ignore[dict-item]
    table["body_parts"] = {**table["body_parts"], "DERM": ["腋下"]}  # type: ignore[dict-item]
    table["elderly"] = ["NEUR"]
    catalogue = replace(CATALOGUE, triage=table)
    nlu = build_builtin(catalogue, NLU_DATA)
    assert first_department(nlu, "嘴里发甜怎么回事", catalogue) == "ENDO"
    assert first_department(nlu, "腋下一直痒", catalogue) == "DERM"
    parse = nlu.parse("我爸膝盖疼", now=WEDNESDAY_10AM)
    assert [d.code for d in suggest(parse, table, catalogue).departments] == ["ORTH", "NEUR"]


def test_the_generated_phrasings_cover_who_is_ill() -> None:
    drawn = sample(SAMPLE, SEED)
    assert {p.who for p in drawn} == {CHILD, ELDERLY, None}
    assert len({p.text for p in drawn}) == len(drawn)
