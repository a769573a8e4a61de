"""`siyu segment` and `siyu report` end to end on the shipped sample, plus the chart PNG."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from cli_helpers import siyu

AS_OF = "2026-11-20T20:00:00+08:00"




@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample community (chats and orders) imported once into a SQLite file."""
    work = tmp_path_factory.mktemp("sample")
    folder = Path(str(resources.files("bot") / "data" / "sample"))
    siyu("ingest", *sorted(str(p) for p in folder.glob("*.json")), cwd=work)
    siyu("import-orders", str(folder / "orders.csv"), cwd=work)
    return work


def test_segment_json_follows_the_contract(sample_db: Path) -> None:
    doc = json.loads(siyu("segment", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    for key in ("as_of", "counts", "clusters", "cards", "patterns"):
        assert key in doc
    assert set(doc["counts"]) == {"value", "lifecycle", "motivation", "layer"}
    assert set(doc["counts"]["value"]) <= {"high", "growth", "general"}
    assert sum(doc["counts"]["lifecycle"].values()) == sum(doc["counts"]["value"].values())
    for circle in doc["clusters"]:
        assert {"code", "label", "size", "top_interests"} <= set(circle)
    assert doc["cards"] and all(c["quotes"] or c["size"] == 0 for c in doc["cards"][:3])
    # a member with no orders is never high value
    personas = json.loads(siyu("personas", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    for m in personas["members"]:
        if m["segments"]["value"] == "high":
            assert m["stats"]["orders"] >= 2
        if m["stats"]["orders"] == 0:
            assert m["segments"]["value"] != "high"
    assert any(m["segments"]["cluster"] for m in personas["members"])


def test_second_run_reports_changes_and_keeps_circle_codes(sample_db: Path) -> None:
    first = json.loads(siyu("segment", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    second = json.loads(siyu("segment", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    assert second["changes"] is not None
    assert second["changes"]["clusters"]["ari"] == 1.0  # same data: the same grouping
    assert [c["code"] for c in second["clusters"]] == [c["code"] for c in first["clusters"]]


def test_report_text_and_chart(sample_db: Path) -> None:
    # No skip: the install brings its CJK font, so the chart works on any machine.
    chart = sample_db / "r.png"
    proc = siyu("report", "--chart", str(chart), "--as-of", AS_OF, cwd=sample_db)
    out = proc.stdout
    for heading in ("一、分群规模", "二、重点人物卡", "三、发现的模式", "四、主要痛点", "五、变化"):
        assert heading in out
    assert "「" in out  # real quotes in the cards
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 20_000  # four panels with text, not an empty canvas


def test_report_json_carries_feedback(sample_db: Path) -> None:
    doc = json.loads(siyu("report", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    assert "run_id" in doc and "feedback" in doc and "cards" in doc


def test_missing_font_is_a_clear_error(sample_db: Path, tmp_path: Path) -> None:
    (sample_db / "siyu.toml").write_text('[report]\nfont = "/nope/none.ttf"\n', encoding="utf-8")
    try:
        proc = siyu("report", "--chart", str(tmp_path / "x.png"), "--as-of", AS_OF,
                    cwd=sample_db, check=False)
    finally:
        (sample_db / "siyu.toml").unlink()
    assert proc.returncode == 1 and "font" in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1
    # the chart failed, the report did not
    for heading in ("一、分群规模", "二、重点人物卡", "五、变化"):
        assert heading in proc.stdout


def test_failed_chart_still_prints_the_json(sample_db: Path, tmp_path: Path) -> None:
    (sample_db / "siyu.toml").write_text('[report]\nfont = "/nope/none.ttf"\n', encoding="utf-8")
    try:
        proc = siyu("report", "--json", "--chart", str(tmp_path / "x.png"), "--as-of", AS_OF,
                    cwd=sample_db, check=False)
    finally:
        (sample_db / "siyu.toml").unlink()
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "cards" in json.loads(proc.stdout)


def test_report_json_carries_every_assignment_as_segment_json_did(sample_db: Path) -> None:
    """The stored run keeps assignments as rows only; `siyu report --json` still prints each
    member's, equal to what `siyu segment --json` printed for that run."""
    seg = json.loads(siyu("segment", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    rep = json.loads(siyu("report", "--json", "--as-of", AS_OF, cwd=sample_db).stdout)
    assert rep["run_id"] == seg["run_id"]
    # 51 members, of whom the sample's group owners and admins (3) are staff, never counted.
    assert rep["assignments"] == seg["assignments"] and len(rep["assignments"]) == 48
    for key in ("as_of", "counts", "clusters", "cards", "patterns", "changes", "version"):
        assert rep[key] == seg[key], key


def test_chart_names_the_file_it_really_wrote(sample_db: Path, tmp_path: Path) -> None:
    proc = siyu("report", "--chart", str(tmp_path), "--as-of", AS_OF, cwd=sample_db,
                check=False)
    assert proc.returncode == 1 and "--chart" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = siyu("report", "--chart", str(tmp_path / "chart"), "--as-of", AS_OF, cwd=sample_db)
    assert f"图表已保存：{tmp_path / 'chart.png'}" in proc.stdout
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
