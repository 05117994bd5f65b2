"""A trained intent model kept on disk, so that a restart answers in about a second instead of
training again. The file's name is a hash of everything the model depends on (the training
data, the catalogue's words, the NLU's own code and the libraries it uses), so a stale model is
never used; the file holds only numbers and strings (numpy's format without pickles, and JSON).
"""

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from nlu.classifier import Grams, IntentModel

log = logging.getLogger(__name__)
_FORMAT = "guahao-intent-model/1"
_CODE = Path(__file__).resolve().parent
# The features depend on these (masking uses the name, date and number finders; training
# uses scikit-learn), so an upgrade of any of them means a new model.
_LIBRARIES = (
    "scikit-learn", "numpy", "pypinyin", "opencc", "rapidfuzz", "phonenumbers",
    "python-stdnum", "cn2an",
)  # fmt: skip
_KEPT = 4  # models of other data or catalogues kept beside the current one (shared folders)


def model_key(sources: dict[Path, bytes], vocabulary: object) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    for path, content in sorted(sources.items()):
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    digest.update(repr(vocabulary).encode())
    for source in sorted(_CODE.glob("*.py")):
        digest.update(source.read_bytes())
    for library in _LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=none".encode())
    return digest.hexdigest()[:24]


def _path(directory: Path, key: str) -> Path:
    return directory / f"intent-model-{key}.npz"


def load_model(directory: Path, key: str) -> IntentModel | None:
    path = _path(directory, key)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(bytes(saved["meta"]).decode("utf-8"))
            model = IntentModel(
                intents=tuple(str(name) for name in meta["intents"]),
                chars=Grams(dict(meta["char_columns"]), saved["char_idf"]),
                words=Grams(dict(meta["word_columns"]), saved["word_idf"]),
                weights=saved["weights"],
                intercepts=saved["intercepts"],
            )
        if meta.get("format") != _FORMAT or not _consistent(model):
            raise ValueError("inconsistent model")
        return model
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as problem:
        log.warning("ignoring an unreadable saved intent model (%s)", type(problem).__name__)
        return None


def _consistent(model: IntentModel) -> bool:
    columns = len(model.chars.columns) + len(model.words.columns)
    return (
        model.weights.shape == (columns, len(model.intents))
        and model.intercepts.shape == (len(model.intents),)
        and model.chars.idf.shape == (len(model.chars.columns),)
        and model.words.idf.shape == (len(model.words.columns),)
        and set(model.chars.columns.values()) == set(range(len(model.chars.columns)))
        and set(model.words.columns.values()) == set(range(len(model.words.columns)))
    )


def save_model(directory: Path, key: str, model: IntentModel) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a model; a
    folder that cannot be written only costs the next start-up its speed."""
    meta = {
        "format": _FORMAT,
        "intents": list(model.intents),
        "char_columns": model.chars.columns,
        "word_columns": model.words.columns,
    }
    temporary: str | None = None
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
        os.replace(temporary, _path(directory, key))
        temporary = None
        others = sorted(
            (p for p in directory.glob("intent-model-*.npz") if p != _path(directory, key)),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in others[_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError as problem:
        log.warning("could not save the intent model (%s)", type(problem).__name__)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
