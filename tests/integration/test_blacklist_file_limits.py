"""Reading the hospital's list stops early on a file of blank rows, in bounded time and
memory: measured in a process of its own, so that nothing else counts in its peak."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.spreadsheets import blank_rows_xlsx

READ = """
import json, sys, time
from datetime import date
from booking.patients.blacklist import BrokenList, ListFile
from booking.files.blacklist import read_list
from booking.protect import Protector
data = open(sys.argv[1], "rb").read()
started = time.monotonic()
try:
    listed = read_list(ListFile(data), Protector("a-test-key-of-enough-length"), date(2026, 11, 23))
    outcome = f"accepted {listed.rows} rows, {len(listed.entries)} entries"
except BrokenList as broken:
    outcome = broken.problem
took = time.monotonic() - started
# The peak of this process's own memory (VmHWM): ru_maxrss would also carry the parent's
# resident size at the fork, i.e. the whole test run's.
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) * 1024
print(json.dumps({"outcome": outcome, "seconds": took, "peak": peak}))
"""


@pytest.mark.parametrize("dimension", ["B", "XFD"])  # XFD: each row claims 16,384 columns
def test_a_small_xlsx_of_many_blank_rows_is_refused_quickly_in_bounded_memory(
    tmp_path: Path, dimension: str
) -> None:
    sheet = tmp_path / "blank.xlsx"
    sheet.write_bytes(blank_rows_xlsx(300_000, dimension))
    assert sheet.stat().st_size < 2 * 1024 * 1024  # within the upload limit
    done = subprocess.run(
        [sys.executable, "-c", READ, str(sheet)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["outcome"] == "too_many_rows"  # not an empty list that empties the blacklist
    assert read["seconds"] < 45  # about 3 s alone on the 2-core machine
    assert read["peak"] < 250 * 1024 * 1024  # about 70 MB, the interpreter included
