"""What the bot says, kept out of the logic: data/texts/<language>.yml, looked up by key and
filled in with str.format placeholders. Chinese is the default language."""

from __future__ import annotations

from pathlib import Path
from string import Formatter
from typing import Any

import yaml

from bot.settings import DATA_DIR

LANGUAGES = ("zh", "en")
TEXTS_DIR = DATA_DIR / "texts"


class Texts:
    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        self._catalogues = catalogues

    @classmethod
    def load(cls, directory: Path = TEXTS_DIR) -> Texts:
        catalogues = {}
        for language in LANGUAGES:
            document = yaml.safe_load((directory / f"{language}.yml").read_text(encoding="utf-8"))
            catalogues[language] = dict(_flatten(document or {}))
        return cls(catalogues)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogues[language])

    def say(self, language: str, key: str, **values: Any) -> str:
        """The text in that language (Chinese if the language is unknown), filled in. YAML's
        folded lines become single spaces."""
        catalogue = self._catalogues.get(language, self._catalogues["zh"])
        text = catalogue[key].format(**values) if values else catalogue[key]
        return " ".join(text.split())

    def placeholders(self, language: str, key: str) -> set[str]:
        return {
            name for _, name, _, _ in Formatter().parse(self._catalogues[language][key]) if name
        }


def doctor_named(texts: Texts, language: str, name: str, name_en: str, work_no: str) -> str:
    """A doctor as patients read it, with the work number (工号) the SMS quick command takes:
    张伟（工号00868）; in English also the name as written at the hospital, since two doctors
    may share an English name (Zhang Wei 张伟 (no. 00868))."""
    shown = f"{name_en} {name}" if language == "en" and name_en else name
    return texts.say(language, "doctor_named", name=shown, work_no=work_no)


def _flatten(document: dict[Any, Any], prefix: str = "") -> list[tuple[str, str]]:
    """{"refusal": {"slot_full": "…"}} -> [("refusal.slot_full", "…")]."""
    items: list[tuple[str, str]] = []
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{name}."))
        elif isinstance(value, list):  # weekday: [周一, …] -> weekday.0 … weekday.6
            items.extend(_flatten(dict(enumerate(value)), f"{name}."))
        else:
            items.append((name, str(value)))
    return items
