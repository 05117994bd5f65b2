"""``guahao nlu``: understand messages from the command line, and score the NLU.

``guahao nlu parse`` writes Rasa's parse-result shape (one JSON object per line when it reads
stdin), with ``value`` the normalised value: the interface other tools and evaluations use.
A stdin line that is not UTF-8 is reported on stderr by its number (never its content: it may
be what a patient typed) and gets ``{"error": "invalid_utf8", "line": N}`` on stdout, so that
output lines still pair with input lines; the rest are parsed, and the exit code is 1.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from booking.errors import BookingError
from bot.cli.common import fail, load_settings
from bot.cli.output import emit, emit_json
from bot.runtime.catalogue import read_catalogue
from bot.runtime.nlu import build_builtin
from nlu.evaluate import Report, Scores, evaluate, format_report
from nlu.rasa_server import RasaServerNlu, RasaUnavailable
from nlu.result import Understanding
from nlu.training_data import TrainingDataError, load_directory

nlu_app = typer.Typer(help="Understanding messages (NLU).", no_args_is_help=True)

# The held-out split's dates are written relative to this moment (a Wednesday).
TEST_SPLIT_NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")

CatalogueOpt = Annotated[
    Path | None, typer.Option(help="Catalogue YAML for names (default: GUAHAO_DEMO_FILE).")
]
DataOpt = Annotated[
    Path | None, typer.Option(help="Training data folder (default: GUAHAO_NLU_DATA).")
]


def _now(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail("invalid_date", f"--now {text!r} is not an ISO date-time like 2026-11-25T10:00+08:00")
    if moment.tzinfo is None:
        fail("invalid_date", "--now needs a UTC offset, e.g. 2026-11-25T10:00:00+08:00")
    return moment


def _builtin(catalogue: Path | None, data: Path | None) -> Understanding:
    settings = load_settings()
    try:
        return build_builtin(
            read_catalogue(catalogue or settings.demo_file),
            data or settings.nlu_data,
            settings.nlu_models,
        )
    except BookingError as exc:
        fail(exc.reason, exc.message)
    except TrainingDataError as exc:
        fail("nlu_data", str(exc))


@nlu_app.command("parse")
def parse(
    text: Annotated[
        str | None, typer.Argument(help="The message; none: one per stdin line.")
    ] = None,
    now: Annotated[str | None, typer.Option(help="ISO date-time dates are relative to.")] = None,
    lang: Annotated[str | None, typer.Option(help="Language hint: zh or en.")] = None,
    catalogue: CatalogueOpt = None,
    data: DataOpt = None,
) -> None:
    """Understand one message, or every line of stdin (JSON lines out)."""
    settings = load_settings()
    moment = _now(now, settings.fixed_now or datetime.now(UTC))
    nlu = _builtin(catalogue, data)
    if text is not None:
        emit_json(nlu.parse(text, now=moment, lang_hint=lang).to_rasa())
        return
    bad = 0
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        out: dict[str, object]
        try:
            line = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
            typer.echo(f"error: invalid_utf8: line {number} is not UTF-8, skipped", err=True)
            out = {"error": "invalid_utf8", "line": number}
        else:
            out = nlu.parse(line, now=moment, lang_hint=lang).to_rasa()
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if bad:
        raise typer.Exit(1)


@nlu_app.command("eval")
def evaluate_command(
    test: Annotated[
        Path | None, typer.Option(help="Held-out data folder (default: <data>/test).")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="The moment the test split's dates are relative to.")
    ] = None,
    rasa_url: Annotated[
        str | None, typer.Option(help="Score a Rasa server (POST /model/parse) instead.")
    ] = None,
    misses: Annotated[int, typer.Option(help="Also list this many misclassified messages.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    catalogue: CatalogueOpt = None,
    data: DataOpt = None,
) -> None:
    """Score the NLU on the held-out split: accuracy, per-intent and per-entity F1, confusions."""
    settings = load_settings()
    moment = _now(now, TEST_SPLIT_NOW)
    test_dir = test or (data or settings.nlu_data) / "test"
    try:
        examples = load_directory(test_dir).examples
    except TrainingDataError as exc:
        fail("nlu_data", str(exc))
    nlu: Understanding
    if rasa_url:
        nlu = RasaServerNlu(rasa_url, check_emergency=False, timeout=10.0)
    else:
        nlu = _builtin(catalogue, data)
    try:
        report = evaluate(nlu, examples, moment)
    except RasaUnavailable as exc:
        fail("rasa_unavailable", f"no answer from {rasa_url}: {exc}")
    if as_json:
        emit_json(report_dict(report))
    else:
        emit(format_report(report, misses=misses))


def report_dict(report: Report) -> dict[str, object]:
    def scores(table: dict[str, Scores]) -> dict[str, object]:
        return {
            name: {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "support": s.support,
            }
            for name, s in table.items()
        }

    return {
        "examples": report.examples,
        "intent_accuracy": round(report.intent_accuracy, 4),
        "entity_f1": round(report.entity_overall.f1, 4),
        "entity_precision": round(report.entity_overall.precision, 4),
        "entity_recall": round(report.entity_overall.recall, 4),
        "entity_span_f1": round(report.entity_spans.f1, 4),
        "out_of_scope_recall": round(report.out_of_scope_recall, 4),
        "in_scope_rejected": round(report.in_scope_rejected, 4),
        "intents": scores(report.intents),
        "entities": scores(report.entities),
        "confusions": [
            {"expected": a, "predicted": b, "count": n} for a, b, n in report.confusions
        ],
    }
