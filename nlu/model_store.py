"""A trained intent model kept on disk, so that a restart answers in about a second instead of
training again. The file's name is a hash of everything the model depends on (the training
data, the catalogue's words, the NLU's own code), so a stale model is never used; the file
holds only numbers and strings (numpy's format without pickles, and JSON)."""

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from nlu.classifier import Grams, IntentModel

log = logging.getLogger(__name__)
_FORMAT = "guahao-intent-model/1"
_CODE = Path(__file__).resolve().parent


def model_key(training_files: Iterable[Path], vocabulary: object) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    for path in sorted(training_files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(repr(vocabulary).encode())
    for source in sorted(_CODE.glob("*.py")):  # masking and features come from this code
        digest.update(source.read_bytes())
    return digest.hexdigest()[:24]


def load_model(directory: Path, key: str) -> IntentModel | None:
    path = directory / f"intent-model-{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(bytes(saved["meta"]).decode("utf-8"))
            if meta.get("format") != _FORMAT:
                return None
            return IntentModel(
                intents=tuple(meta["intents"]),
                chars=Grams(meta["char_columns"], saved["char_idf"]),
                words=Grams(meta["word_columns"], saved["word_idf"]),
                weights=saved["weights"],
                intercepts=saved["intercepts"],
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as problem:
        log.warning("ignoring an unreadable saved intent model (%s)", type(problem).__name__)
        return None


def save_model(directory: Path, key: str, model: IntentModel) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a model; a
    folder that cannot be written only costs the next start-up its speed."""
    meta = {
        "format": _FORMAT,
        "intents": list(model.intents),
        "char_columns": model.chars.columns,
        "word_columns": model.words.columns,
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(
                out,
                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
                char_idf=model.chars.idf,
                word_idf=model.words.idf,
                weights=model.weights,
                intercepts=model.intercepts,
            )
        os.replace(temporary, directory / f"intent-model-{key}.npz")
        for old in directory.glob("intent-model-*.npz"):
            if old.name != f"intent-model-{key}.npz":
                old.unlink(missing_ok=True)
    except OSError as problem:
        log.warning("could not save the intent model (%s)", type(problem).__name__)
