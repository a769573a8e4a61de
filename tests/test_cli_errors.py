"""One line where a traceback was: bad --db, a file that is not SQLite, a setting that is not
a finite number in range, an --as-of outside any sane year, a reader that leaves the pipe.
Each case leaves the files it was pointed at as they were."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import siyu
from test_cli import write_chatlab

from persona.commerce import OrderRecord, recent_purchases


def one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single stderr line of a refused command (no traceback), checked for `needles`."""
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("错误: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", [b"hello, not a database\n",
                                     b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_file_that_is_not_sqlite_is_one_line_and_left_alone(tmp_path: Path,
                                                             content: bytes) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(content)
    before = digest(junk)
    chat = write_chatlab(tmp_path / "chat.json")
    for command in (["personas"], ["ingest", str(chat)], ["db", "current"]):
        proc = siyu("--db", f"sqlite:///{junk}", *command, cwd=tmp_path, check=False)
        one_error_line(proc, "notes.db")
    assert digest(junk) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.json", "notes.db"]


@pytest.mark.parametrize(("url", "needle"), [("garbage", "--db"), ("foo://bar", "foo"),
                                             ("://", "--db")])
def test_an_unusable_db_address_is_one_line(tmp_path: Path, url: str, needle: str) -> None:
    proc = siyu("--db", url, "personas", cwd=tmp_path, check=False)
    one_error_line(proc, needle)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309", "1e300", "0.0001"])
def test_a_half_life_that_is_no_usable_number_stops_before_anything_is_written(
        tmp_path: Path, value: str) -> None:
    (tmp_path / "siyu.toml").write_text(f"half_life_days = {value}\n", encoding="utf-8")
    chat = write_chatlab(tmp_path / "chat.json")
    proc = siyu("ingest", str(chat), cwd=tmp_path, check=False)
    one_error_line(proc, "siyu.toml", "half_life_days")
    assert not (tmp_path / "siyu.db").exists()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose siyu.db holds the small test community."""
    work = tmp_path_factory.mktemp("imported")
    siyu("ingest", str(write_chatlab(work / "chat.json")), cwd=work)
    return work


@pytest.mark.parametrize(("command", "as_of"), [
    (["persona", "朵朵妈"], "0001-01-01"),
    (["suggest", "朵朵妈"], "0001-01-01T00:00:00+14:00"),
    (["personas"], "9999-12-31T23:59:59-12:00"),
    (["report"], "1899-12-31"),
])
def test_an_as_of_outside_sane_years_is_one_line(imported: Path, command: list[str],
                                                 as_of: str) -> None:
    proc = siyu(*command, "--as-of", as_of, cwd=imported, check=False)
    one_error_line(proc, "--as-of", as_of)


def test_recent_purchases_as_of_year_one_does_not_overflow() -> None:
    """The window is an age, not `as_of - 30 days`, which does not exist before year 1."""
    early = datetime(1, 1, 2, tzinfo=UTC)
    order = OrderRecord(order_id="o1", ts=datetime(1, 1, 1, tzinfo=UTC), amount=10.0,
                        category="母婴", coupon_used=False)
    assert recent_purchases([order], early) == {"母婴": [order]}
    assert recent_purchases([order], datetime(1, 2, 1, tzinfo=UTC)) == {}


@pytest.mark.parametrize("command", [["personas"], ["persona", "朵朵妈"],
                                     ["personas", "--json"], ["report"]])
def test_a_reader_that_leaves_ends_the_command_quietly(imported: Path,
                                                       command: list[str]) -> None:
    """`siyu personas | head`: the pipe's reader is gone before the output is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "bot.cli", *command], cwd=imported,
                              env=env, stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=300, check=False)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
