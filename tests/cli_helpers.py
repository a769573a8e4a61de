"""Running `siyu` as a user does: a real subprocess, the working directory's defaults, no
inherited SIYU_DB. Shared by the CLI tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def siyu(*args: str, cwd: Path, check: bool = True, timeout: float = 300,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"siyu {' '.join(args)} → {proc.returncode}\n{proc.stderr}")
    return proc


def ingest_group(folder: Path, people: list[dict[str, Any]],
                 messages: list[dict[str, Any]]) -> None:
    """Write one ChatLab group export (宝妈群, 1@chatroom) as chat.json in `folder` and
    `siyu ingest` it there, as an operator with their own small export would."""
    export = {"chatlab": {"version": "0.0.2", "exportedAt": 1763700000},
              "meta": {"name": "宝妈群", "platform": "wechat", "type": "group",
                       "groupId": "1@chatroom"},
              "members": people, "messages": messages}
    (folder / "chat.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    siyu("ingest", "chat.json", cwd=folder)
