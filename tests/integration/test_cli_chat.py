"""``guahao chat`` in a terminal: numbered choices, and a numbered reply picks one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import SECRET

GUAHAO = Path(sys.executable).parent / "guahao"


def test_chat_in_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUAHAO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}",
        GUAHAO_SECRET_KEY=SECRET,
        GUAHAO_NOW="2026-11-23T09:00:00+08:00",
        GUAHAO_NLU_MODELS=str(tmp_path / "models"),
    )
    load = subprocess.run(
        [str(GUAHAO), "demo", "load"], env=env, capture_output=True, text=True, timeout=120
    )
    assert load.returncode == 0, load.stderr
    talk = subprocess.run(
        [str(GUAHAO), "chat", "--user", "terminal-1"],
        input="我要挂号\n1\n/my\n\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert talk.returncode == 0, talk.stderr
    assert "Traceback" not in talk.stderr
    out = talk.stdout
    assert "1. 预约挂号" in out  # the greeting's menu, numbered
    assert "1. 心血管内科" in out  # 我要挂号 -> departments
    assert "请选择心血管内科的医生" in out  # "1" picked cardiology
    assert "1. 张伟（工号00868）主任医师" in out  # with the work number GHDH takes
    assert "还没有有效的预约" in out
