"""The benchmarks still run and their correctness checks pass (no timing asserted).

They run alone (`serial`): the notices benchmark checks that the Bot API never refused a message
for going too fast, which pacing within Telegram's 30 a second cannot promise while other test
processes take the cores for seconds at a time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.serial


def test_quick_benchmark_on_sqlite_books_correctly() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "booking.py"), "--quick", "--sqlite-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SQLite spread: 500/500 booked" in done.stdout
    assert "SQLite hot: 50/200 booked" in done.stdout


def test_quick_dialogue_benchmark_answers_everyone_and_never_overbooks() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dialogue.py"), "--quick", "--no-docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "HTTP 0 errors: pass" in done.stdout, done.stdout + done.stderr
    assert "no overbooking, one receipt per booking: pass" in done.stdout


@pytest.mark.postgres  # its two-worker run is on PostgreSQL (and Redis)
def test_quick_notices_benchmark_loses_none_sends_none_twice_and_is_never_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "notices.py"), "--quick", "--no-docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "0 lost, 0 duplicates: pass" in done.stdout, done.stdout + done.stderr
    assert "0 rate-limit errors (429): pass" in done.stdout
