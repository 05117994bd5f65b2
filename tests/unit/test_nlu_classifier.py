"""The classifier's own answering path gives scikit-learn's numbers, a few times faster."""

import numpy as np

from nlu.classifier import IntentClassifier, mask
from nlu.engine import BuiltinNlu
from nlu.training_data import load_directory
from tests.support import NLU_DATA


def test_probabilities_are_scikit_learns(nlu: BuiltinNlu) -> None:
    classifier: IntentClassifier = nlu._classifier
    texts = [example.text.lower() for example in load_directory(NLU_DATA / "test").examples]
    for text in [*texts, "", "   ", "zzzz qqqq", "\ue001", "挂" * 3000]:
        fast = classifier.probabilities(text)
        assert np.allclose(fast, classifier.sklearn_probabilities(text), atol=1e-12)
        assert abs(fast.sum() - 1.0) < 1e-9


def test_masking_replaces_names_with_placeholders() -> None:
    masked = mask("挂心内科张伟的号", [(1, 4, "department"), (4, 6, "doctor")])
    assert masked == "挂 \ue001  \ue002 的号"
    assert mask("胸痛", [(0, 2, "symptom")]) == "胸痛"  # symptoms stay as written
