"""The codebase stays ruff clean and persona/ stays pure: both checked on every test run."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run([ruff, "check", "--quiet", str(ROOT)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_persona_imports_nothing_outward() -> None:
    """persona/ is the pure domain: no storage, transport, network or database imports."""
    banned = {"bot", "handlers", "storage", "sqlmodel", "sqlalchemy", "httpx", "sqlite3",
              "socket", "requests"}
    offenders = []
    for path in (ROOT / "persona").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in banned]
    assert offenders == []
