"""Running `siyu` as a user does: a real subprocess, the working directory's defaults, no
inherited SIYU_DB. Shared by the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
