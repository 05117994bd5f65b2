"""`guahao serve` in production stops at once, with a clear message, on a guessable key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HOW = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def test_the_server_does_not_start_in_production_with_a_guessable_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUAHAO_", "DATABASE_URL"))}
    env.update(
        GUAHAO_ENV="production",
        GUAHAO_SECRET_KEY="0123456789abcdef0123456789abcdef",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
    )
    guahao = Path(sys.executable).parent / "guahao"
    done = subprocess.run(
        [str(guahao), "serve", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "GUAHAO_SECRET_KEY" in output and HOW in output
    assert "Traceback" not in output
