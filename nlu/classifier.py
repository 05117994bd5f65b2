"""The intent classifier: TF-IDF over character n-grams (Chinese has no spaces; typos keep most
n-grams) and Latin word n-grams, into a linear model with logistic loss, whose probabilities are
the confidences. Names, dates and numbers are masked first, so it learns "挂<department>的号",
not "挂心内科的号", and a doctor added to the catalogue needs no new training data.

scikit-learn fits the model (SGD: as accurate here as L-BFGS and ten times faster); answering
uses only the fitted numbers, in an `IntentModel` that can be saved and loaded without
scikit-learn (see nlu.model_store), which keeps start-up and each answer fast."""

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from nlu.result import IntentScore

# One private-use character per masked entity type keeps n-grams short and never clashes
# with what patients type.
PLACEHOLDERS = {
    "department": "\ue001",
    "doctor": "\ue002",
    "hospital": "\ue003",
    "date": "\ue004",
    "time_of_day": "\ue005",
    "time": "\ue006",
    "id_number": "\ue007",
    "phone": "\ue008",
    "booking_no": "\ue009",
    "complaint_no": "\ue00a",
    "person_name": "\ue00d",
    "temperature": "\ue00e",  # 39度, 102F: the digits say nothing of the intent, a fever does
    # A complaint, and an emergency sign: patients name hundreds (胃不舒服, 老胃病, "sore
    # knee"), and what matters to the intent is that they name one, and whether it is a sign.
    "symptom": "\ue00f",
    "sign": "\ue010",
}
# Marked, and still read: 喘不动气 says more than "a symptom" (an emergency the signs do not
# list), and the mark says what 老胃病 and "sore knee" have in common.
_KEPT = ("symptom", "sign")
# Specialties stay as written: "谁擅长哮喘" asks for a doctor, and they are few.
_WORDS = re.compile(r"[a-z]+|[\ue001-\ue010]")
_SPACES = re.compile(r"\s\s+")


def mask(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """Replace each (start, end, entity) span of `text` with its placeholder."""
    pieces: list[str] = []
    position = 0
    for start, end, entity in sorted(spans):
        if start < position or entity not in PLACEHOLDERS:
            continue
        pieces.append(text[position:start])
        pieces.append(f" {PLACEHOLDERS[entity]} ")
        if entity in _KEPT:
            pieces.append(f"{text[start:end]} ")
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def char_ngrams(text: str) -> list[str]:
    """Character 1-, 2- and 3-grams, runs of white space counted as one space."""
    text = _SPACES.sub(" ", text)
    grams = list(text)
    for size in (2, 3):
        grams.extend(text[i : i + size] for i in range(len(text) - size + 1))
    return grams


def word_ngrams(text: str) -> list[str]:
    """Latin words and placeholders, and pairs of them."""
    words = _WORDS.findall(text)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


@dataclass(frozen=True, slots=True)
class Grams:
    """One feature set: n-gram -> column, with its inverse document frequencies."""

    columns: dict[str, int]
    idf: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class IntentModel:
    intents: tuple[str, ...]
    chars: Grams
    words: Grams
    weights: npt.NDArray[np.float64]  # (char columns + word columns) x intents
    intercepts: npt.NDArray[np.float64]

    @property
    def known_words(self) -> frozenset[str]:
        return frozenset(w for w in self.words.columns if " " not in w and w.isascii())

    def probabilities(self, text: str) -> npt.NDArray[np.float64]:
        """What scikit-learn's predict_proba gives for this text (a test checks it), computed
        with a few numpy operations: its input checks alone cost about 1 ms per call."""
        scores = self.intercepts.copy()
        offset = 0
        for vocabulary, grams in ((self.chars, char_ngrams(text)), (self.words, word_ngrams(text))):
            counts: dict[int, int] = {}
            for gram in grams:
                column = vocabulary.columns.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if counts:
                columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
                values = tf * vocabulary.idf[columns]
                values /= np.sqrt(values @ values)
                scores += values @ self.weights[columns + offset]
            offset += len(vocabulary.columns)
        # One-vs-rest logistic outputs, normalised to sum to one, as SGDClassifier does.
        ones: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-scores))
        normalised: npt.NDArray[np.float64] = ones / ones.sum()
        return normalised

    def rank(self, text: str) -> tuple[IntentScore, ...]:
        scores = [
            IntentScore(name, float(probability))
            for name, probability in zip(self.intents, self.probabilities(text), strict=True)
        ]
        return tuple(sorted(scores, key=lambda score: -score.confidence))


def fit_sklearn(texts: Sequence[str], intents: Sequence[str]) -> tuple[Any, Any, Any]:
    """The fitted (character vectorizer, word vectorizer, classifier)."""
    from scipy.sparse import hstack  # only for training: importing them takes about 1 s
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    chars = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True)
    words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True)
    # A fixed seed: the same data always gives the same model and the same answers.
    model = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, random_state=0)
    features = hstack([chars.fit_transform(texts), words.fit_transform(texts)]).tocsr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on small data sets
        model.fit(features, list(intents))
    return chars, words, model


def train_intent_model(texts: Sequence[str], intents: Sequence[str]) -> IntentModel:
    chars, words, model = fit_sklearn(texts, intents)
    return IntentModel(
        intents=tuple(str(name) for name in model.classes_),
        chars=Grams({str(k): int(v) for k, v in chars.vocabulary_.items()}, chars.idf_),
        words=Grams({str(k): int(v) for k, v in words.vocabulary_.items()}, words.idf_),
        weights=np.ascontiguousarray(model.coef_.T, dtype=np.float64),
        intercepts=np.asarray(model.intercept_, dtype=np.float64),
    )
