"""`siyu personas --segment CODE`: a segment's members, counted as `siyu segment` counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import siyu

from bot.app import App
from bot.cliutil import parse_as_of
from handlers.personas import SegmentCodeError, build_personas, in_segment
from handlers.segments import run_and_store
from handlers.settings import Settings

AS_OF = "2026-11-20T18:08:00+08:00"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    (work / "demo.txt").write_text(siyu("demo", cwd=work).stdout, encoding="utf-8")
    return work


def test_the_demo_numbers_add_up(demo_dir: Path) -> None:
    """"51 位成员" beside segments of 48 read as a mistake: the demo says who is left out."""
    import re

    text = (demo_dir / "demo.txt").read_text(encoding="utf-8")
    found = re.search(r"(\d+) 位成员（其中店员 (\d+) 位，不计入分群与画像）", text)
    assert found, text.splitlines()[1]
    everyone, staff = int(found[1]), int(found[2])
    value = re.search(r"价值：高价值 (\d+) · 成长型 (\d+) · 一般用户 (\d+)", text)
    assert value and sum(int(n) for n in value.groups()) == everyone - staff


def test_every_segment_code_lists_what_the_run_counts(demo_dir: Path) -> None:
    settings = Settings(db=f"sqlite:///{demo_dir / 'siyu-demo.db'}")
    app = App(settings)
    as_of = parse_as_of(AS_OF, settings.tz)
    doc = run_and_store(app.store, settings, app.labels, as_of).result.to_json()
    views = build_personas(app.store, settings, app.labels, as_of)
    checked = 0
    for counts in doc["counts"].values():
        for code, n in counts.items():
            if code != "none":  # 动机不明 is no code a member is listed by
                assert len(in_segment(views, code)) == n, code
                checked += 1
    for circle in doc["clusters"]:
        assert len(in_segment(views, circle["code"])) == circle["size"], circle["code"]
    assert checked >= 12 and doc["clusters"]
    with pytest.raises(SegmentCodeError, match="vip"):
        in_segment(views, "vip")


def test_cli_lists_one_segment(demo_dir: Path) -> None:
    seg = json.loads(siyu("--db", "sqlite:///siyu-demo.db", "segment", "--json", "--as-of",
                          AS_OF, cwd=demo_dir).stdout)
    got = json.loads(siyu("--db", "sqlite:///siyu-demo.db", "personas", "--segment", "core",
                          "--json", "--as-of", AS_OF, cwd=demo_dir).stdout)
    assert got["segment"] == "core"
    assert len(got["members"]) == seg["counts"]["layer"]["core"] > 0
    assert all(m["segments"]["layer"] == "core" for m in got["members"])
    text = siyu("--db", "sqlite:///siyu-demo.db", "personas", "--segment", "c1", "--as-of",
                AS_OF, cwd=demo_dir).stdout
    size = next(c["size"] for c in seg["clusters"] if c["code"] == "c1")
    name = seg["labels"]["cluster"]["c1"]
    assert f"分群「兴趣圈 c1（{name}）」（截至 2026-11-20 18:08，共 {size} 位成员）" in text
    bad = siyu("--db", "sqlite:///siyu-demo.db", "personas", "--segment", "vip", cwd=demo_dir,
               check=False)
    assert bad.returncode == 1 and "vip" in bad.stderr and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_persona_names_her_circle_and_the_order_behind_an_interest(demo_dir: Path) -> None:
    """"兴趣圈 c1" told an operator (and a member asking /我的数据) nothing: the circle's name
    is the run's, shown beside the code. An interest an order stands behind (a 个护美妆
    order for 美妆护肤) showed no evidence line at all when the order came first."""
    seg = json.loads(siyu("--db", "sqlite:///siyu-demo.db", "segment", "--json", "--as-of",
                          AS_OF, cwd=demo_dir).stdout)
    text = (demo_dir / "demo.txt").read_text(encoding="utf-8")
    member = json.loads(siyu("--db", "sqlite:///siyu-demo.db", "persona", "wxid_x2056nz274o4s7",
                             "--json", "--as-of", "2026-11-20T18:09:00+08:00",
                             cwd=demo_dir).stdout)
    code = member["segments"]["cluster"]
    assert code, member["segments"]
    shown = siyu("--db", "sqlite:///siyu-demo.db", "persona", "wxid_x2056nz274o4s7",
                 "--as-of", "2026-11-20T18:09:00+08:00", cwd=demo_dir).stdout
    assert f"兴趣圈 {code}（{seg['labels']['cluster'][code]}）" in shown
    assert f"兴趣圈 {code}（{seg['labels']['cluster'][code]}）" in text
    beauty = next(t for t in member["tags"] if t["code"] == "beauty")
    first = beauty["evidence"][0]
    assert not first.startswith("xh-"), beauty  # the order comes first
    block = text.split("深圳-糖糖妈（")[1].split("美妆护肤")[1].split("\n")[:2]
    assert block[1].strip() == f"订单 {first}", block
