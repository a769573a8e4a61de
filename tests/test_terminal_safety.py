"""Names, messages and file names carrying terminal controls (ESC sequences, BEL, CR/LF, C1,
bidi overrides) reach the terminal only as visible symbols; --json keeps them exactly."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from cli_helpers import siyu
from test_cli import MESSAGES, ts, write_chatlab

from bot.cliutil import terminal_safe, visible
from bot.render import clip

# What a terminal acts on: C0 but the newline, DEL, C1, line/paragraph separators, bidi.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f"
                 "\u202a-\u202e\u2066-\u2069]")
EVIL_NAME = "坏\x1b]0;pwned\x07人\x1b[2J\n假行\r\u202e反\x9b31m"
AS_OF = "2026-11-20"
FILE_NAME = "chat\x1b[31m.json"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A community with a member whose name and words carry terminal controls, imported
    from a file whose name does too; the ingest's stdout and stderr are returned with it."""
    work = tmp_path_factory.mktemp("hostile")
    export = write_chatlab(work / FILE_NAME, extra=[
        {"sender": "wxid_evil", "accountName": EVIL_NAME, "timestamp": ts(10, 21), "type": 0,
         "content": "有没有优惠？\x1b[31m红色\x07 我在杭州\n第二行\u202e",
         "platformMessageId": "e1"},
        {"sender": "wxid_evil", "accountName": EVIL_NAME, "timestamp": ts(11, 21), "type": 0,
         "content": "快递太慢了，客服不回\x1b[0m", "platformMessageId": "e2"},
        {"sender": "wxid_x", "accountName": "x", "timestamp": "ab\x1bc", "type": 0,
         "content": "坏时间"},
    ])
    proc = siyu("ingest", str(export), cwd=work)
    return work, proc.stdout, proc.stderr


def assert_safe(text: str) -> None:
    found = RAW.findall(text)
    assert not found, f"raw controls {found!r} in:\n{text!r}"


def test_ingest_echoes_file_names_and_rejects_visibly(hostile: tuple[Path, str, str]) -> None:
    _work, out, err = hostile
    assert_safe(out)
    assert_safe(err)
    assert "chat␛[31m.json" in out and "跳过" in err


def test_personas_table_rows_are_never_split(hostile: tuple[Path, str, str]) -> None:
    work = hostile[0]
    out = siyu("personas", "--as-of", AS_OF, cwd=work).stdout
    assert_safe(out)
    members = len({m[0] for m in MESSAGES}) + 1
    assert len(out.splitlines()) == 2 + members  # title, header, one row each
    row = next(line for line in out.splitlines() if line.startswith("wxid_evil"))
    assert "坏␛]0;pwned" in row


@pytest.mark.parametrize("command", [
    ["persona", "wxid_evil"], ["suggest", "wxid_evil"], ["segment"], ["report"],
    ["invite", "周末\x1b[2J烘焙课", "--segment", "growth"], ["persona", "不在\x1b[2J"],
])
def test_every_human_readable_output_is_safe(hostile: tuple[Path, str, str],
                                             command: list[str]) -> None:
    proc = siyu(*command, "--as-of", AS_OF, cwd=hostile[0], check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert_safe(proc.stdout)
    assert_safe(proc.stderr)


def test_json_keeps_the_name_exactly(hostile: tuple[Path, str, str]) -> None:
    doc = json.loads(siyu("persona", "wxid_evil", "--json", "--as-of", AS_OF,
                          cwd=hostile[0]).stdout)
    assert doc["name"] == EVIL_NAME


def test_truncation_never_leaves_an_escape_open() -> None:
    for cols in range(2, 12):
        cut = clip("\x1b[31m红色名字\x1b[0m", cols)
        assert "\x1b" not in cut
    assert visible("a\nb\rc\td") == "a␊b␍c␉d"
    assert terminal_safe("a\nb\x1b[0m") == "a\nb␛[0m"
    assert visible("\u202e\x9b\x7f") == "<U+202E><U+009B>␡"


def test_the_cli_prints_only_through_its_sanitiser() -> None:
    """`say` is the boundary: a bare print() in a command module would bypass it."""
    folder = Path(__file__).parent.parent / "bot" / "cli"
    offenders = []
    modules = sorted(folder.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders
