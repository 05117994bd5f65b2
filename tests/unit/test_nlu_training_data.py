"""The training data is Rasa 3 NLU YAML that a hospital can extend; the test split stays apart."""

from pathlib import Path

import pytest

from nlu.result import ENTITY_TYPES, INTENTS
from nlu.training_data import TrainingDataError, load_directory, load_file, parse_example
from tests.support import NLU_DATA


def test_marks_become_entities_on_the_plain_text() -> None:
    example = parse_example(
        '帮我挂[明天](date)[心内科]{"entity": "department", "value": "CARD"}的号', "book"
    )
    assert example.text == "帮我挂明天心内科的号"
    assert [(m.entity, m.value, example.text[m.start : m.end]) for m in example.marks] == [
        ("date", "明天", "明天"),
        ("department", "CARD", "心内科"),
    ]


def test_synonyms_and_lookups(tmp_path: Path) -> None:
    path = tmp_path / "extra.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n'
        "- synonym: 高血压\n  examples: |\n    - hypertension\n    - High Blood Pressure\n"
        "- lookup: symptom\n  examples: |\n    - 头晕眼花\n"
        '- intent: book\n  examples: |\n    - see [heart doctor]{"entity": "department", '
        '"value": "CARD"}\n',
        encoding="utf-8",
    )
    data = load_file(path)
    assert data.synonyms["high blood pressure"] == "高血压"
    assert data.synonyms["heart doctor"] == "CARD"  # a mark with a value is a synonym too
    assert data.lookups["symptom"] == ["头晕眼花"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("nlu: [", "cannot read"),
        ("- just a list", "expected a mapping"),
        ("nlu:\n- intent: book\n  examples: 5\n", "block of '- ' lines"),
        ("nlu:\n- intent: book\n  examples: |\n    no dash\n", "without '- '"),
        ('nlu:\n- intent: book\n  examples: |\n    - [x]{"value": 1}\n', "without an entity"),
    ],
)
def test_a_broken_file_names_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TrainingDataError, match=problem):
        load_file(path)


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.yml"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(TrainingDataError, match="cannot read"):
        load_file(path)


def test_the_project_data_covers_every_intent_and_entity_in_both_languages() -> None:
    train = load_directory(NLU_DATA)
    test = load_directory(NLU_DATA / "test")
    for data in (train, test):
        assert {example.intent for example in data.examples} == set(INTENTS)
        marked = {mark.entity for example in data.examples for mark in example.marks}
        assert marked == set(ENTITY_TYPES)
        english = [e for e in data.examples if e.text.isascii()]
        assert len(english) > len(data.examples) / 4


def test_the_held_out_split_is_never_trained_on() -> None:
    train = load_directory(NLU_DATA)
    test = load_directory(NLU_DATA / "test")
    train_texts = {example.text.strip().lower() for example in train.examples}
    assert not [e.text for e in test.examples if e.text.strip().lower() in train_texts]
    assert len(test.examples) >= 500
