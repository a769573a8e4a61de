"""`siyu export` (CSV for Excel) and `siyu groups` (the per-group view) on the demo community."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_helpers import siyu

from bot.cli.export import _cell

DB = ("--db", "sqlite:///siyu-demo.db")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    siyu("demo", cwd=work)
    return work


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8 Chinese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_members_csv_one_row_per_member(demo_dir: Path) -> None:
    out = siyu(*DB, "export", "members", cwd=demo_dir).stdout
    rows = read_csv(demo_dir / "siyu-members.csv")
    personas = json.loads(siyu(*DB, "personas", "--json", cwd=demo_dir).stdout)["members"]
    header, body = rows[0], rows[1:]
    assert header[:3] == ["成员ID", "昵称", "消息数"] and "生命周期" in header
    assert [r[0] for r in body] == [m["member_id"] for m in personas]
    assert f"已导出 {len(body)} 行成员" in out
    code = header.index("lifecycle_code")
    label = header.index("生命周期")
    by_code = {"potential": "潜在用户", "new": "新用户", "mature": "成熟用户",
               "declining": "衰退用户"}
    assert all(by_code[r[code]] == r[label] for r in body)


def test_members_csv_of_one_segment(demo_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "core.csv"
    siyu(*DB, "export", "members", "--segment", "core", "-o", str(path), cwd=demo_dir)
    core = json.loads(siyu(*DB, "personas", "--segment", "core", "--json",
                           cwd=demo_dir).stdout)["members"]
    assert [r[0] for r in read_csv(path)[1:]] == [m["member_id"] for m in core]
    bad = siyu(*DB, "export", "groups", "--segment", "core", cwd=demo_dir, check=False)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1


def test_segments_suggestions_and_groups_csv(demo_dir: Path) -> None:
    for kind in ("segments", "suggestions", "groups"):
        siyu(*DB, "export", kind, cwd=demo_dir)
    seg = read_csv(demo_dir / "siyu-segments.csv")
    report = json.loads(siyu(*DB, "report", "--json", cwd=demo_dir).stdout)
    assert seg[0] == ["维度", "分群代码", "分群", "人数", "占比"]
    expect = sum(len(c) for c in report["counts"].values()) + len(report["clusters"])
    assert len(seg) - 1 == expect
    assert ["生命周期", "new", "新用户", str(report["counts"]["lifecycle"]["new"])] == seg[
        next(i for i, r in enumerate(seg) if r[1] == "new")][:4]
    sug = read_csv(demo_dir / "siyu-suggestions.csv")
    assert sug[0][:4] == ["编号", "成员ID", "昵称", "场景"] and len(sug) > 1
    assert all(r[5] in {"待处理", "已发送", "改写后发送", "已忽略"} for r in sug[1:])
    groups = read_csv(demo_dir / "siyu-groups.csv")
    assert len(groups) - 1 == 5  # the sample's five group chats


def test_groups_view(demo_dir: Path) -> None:
    doc = json.loads(siyu(*DB, "groups", "--json", cwd=demo_dir).stdout)
    groups = {g["name"]: g for g in doc["groups"]}
    assert len(groups) == 5
    mom = groups["小禾优选·宝妈福利群"]
    assert mom["members"] > 10 and mom["messages"] > mom["members"]
    assert mom["top_interests"][0]["label"] == "母婴育儿"
    suggestions = read_open(demo_dir)
    assert sum(g["open_scripts"] for g in doc["groups"]) == suggestions
    text = siyu(*DB, "groups", cwd=demo_dir).stdout
    assert "群聊概览" in text and "小禾优选·宝妈福利群" in text and "不含店员" in text


def read_open(demo_dir: Path) -> int:
    siyu(*DB, "export", "suggestions", "-o", "open.csv", cwd=demo_dir)
    rows = read_csv(demo_dir / "open.csv")
    chat = rows[0].index("群聊")
    return sum(1 for r in rows[1:] if r[5] == "待处理" and r[chat].startswith("小禾优选·"))


def test_a_cell_that_looks_like_a_formula_stays_text() -> None:
    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _cell("+86 138") == "'+86 138" and _cell("朵朵妈") == "朵朵妈"
