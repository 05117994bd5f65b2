"""NLU benchmark (issue 3): start-up time, per-message latency on one core, and the held-out
scores of the built-in NLU — and, with ``--rasa-url``, of a Rasa server on the same messages.

Run from the repository root:

    .venv/bin/python bench/nlu.py                 # rewrites the NLU part of docs/benchmarks.md
    .venv/bin/python bench/nlu.py --no-docs --rounds 1          # quick look
    .venv/bin/python bench/nlu.py --rasa-url http://127.0.0.1:5005   # scripts/rasa_compare.sh

Latency is measured in this process, one message at a time, over every message of the held-out
split (several rounds, after a warm-up round); the Rasa figures are HTTP round trips to a
server on 127.0.0.1, as the bot would see them. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "on one core": no BLAS threads
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_and_memory, load_average, now_line, system_and_python  # noqa: E402
from bot.cli.nlu import TEST_SPLIT_NOW, report_dict  # noqa: E402
from bot.runtime.catalogue import read_catalogue  # noqa: E402
from bot.runtime.nlu import build_builtin  # noqa: E402
from nlu.evaluate import Report, evaluate  # noqa: E402
from nlu.rasa_server import RasaServerNlu  # noqa: E402
from nlu.result import Understanding  # noqa: E402
from nlu.training_data import load_directory  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
DATA = ROOT / "data" / "nlu"
CATALOGUE = ROOT / "data" / "demo_hospital.yaml"
BEGIN, END = "<!-- bench:nlu:begin (written by bench/nlu.py) -->", "<!-- bench:nlu:end -->"
RASA_BEGIN = "<!-- bench:rasa:begin (written by bench/nlu.py --rasa-url) -->"
RASA_END = "<!-- bench:rasa:end -->"
# From a bare interpreter to a model that answers: imports, catalogue, training data, and
# training (cold) or loading the model saved by an earlier start (warm).
STARTUP = (
    "import sys; from pathlib import Path; import yaml; "
    "from booking.files.catalogue import catalogue_from_data; "
    "from bot.runtime.nlu import build_builtin; from datetime import datetime, UTC; "
    "data = yaml.safe_load(Path('data/demo_hospital.yaml').read_text(encoding='utf-8')); "
    "nlu = build_builtin(catalogue_from_data(data), Path('data/nlu'), Path(sys.argv[1])); "
    "nlu.parse('帮我挂明天心内科的号', now=datetime.now(UTC))"
)


def startup_seconds(times: int, *, warm: bool) -> list[float]:
    """A fresh interpreter made ready to answer, as the service does when it starts: cold with
    no saved model (it trains), warm with the model saved by the previous start."""
    measured = []
    with tempfile.TemporaryDirectory() as saved:
        if warm:
            subprocess.run([sys.executable, "-c", STARTUP, saved], cwd=ROOT, check=True)
        for _ in range(times):
            if not warm:
                for old in Path(saved).iterdir():
                    old.unlink()
            started = perf_counter()
            subprocess.run(
                [sys.executable, "-c", STARTUP, saved], cwd=ROOT, check=True, capture_output=True
            )
            measured.append(perf_counter() - started)
    return measured


def latencies(nlu: Understanding, texts: list[str], rounds: int) -> list[float]:
    for text in texts:  # warm-up: caches, lazy imports
        nlu.parse(text, now=TEST_SPLIT_NOW)
    measured = []
    for _ in range(rounds):
        for text in texts:
            started = perf_counter()
            nlu.parse(text, now=TEST_SPLIT_NOW)
            measured.append(perf_counter() - started)
    return measured


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def machine() -> list[str]:
    import sklearn

    return [
        f"{cpu_and_memory()}; load average before the run {load_average()}",
        system_and_python("scikit-learn", sklearn.__version__),
        now_line(),
    ]


def scores_line(report: Report) -> str:
    return (
        f"| {report.intent_accuracy:.1%} | {report.entity_overall.f1:.3f} "
        f"| {report.entity_spans.f1:.3f} | {report.out_of_scope_recall:.1%} "
        f"| {report.in_scope_rejected:.1%} |"
    )


def write_section(begin: str, end: str, section: str) -> None:
    block = f"{begin}\n{section}\n{end}"
    text = DOCS.read_text(encoding="utf-8")
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds over the split")
    parser.add_argument("--startups", type=int, default=3, help="fresh start-ups to time")
    parser.add_argument("--rasa-url", help="also measure a Rasa server at this URL")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs")
    args = parser.parse_args(argv)

    examples = load_directory(DATA / "test").examples
    texts = [example.text for example in examples]
    started = perf_counter()
    builtin = build_builtin(read_catalogue(CATALOGUE), DATA)
    in_process_start = perf_counter() - started
    cold = statistics.median(startup_seconds(args.startups, warm=False))
    warm = statistics.median(startup_seconds(args.startups, warm=True))
    report = evaluate(builtin, examples, TEST_SPLIT_NOW)
    measured = latencies(builtin, texts, args.rounds)
    huge = "我想挂号。" * 6_826 + "现在胸口剧痛"  # 100 KB in UTF-8, the sign at the very end
    started = perf_counter()
    huge_parse = builtin.parse(huge, now=TEST_SPLIT_NOW)
    huge_seconds = perf_counter() - started

    p50, p99 = percentile(measured, 0.5) * 1000, percentile(measured, 0.99) * 1000
    targets = [
        ("p50 latency ≤ 2 ms", p50 <= 2),
        ("p99 latency ≤ 10 ms", p99 <= 10),
        ("ready ≤ 3 s at start-up", cold <= 3),
        ("intent accuracy ≥ 95%", report.intent_accuracy >= 0.95),
        ("entity F1 ≥ 0.95", report.entity_overall.f1 >= 0.95),
        ("out-of-scope recall ≥ 0.8", report.out_of_scope_recall >= 0.8),
        ("in-scope rejected ≤ 5%", report.in_scope_rejected <= 0.05),
        ("emergency in a 100 KB message", huge_parse.intent == "emergency"),
    ]
    lines = [
        "## NLU: latest run",
        "",
        *machine(),
        "",
        "Command: `python bench/nlu.py`",
        "",
        f"Held-out split: {len(examples)} messages (`data/nlu/test/`), never trained on; "
        f"{args.rounds} timed rounds in one process after a warm-up round. Start-ups are "
        f"medians of {args.startups} fresh processes (imports, catalogue, data, model).",
        "",
        "| Start-up, cold (trains) | Start-up, warm (saved model) | Build in this process "
        "| p50 | p99 | max | 100 KB message |",
        "|--:|--:|--:|--:|--:|--:|--:|",
        f"| {cold:.2f} s | {warm:.2f} s | {in_process_start:.2f} s | {p50:.2f} ms "
        f"| {p99:.2f} ms | {max(measured) * 1000:.1f} ms | {huge_seconds * 1000:.1f} ms |",
        "",
        "| NLU | Intent accuracy | Entity F1 (value) | Entity F1 (span) | OOS recall "
        "| In-scope rejected |",
        "|---|--:|--:|--:|--:|--:|",
        "| built-in " + scores_line(report),
        "",
        "Targets: " + "; ".join(f"{name}: {'pass' if ok else '**FAIL**'}" for name, ok in targets),
    ]
    print("\n".join(lines))
    if args.rasa_url:
        rasa = RasaServerNlu(args.rasa_url, check_emergency=False, timeout=10.0)
        rasa_report = evaluate(rasa, examples, TEST_SPLIT_NOW)
        rasa_times = latencies(rasa, texts, 1)
        rasa_lines = [
            "## NLU: built-in against Rasa 3.6 on the same data",
            "",
            *machine(),
            "",
            "Command: `scripts/rasa_compare.sh` (Rasa trained on `data/nlu`, served on 127.0.0.1)",
            "",
            "| NLU | Intent accuracy | Entity F1 (value) | Entity F1 (span) | OOS recall "
            "| In-scope rejected | p50 | p99 |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
            "| built-in, in process " + scores_line(report) + f" {p50:.2f} ms | {p99:.2f} ms |",
            "| Rasa 3.6 DIET over HTTP "
            + scores_line(rasa_report)
            + f" {percentile(rasa_times, 0.5) * 1000:.2f} ms "
            f"| {percentile(rasa_times, 0.99) * 1000:.2f} ms |",
        ]
        print("\n".join(rasa_lines))
        print(
            json.dumps(
                {"builtin": report_dict(report), "rasa": report_dict(rasa_report)},
                ensure_ascii=False,
            )[:2000]
        )
        if not args.no_docs:
            write_section(RASA_BEGIN, RASA_END, "\n".join(rasa_lines))
        not_below = rasa_report.intent_accuracy <= report.intent_accuracy
        targets.append(("not below Rasa", not_below))
    if not args.no_docs:
        write_section(BEGIN, END, "\n".join(lines))
    return 0 if all(ok for _, ok in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
