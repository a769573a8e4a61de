"""`siyu` end to end, as a user runs it: real subprocesses, real SQLite files."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import siyu

SH = ZoneInfo("Asia/Shanghai")




def ts(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=SH).timestamp())


MESSAGES = [
    ("wxid_duoduo", "朵朵妈", ts(2, 21, 5), 0, "我家宝宝8个月了，最近在加辅食，有没有推荐的米粉？"),
    ("wxid_duoduo", "朵朵妈", ts(3, 21, 40), 0, "有没有优惠？团购价多少钱"),
    ("wxid_duoduo", "朵朵妈", ts(5, 22, 10), 0, "这个价格不贵，性价比挺高的，我要两盒"),
    ("wxid_duoduo", "朵朵妈", ts(9, 20, 30), 0, "我在杭州，周末带娃去西湖玩"),
    ("wxid_laozhou", "健身的老周", ts(4, 7, 15), 0, "今天晨跑5公里打卡，蛋白粉成分表发一下？"),
    ("wxid_laozhou", "健身的老周", ts(6, 7, 5), 0, "快递三天了还没到，客服也不回，太失望了"),
    ("wxid_laozhou", "健身的老周", ts(8, 6, 50), 1, None),
    ("wxid_silent", "小透明", ts(1, 12, 0), 80, "\"小禾助手\"邀请\"小透明\"加入了群聊"),
]


def write_chatlab(path: Path, extra: list[dict[str, object]] | None = None) -> Path:
    msgs: list[dict[str, object]] = [
        {"sender": s, "accountName": n, "timestamp": t, "type": ty, "content": c,
         "platformMessageId": f"pm-{i}"}
        for i, (s, n, t, ty, c) in enumerate(MESSAGES)
    ]
    msgs.extend(extra or [])
    doc = {
        "chatlab": {"version": "0.0.2", "exportedAt": ts(20, 20)},
        "meta": {"name": "小禾优选·宝妈福利群", "platform": "wechat", "type": "group",
                 "groupId": "1001@chatroom"},
        "members": [{"platformId": "wxid_duoduo", "accountName": "朵朵妈"},
                    {"platformId": "wxid_laozhou", "accountName": "健身的老周"},
                    {"platformId": "wxid_silent", "accountName": "小透明"}],
        "messages": msgs,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {t: sorted(map(tuple, con.execute(f"SELECT * FROM {t}")), key=repr) for t in tables}


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = siyu("--help", cwd=tmp_path).stdout
    for cmd in ("demo", "ingest", "personas", "persona"):
        assert cmd in out


def test_ingest_then_persona_json_end_to_end(tmp_path: Path) -> None:
    export = write_chatlab(tmp_path / "chat.json")
    out = siyu("ingest", str(export), cwd=tmp_path).stdout
    assert "新增 8 条" in out and "拒绝 0 行" in out
    assert (tmp_path / "siyu.db").exists()  # the default database lives in the working dir

    doc = json.loads(siyu("persona", "朵朵妈", "--json", "--as-of", "2026-11-20",
                          cwd=tmp_path).stdout)
    assert doc["member_id"] == "wxid_duoduo" and doc["name"] == "朵朵妈"
    codes = {t["code"]: t for t in doc["tags"]}
    assert "parenting" in codes and codes["parenting"]["kind"] == "interest"
    assert doc["attributes"]["city"] == "杭州"
    assert doc["attributes"]["life_stage"] == "parent"
    assert "price" in codes and doc["segments"]["motivation"] == "price"
    assert doc["stats"]["messages"] == 4
    assert doc["stats"]["first_seen"].startswith("2026-11-02T21:05:00+08:00")
    # Evidence points at the real messages behind each tag.
    texts = {f"pm-{i}": m[4] for i, m in enumerate(MESSAGES)}
    for t in doc["tags"]:
        for mid in t["evidence"]:
            assert mid in texts
    assert any("宝宝" in (texts[e] or "") for e in codes["parenting"]["evidence"])
    assert all(("杭州" in (texts[e] or "")) for e in codes["city:杭州"]["evidence"])

    zhou = json.loads(siyu("persona", "wxid_laozhou", "--json", "--as-of", "2026-11-10",
                           cwd=tmp_path).stdout)
    zcodes = {t["code"] for t in zhou["tags"]}
    assert {"complaint", "fitness", "morning"} <= zcodes
    assert "image" in zcodes


def test_reimport_changes_nothing(tmp_path: Path) -> None:
    export = write_chatlab(tmp_path / "chat.json")
    siyu("ingest", str(export), cwd=tmp_path)
    first = dump(tmp_path / "siyu.db")
    out = siyu("ingest", str(export), cwd=tmp_path).stdout
    assert "新增 0 条" in out and "重复 8 条" in out
    assert dump(tmp_path / "siyu.db") == first


def test_personas_json_lists_every_member(tmp_path: Path) -> None:
    siyu("ingest", str(write_chatlab(tmp_path / "chat.json")), cwd=tmp_path)
    doc = json.loads(siyu("personas", "--json", "--as-of", "2026-11-20T20:00:00+08:00",
                          cwd=tmp_path).stdout)
    ids = {m["member_id"] for m in doc["members"]}
    assert ids == {"wxid_duoduo", "wxid_laozhou", "wxid_silent"}
    silent = next(m for m in doc["members"] if m["member_id"] == "wxid_silent")
    assert silent["segments"]["lifecycle"] == "potential"
    assert silent["stats"]["messages"] == 0
    text = siyu("personas", "--as-of", "2026-11-20", cwd=tmp_path).stdout
    assert "朵朵妈" in text and "价格敏感型" in text


def test_persona_text_quotes_evidence(tmp_path: Path) -> None:
    siyu("ingest", str(write_chatlab(tmp_path / "chat.json")), cwd=tmp_path)
    text = siyu("persona", "朵朵妈", "--as-of", "2026-11-20", cwd=tmp_path).stdout
    assert "母婴育儿" in text and "杭州" in text and "「" in text


def test_broken_lines_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    export = write_chatlab(tmp_path / "chat.json", extra=[
        {"accountName": "无名", "timestamp": ts(7, 10), "type": 0, "content": "没有 sender"},
        {"sender": "wxid_x", "accountName": "x", "timestamp": "abc", "type": 0,
         "content": "坏时间"},
    ])
    proc = siyu("ingest", str(export), cwd=tmp_path)
    assert "新增 8 条" in proc.stdout and "拒绝 2 行" in proc.stdout
    errs = [line for line in proc.stderr.splitlines() if "chat.json:" in line]
    assert len(errs) == 2
    assert any("sender" in e for e in errs) and any("timestamp" in e for e in errs)


def test_unknown_format_is_a_one_line_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("这不是聊天记录\n只是一些笔记\n", encoding="utf-8")
    proc = siyu("ingest", str(junk), cwd=tmp_path, check=False)
    assert proc.returncode != 0
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "notes.txt" in err[0]


def test_read_commands_explain_missing_db_and_member(tmp_path: Path) -> None:
    proc = siyu("personas", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "siyu ingest" in proc.stderr
    assert not (tmp_path / "siyu.db").exists()
    siyu("ingest", str(write_chatlab(tmp_path / "chat.json")), cwd=tmp_path)
    proc = siyu("persona", "不存在的人", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "找不到成员" in proc.stderr
    proc = siyu("personas", "--as-of", "昨天", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "--as-of" in proc.stderr


def test_db_option_and_env(tmp_path: Path) -> None:
    export = write_chatlab(tmp_path / "chat.json")
    siyu("--db", f"sqlite:///{tmp_path / 'other.db'}", "ingest", str(export), cwd=tmp_path)
    assert (tmp_path / "other.db").exists() and not (tmp_path / "siyu.db").exists()


def test_schema_version_mismatch_is_refused(tmp_path: Path) -> None:
    siyu("ingest", str(write_chatlab(tmp_path / "chat.json")), cwd=tmp_path)
    con = sqlite3.connect(tmp_path / "siyu.db")
    con.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    con.commit()
    con.close()
    proc = siyu("personas", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "版本" in proc.stderr


@pytest.mark.parametrize("tokenizer", ["jieba", "rjieba"])
def test_demo_runs_offline(tmp_path: Path, tokenizer: str) -> None:
    (tmp_path / "siyu.toml").write_text(f'tokenizer = "{tokenizer}"\n', encoding="utf-8")
    proc = siyu("demo", cwd=tmp_path)
    assert "小禾优选" in proc.stdout
    assert "生命周期" in proc.stdout and "兴趣热度" in proc.stdout
    assert proc.stdout.count("标签（") >= 3  # three example personas with evidence
    assert (tmp_path / "siyu-demo.db").exists()
