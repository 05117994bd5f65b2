"""Scoring an NLU on held-out examples: intent accuracy, per-intent and per-entity precision,
recall and F1, the out-of-scope figures and the most common confusions.

An entity counts as right when its type and normalised value are right. A doctor that the data
marks as ambiguous ("00868|02216") is right when the NLU offers exactly those candidates. The
span score (type and offsets only) is also given, for comparison with NLUs that do not
normalise values, such as a plain Rasa model.

Some words carry two entities: 我妈 is a relation (mother) and an age group (elderly). Rasa's
format marks one entity a span, so a second reading within a marked span (妈 of [我妈], "mum"
of [my mum]) is not counted either way; anything else the NLU finds unmarked is a false
positive."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from nlu.result import Entity, Understanding
from nlu.training_data import Example, Mark


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int

    @classmethod
    def of(cls, true_positive: int, predicted: int, expected: int) -> "Scores":
        precision = true_positive / predicted if predicted else (1.0 if not expected else 0.0)
        recall = true_positive / expected if expected else (1.0 if not predicted else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, expected)


@dataclass(frozen=True, slots=True)
class Miss:
    text: str
    expected: str
    got: str


@dataclass(slots=True)
class Report:
    examples: int = 0
    intent_accuracy: float = 0.0
    intents: dict[str, Scores] = field(default_factory=dict)
    entities: dict[str, Scores] = field(default_factory=dict)
    entity_overall: Scores = field(default_factory=lambda: Scores(0, 0, 0, 0))
    entity_spans: Scores = field(default_factory=lambda: Scores(0, 0, 0, 0))
    out_of_scope_recall: float = 0.0
    in_scope_rejected: float = 0.0
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    intent_misses: list[Miss] = field(default_factory=list)
    entity_misses: list[Miss] = field(default_factory=list)


def _value_matches(mark: Mark, entity: Entity) -> bool:
    if mark.entity != entity.entity:
        return False
    if "|" in mark.value:
        offered = set(entity.candidates) or {entity.value}
        return offered == set(mark.value.split("|"))
    return mark.value.strip().lower() == entity.value.strip().lower()


def _count_matches(
    marks: Iterable[Mark], entities: Iterable[Entity], same: Callable[[Mark, Entity], bool]
) -> int:
    left = list(entities)
    matched = 0
    for mark in marks:
        for index, entity in enumerate(left):
            if same(mark, entity):
                matched += 1
                del left[index]
                break
    return matched


def _span_matches(mark: Mark, entity: Entity) -> bool:
    return mark.entity == entity.entity and (mark.start, mark.end) == (entity.start, entity.end)


def _second_readings_left_out(marks: tuple[Mark, ...], entities: Iterable[Entity]) -> list[Entity]:
    """The entities to score: not one within a mark of another type, unless a mark of its own
    type is there too."""
    return [
        e
        for e in entities
        if any(m.entity == e.entity and m.start <= e.start and e.end <= m.end for m in marks)
        or not any(m.start <= e.start and e.end <= m.end for m in marks)
    ]


def evaluate(nlu: Understanding, examples: list[Example], now: datetime) -> Report:
    report = Report(examples=len(examples))
    correct = 0
    intent_tp: Counter[str] = Counter()
    intent_predicted: Counter[str] = Counter()
    intent_expected: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    entity_tp: Counter[str] = Counter()
    entity_predicted: Counter[str] = Counter()
    entity_expected: Counter[str] = Counter()
    span_tp = 0
    for example in examples:
        parse = nlu.parse(example.text, now=now)
        intent_expected[example.intent] += 1
        intent_predicted[parse.intent] += 1
        if parse.intent == example.intent:
            correct += 1
            intent_tp[example.intent] += 1
        else:
            confusions[(example.intent, parse.intent)] += 1
            report.intent_misses.append(Miss(example.text, example.intent, parse.intent))
        entities = _second_readings_left_out(example.marks, parse.entities)
        for kind in {m.entity for m in example.marks} | {e.entity for e in entities}:
            marks = [m for m in example.marks if m.entity == kind]
            found = [e for e in entities if e.entity == kind]
            hits = _count_matches(marks, found, _value_matches)
            entity_tp[kind] += hits
            entity_expected[kind] += len(marks)
            entity_predicted[kind] += len(found)
            if hits < max(len(marks), len(found)):
                report.entity_misses.append(
                    Miss(
                        example.text,
                        _show(m.entity + "=" + m.value for m in marks),
                        _show(_describe(e) for e in found),
                    )
                )
        span_tp += _count_matches(example.marks, parse.entities, _span_matches)
    report.intent_accuracy = correct / len(examples) if examples else 0.0
    for intent in sorted(intent_expected | intent_predicted):
        report.intents[intent] = Scores.of(
            intent_tp[intent], intent_predicted[intent], intent_expected[intent]
        )
    for kind in sorted(entity_expected | entity_predicted):
        report.entities[kind] = Scores.of(
            entity_tp[kind], entity_predicted[kind], entity_expected[kind]
        )
    total_expected = sum(entity_expected.values())
    total_predicted = sum(entity_predicted.values())
    report.entity_overall = Scores.of(sum(entity_tp.values()), total_predicted, total_expected)
    report.entity_spans = Scores.of(span_tp, total_predicted, total_expected)
    out_of_scope = report.intents.get("out_of_scope")
    report.out_of_scope_recall = out_of_scope.recall if out_of_scope else 0.0
    in_scope = [e for e in examples if e.intent != "out_of_scope"]
    rejected = sum(
        1 for m in report.intent_misses if m.got == "out_of_scope" and m.expected != "out_of_scope"
    )
    report.in_scope_rejected = rejected / len(in_scope) if in_scope else 0.0
    report.confusions = [(a, b, n) for (a, b), n in confusions.most_common()]
    return report


def _describe(entity: Entity) -> str:
    value = "|".join(entity.candidates) if entity.candidates else entity.value
    return f"{entity.entity}={value}"


def _show(items: Iterable[str]) -> str:
    return ", ".join(items) or "-"


def format_report(report: Report, *, misses: int = 0) -> str:
    lines = [
        f"examples: {report.examples}",
        f"intent accuracy: {report.intent_accuracy:.2%}",
        f"entity F1 (type and value): {report.entity_overall.f1:.3f}  "
        f"(precision {report.entity_overall.precision:.3f}, "
        f"recall {report.entity_overall.recall:.3f})",
        f"entity F1 (type and span):  {report.entity_spans.f1:.3f}",
        f"out-of-scope recall: {report.out_of_scope_recall:.2%}; "
        f"in-scope messages rejected: {report.in_scope_rejected:.2%}",
        "",
        f"{'intent':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}",
    ]
    for name, scores in report.intents.items():
        lines.append(_row(name, scores))
    lines += ["", f"{'entity':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
    for name, scores in report.entities.items():
        lines.append(_row(name, scores))
    lines += ["", "confusions (expected -> predicted: count):"]
    lines += [f"  {a} -> {b}: {n}" for a, b, n in report.confusions[:20]] or ["  none"]
    if misses:
        lines += ["", "intent misses:"]
        lines += [f"  [{m.expected} -> {m.got}] {m.text}" for m in report.intent_misses[:misses]]
        lines += ["", "entity misses (expected | got):"]
        lines += [f"  {m.text}\n    {m.expected} | {m.got}" for m in report.entity_misses[:misses]]
    return "\n".join(lines)


def _row(name: str, scores: Scores) -> str:
    return (
        f"{name:<18} {scores.precision:>9.3f} {scores.recall:>7.3f} {scores.f1:>6.3f} "
        f"{scores.support:>7}"
    )
