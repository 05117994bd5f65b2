"""What the benchmarks write about the machine they ran on (shared by bench/*.py)."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime


def cpu_and_memory() -> str:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        kib = next(int(t.split()[1]) for t in info if t.startswith("MemTotal"))
    return f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {kib / 1024 / 1024:.1f} GiB"


def system_and_python(library: str, version: str) -> str:
    return (
        f"- {platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"{library} {version}"
    )


def load_average() -> str:
    with open("/proc/loadavg", encoding="utf-8") as info:
        return " ".join(info.read().split()[:3])


def now_line() -> str:
    return f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
