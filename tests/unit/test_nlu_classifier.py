"""The intent model answers with scikit-learn's numbers, and survives a restart on disk."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack

from bot.runtime.nlu import vocabulary_from_catalogue
from nlu.classifier import fit_sklearn, mask, train_intent_model
from nlu.engine import BuiltinNlu
from nlu.model_store import load_model, model_key, save_model
from nlu.training_data import load_directory, read_sources
from tests.support import NLU_DATA, WEDNESDAY_10AM, demo_catalogue

TEXTS = ["挂 \ue001 的号", "我要退号", "hello there", "book \ue001 \ue004", "今天天气", "bye"]
INTENTS = ["book", "cancel", "greet", "book", "out_of_scope", "goodbye"]


def test_probabilities_are_scikit_learns(nlu: BuiltinNlu) -> None:
    texts = [example.text.lower() for example in load_directory(NLU_DATA).examples]
    intents = [example.intent for example in load_directory(NLU_DATA).examples]
    chars, words, sgd = fit_sklearn(texts, intents)
    model = train_intent_model(texts, intents)
    held_out = [example.text.lower() for example in load_directory(NLU_DATA / "test").examples]
    for text in [*held_out, "", "   ", "zzzz qqqq", "\ue001", "挂" * 3000]:
        expected = sgd.predict_proba(hstack([chars.transform([text]), words.transform([text])]))
        assert np.allclose(model.probabilities(text), expected[0], atol=1e-12)


def test_masking_replaces_names_with_placeholders() -> None:
    masked = mask("挂心内科张伟的号", [(1, 4, "department"), (4, 6, "doctor")])
    assert masked == "挂 \ue001  \ue002 的号"
    # A complaint is marked and still read: "a complaint", and which one.
    assert mask("胃不舒服", [(0, 4, "symptom")]) == " \ue00f 胃不舒服 "
    assert mask("胸痛", [(0, 2, "sign")]) == " \ue010 胸痛 "
    assert mask("哮喘", [(0, 2, "specialty")]) == "哮喘"  # specialties stay as written


def test_a_saved_model_answers_exactly_as_the_trained_one(tmp_path: Path) -> None:
    model = train_intent_model(TEXTS, INTENTS)
    save_model(tmp_path, "k1", model)
    loaded = load_model(tmp_path, "k1")
    assert loaded is not None
    for text in [*TEXTS, "挂号", "xyz"]:
        assert loaded.rank(text) == model.rank(text)
    assert load_model(tmp_path, "another-key") is None


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_a_broken_saved_model_is_ignored(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "intent-model-k1.npz").write_bytes(content)
    assert load_model(tmp_path, "k1") is None


def test_the_key_changes_with_the_data_and_the_catalogue() -> None:
    vocabulary = vocabulary_from_catalogue(demo_catalogue())
    sources = read_sources(NLU_DATA)
    key = model_key(sources, vocabulary)
    assert model_key(dict(sources), vocabulary) == key
    assert model_key(sources, replace(vocabulary, symptoms=("头晕",))) != key
    changed = {path: content + b"\n" for path, content in sources.items()}
    assert model_key(changed, vocabulary) != key


def test_a_model_that_does_not_fit_its_columns_is_ignored(tmp_path: Path) -> None:
    model = train_intent_model(TEXTS, INTENTS)
    save_model(tmp_path, "k1", replace(model, weights=model.weights[:-1]))
    assert load_model(tmp_path, "k1") is None


def test_a_restart_reuses_the_saved_model(tmp_path: Path) -> None:
    vocabulary = vocabulary_from_catalogue(demo_catalogue())
    first = BuiltinNlu.from_directory(vocabulary, NLU_DATA, saved_models=tmp_path)
    saved = list(tmp_path.glob("intent-model-*.npz"))
    assert len(saved) == 1
    second = BuiltinNlu.from_directory(vocabulary, NLU_DATA, saved_models=tmp_path)
    for text in ("帮我挂明天心内科的号", "what can you do", "算了"):
        assert second.parse(text, now=WEDNESDAY_10AM) == first.parse(text, now=WEDNESDAY_10AM)
    assert list(tmp_path.glob("intent-model-*.npz")) == saved
