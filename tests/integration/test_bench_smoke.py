"""The booking benchmark still runs and its correctness checks pass (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT


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
