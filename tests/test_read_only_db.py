"""A database without write permission can be read: the reading commands work on a read-only
file and in a read-only directory; a command that must write says so in one line and leaves
the file as it was.

Tests usually run as root, for whom chmod stops nothing; there the commands run under
`setpriv` with CAP_DAC_OVERRIDE dropped, so the permission bits really refuse writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import siyu
from test_cli import write_chatlab

AS_OF = "2026-11-20"
SETPRIV = shutil.which("setpriv")

if os.geteuid() == 0 and SETPRIV is None:
    pytest.skip("running as root without setpriv: write permission cannot be taken away",
                allow_module_level=True)


def without_write_permission(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`siyu ARGS` as a user whom the permission bits bind (root loses its override)."""
    prefix = ([SETPRIV, "--bounding-set=-dac_override,-dac_read_search", "--"]
              if os.geteuid() == 0 and SETPRIV else [])
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)
    return subprocess.run([*prefix, sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a stored segmentation run (what `report` reads), WAL merged."""
    work = tmp_path_factory.mktemp("written")
    siyu("ingest", str(write_chatlab(work / "chat.json")), cwd=work)
    siyu("segment", "--as-of", AS_OF, cwd=work)
    return work


@pytest.fixture(params=["file", "directory"])
def read_only(request: pytest.FixtureRequest, written: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the database whose file (and, for "directory", whose folder) is read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(written / "siyu.db", folder / "siyu.db")
    (folder / "siyu.db").chmod(0o444)
    if request.param == "directory":
        folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_reading_commands_work_without_write_permission(read_only: Path) -> None:
    db = f"sqlite:///{read_only / 'siyu.db'}"
    before = digest(read_only)
    proc = without_write_permission("--db", db, "personas", "--as-of", AS_OF, cwd=read_only)
    assert proc.returncode == 0, proc.stderr
    assert "朵朵妈" in proc.stdout
    proc = without_write_permission("--db", db, "persona", "朵朵妈", "--json", "--as-of", AS_OF,
                                    cwd=read_only)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["name"] == "朵朵妈"
    proc = without_write_permission("--db", db, "report", "--as-of", AS_OF, cwd=read_only)
    assert proc.returncode == 0, proc.stderr
    assert "分群规模" in proc.stdout
    proc = without_write_permission("--db", db, "db", "current", cwd=read_only)
    assert proc.returncode == 0 and "已是最新" in proc.stdout, proc.stderr
    after = digest(read_only)
    assert after["siyu.db"] == before["siyu.db"]


@pytest.mark.parametrize("command", [["segment", "--as-of", AS_OF], ["ingest", "new.json"]])
def test_a_command_that_must_write_says_so_in_one_line(read_only: Path,
                                                       command: list[str]) -> None:
    write_chatlab(read_only.parent / "new.json", extra=[
        {"sender": "wxid_new", "accountName": "新人", "timestamp": 1763640000, "type": 0,
         "content": "大家好", "platformMessageId": "pm-new"}])
    before = digest(read_only)
    proc = without_write_permission("--db", f"sqlite:///{read_only / 'siyu.db'}", *command,
                                    cwd=read_only.parent)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误: ") and "只读" in lines[0], proc.stderr
    assert digest(read_only)["siyu.db"] == before["siyu.db"]
    assert stat.S_IMODE((read_only / "siyu.db").stat().st_mode) == 0o444
