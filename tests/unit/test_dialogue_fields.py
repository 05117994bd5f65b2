"""While the bot waits for a field, what the patient types is that field: a generated
population's names are names, never a request for a language or a task; explicit requests
still are."""

from __future__ import annotations

import pytest
from faker import Faker

from bot.dialogue.fields import asks_for_language, leaves, plausible_name
from nlu.engine import BuiltinNlu
from nlu.training_data import load_directory
from tests.support import MONDAY_9AM, NLU_DATA


def _names(locale: str, count: int) -> list[str]:
    fake = Faker(locale)
    fake.seed_instance(20261207)
    return [fake.name() for _ in range(count)]


@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
def test_no_name_of_a_generated_population_reads_as_a_request(locale: str, nlu: BuiltinNlu) -> None:
    wrong = []
    for name in _names(locale, 2000):
        parse = nlu.parse(name, now=MONDAY_9AM)
        if asks_for_language("name", name, parse) or leaves("name", name, parse):
            wrong.append((name, parse.intent, round(parse.confidence, 2)))
    assert not wrong, wrong[:20]


def test_names_as_on_an_id_card_are_plausible() -> None:
    names = [*_names("zh_CN", 500), "欧阳娜娜", "买买提·艾力", "Li Xiuying", "Elaine English"]
    assert [name for name in names if not plausible_name(name)] == []
    for sentence in ["我的预约", "我要退号", "帮我挂号", "my bookings", "cancel my appointment"]:
        assert not plausible_name(sentence), sentence


def test_every_way_the_training_data_asks_for_a_language_is_explicit(nlu: BuiltinNlu) -> None:
    requests = [e.text for e in load_directory(NLU_DATA).examples if e.intent == "switch_language"]
    assert len(requests) > 50
    for field in ("name", "id_number", "phone"):
        missed = [
            text
            for text in requests
            if not asks_for_language(field, text, nlu.parse(text, now=MONDAY_9AM))
        ]
        assert missed == [], (field, missed)


def test_a_task_asked_for_outright_leaves_the_field(nlu: BuiltinNlu) -> None:
    for text in ["我的预约", "我要退号", "show my bookings"]:
        assert leaves("name", text, nlu.parse(text, now=MONDAY_9AM)), text
    assert not leaves("id_number", "110105194912310021", nlu.parse("我的预约", now=MONDAY_9AM))
