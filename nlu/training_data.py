"""Reading training and test data written in Rasa 3's NLU YAML format: intents with
`[text](entity)` or `[text]{"entity": …, "value": …}` marks, synonyms and lookup tables."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# libyaml's safe loader when available: several times faster at start-up.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MARK = re.compile(
    r"\[(?P<text>[^\]\n]+)\]"
    r"(?:\((?P<entity>[^)\n]+)\)|(?P<json>\{[^}\n]*\}))"
)


class TrainingDataError(ValueError):
    """A data file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Mark:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    marks: tuple[Mark, ...] = ()


@dataclass(slots=True)
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form (lower) -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)
    # Surface forms of `synonym` blocks. A mark's value makes a synonym too, but one word may be
    # marked as two entities ([我妈] a relation, mother, here; an age group, elderly, in the
    # block): the block's word stands, whatever file comes first.
    declared: set[str] = field(default_factory=set)

    def extend(self, other: "TrainingData") -> None:
        self.examples.extend(other.examples)
        for surface, value in other.synonyms.items():
            if surface in other.declared or surface not in self.declared:
                self.synonyms[surface] = value
        self.declared |= other.declared
        for name, terms in other.lookups.items():
            self.lookups.setdefault(name, []).extend(terms)


def parse_example(line: str, intent: str) -> Example:
    """`帮我挂[明天](date)的号` -> text 帮我挂明天的号 with a date mark on 明天."""
    pieces: list[str] = []
    marks: list[Mark] = []
    position = 0
    length = 0
    for match in _MARK.finditer(line):
        pieces.append(line[position : match.start()])
        length += match.start() - position
        surface = match.group("text")
        entity, value = _entity_and_value(match, surface)
        marks.append(Mark(entity, value, length, length + len(surface)))
        pieces.append(surface)
        length += len(surface)
        position = match.end()
    pieces.append(line[position:])
    return Example("".join(pieces), intent, tuple(marks))


def _entity_and_value(match: re.Match[str], surface: str) -> tuple[str, str]:
    if match.group("entity") is not None:
        entity, _, value = match.group("entity").partition(":")  # Rasa 1's (entity:value)
        return entity.strip(), (value.strip() or surface)
    try:
        spec = json.loads(match.group("json"))
    except json.JSONDecodeError as error:
        raise TrainingDataError(f"bad entity mark {match.group(0)!r}: {error}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
        raise TrainingDataError(f"entity mark without an entity name: {match.group(0)!r}")
    return spec["entity"], str(spec.get("value", surface))


def _lines(block: Any, where: str) -> list[str]:
    if not isinstance(block, str):
        raise TrainingDataError(f"{where}: 'examples' must be a block of '- ' lines")
    lines = []
    for raw in block.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise TrainingDataError(f"{where}: example line without '- ': {stripped[:40]!r}")
        lines.append(stripped[2:].strip())
    return lines


def load_file(path: Path, content: bytes | None = None) -> TrainingData:
    """One file; `content` when its bytes have been read already."""
    try:
        raw = path.read_bytes() if content is None else content
        document = yaml.load(raw.decode("utf-8"), Loader=_Loader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise TrainingDataError(f"{path}: cannot read: {error}") from None
    data = TrainingData()
    if document is None:
        return data
    if not isinstance(document, dict) or not isinstance(document.get("nlu", []), list):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu' list")
    for item in document.get("nlu") or []:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{path}: every 'nlu' item must be a mapping")
        if "intent" in item:
            intent = str(item["intent"])
            for line in _lines(item.get("examples"), f"{path}: intent {intent}"):
                data.examples.append(parse_example(line, intent))
        elif "synonym" in item:
            value = str(item["synonym"])
            for line in _lines(item.get("examples"), f"{path}: synonym {value}"):
                data.synonyms[line.lower()] = value
                data.declared.add(line.lower())
        elif "lookup" in item:
            name = str(item["lookup"])
            data.lookups.setdefault(name, []).extend(
                _lines(item.get("examples"), f"{path}: lookup {name}")
            )
        # regex and other Rasa keys are Rasa's own business.
    for example in data.examples:
        for mark in example.marks:
            if mark.value != example.text[mark.start : mark.end]:
                data.synonyms.setdefault(example.text[mark.start : mark.end].lower(), mark.value)
    return data


def training_files(directory: Path) -> list[Path]:
    """Every *.yml / *.yaml file directly in the folder (not its test/ subfolder)."""
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def read_sources(directory: Path) -> dict[Path, bytes]:
    """The training files' bytes, read once: what is trained on is what is hashed."""
    files = training_files(directory)
    if not files:
        raise TrainingDataError(f"{directory}: no training data files (*.yml)")
    try:
        return {path: path.read_bytes() for path in files}
    except OSError as error:
        raise TrainingDataError(f"{directory}: cannot read: {error}") from None


def load_sources(sources: dict[Path, bytes]) -> TrainingData:
    data = TrainingData()
    for path, content in sources.items():
        data.extend(load_file(path, content))
    return data


def load_directory(directory: Path) -> TrainingData:
    return load_sources(read_sources(directory))
