"""`guahao nlu parse` and `guahao nlu eval`, run for real as subprocesses: the interface other
tools and evaluations use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

GUAHAO = Path(sys.executable).parent / "guahao"
NOW = "2026-11-25T10:00:00+08:00"


def guahao(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUAHAO_")}
    done = subprocess.run(
        [str(GUAHAO), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr
    return done


def test_parse_one_message() -> None:
    done = guahao("nlu", "parse", "--now", NOW, "帮我挂明天上午心内科张伟医生的号")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["intent"]["name"] == "book"
    assert {(e["entity"], e["value"]) for e in result["entities"]} == {
        ("date", "2026-11-26"),
        ("time_of_day", "am"),
        ("department", "CARD"),
        ("doctor", "00868"),
    }
    assert all({"entity", "value", "start", "end"} <= e.keys() for e in result["entities"])


def test_parse_reads_one_message_per_line_and_writes_json_lines() -> None:
    lines = ["你好", "", "Dr. Zhang Wei next monday", "asdfgh", "胸口剧痛", "x" * 100_000]
    done = guahao("nlu", "parse", "--now", NOW, stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in results] == lines
    intents = [r["intent"]["name"] for r in results]
    assert [intents[i] for i in (0, 1, 3, 4)] == [
        "greet",
        "out_of_scope",
        "out_of_scope",
        "emergency",
    ]
    doctor = next(e for e in results[2]["entities"] if e["entity"] == "doctor")
    assert set(doctor["candidates"]) == {"00868", "02216"}
    date = next(e for e in results[2]["entities"] if e["entity"] == "date")
    assert date["value"] == "2026-11-30"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--now", "tomorrow", "hi"], "invalid_date"),
        (["--now", "2026-11-25T10:00", "hi"], "invalid_date"),
        (["--catalogue", "/nonexistent.yaml", "hi"], "invalid_input"),
        (["--data", "/nonexistent-folder", "hi"], "nlu_data"),
    ],
)
def test_bad_options_get_one_line_and_exit_1(args: list[str], reason: str) -> None:
    done = guahao("nlu", "parse", *args)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {reason}: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_eval_prints_the_scores_on_the_held_out_split() -> None:
    done = guahao("nlu", "eval", "--misses", "5")
    assert done.returncode == 0, done.stderr
    for heading in ("intent accuracy", "entity F1", "out-of-scope recall", "confusions"):
        assert heading in done.stdout
    assert "book" in done.stdout and "department" in done.stdout


def test_eval_json_meets_the_targets() -> None:
    done = guahao("nlu", "eval", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["examples"] >= 500
    assert report["intent_accuracy"] >= 0.95
    assert report["entity_f1"] >= 0.95
    assert report["out_of_scope_recall"] >= 0.8
    assert report["in_scope_rejected"] <= 0.05
    assert set(report["intents"]) >= {"book", "emergency", "out_of_scope"}


def test_a_line_that_is_not_utf8_is_reported_by_number_and_the_rest_are_parsed() -> None:
    secret = "张伟 110101199003071234".encode("gbk")  # what a patient typed, in another encoding
    lines = ["你好".encode(), secret, b"", b"Dr. Zhang Wei next monday", b"\xff\xfe"]
    done = subprocess.run(
        [str(GUAHAO), "nlu", "parse", "--now", NOW],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GUAHAO_")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    assert stderr.splitlines() == [
        "error: invalid_utf8: line 2 is not UTF-8, skipped",
        "error: invalid_utf8: line 5 is not UTF-8, skipped",
    ]
    assert secret not in done.stderr and b"1101011990" not in done.stderr
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(results) == len(lines)  # each output line still answers its input line
    assert results[1] == {"error": "invalid_utf8", "line": 2}
    assert results[4] == {"error": "invalid_utf8", "line": 5}
    assert [results[i]["text"] for i in (0, 2, 3)] == ["你好", "", "Dr. Zhang Wei next monday"]
    assert results[0]["intent"]["name"] == "greet"
    assert "1101011990" not in done.stdout.decode()
