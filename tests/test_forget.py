"""Erasure is complete: after `siyu forget`, no column of any table mentions the member."""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

from cli_helpers import siyu

AS_OF = "2026-11-20T20:00:00+08:00"




def mentions(db: Path, needles: set[str]) -> list[str]:
    """Every (table, column) whose value contains any needle, scanning all of them."""
    con = sqlite3.connect(db)
    found = []
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        for row in con.execute(f"SELECT * FROM {table}"):
            for col, value in zip(cols, row, strict=True):
                text = value if isinstance(value, str) else str(value)
                hit = [n for n in needles if n and n in text]
                if hit:
                    found.append(f"{table}.{col}: {hit}")
    con.close()
    return found


def test_forget_leaves_no_trace_in_any_table(tmp_path: Path) -> None:
    folder = Path(str(resources.files("bot") / "data" / "sample"))
    siyu("ingest", *sorted(str(p) for p in folder.glob("*.json")), cwd=tmp_path)
    siyu("import-orders", str(folder / "orders.csv"), cwd=tmp_path)
    siyu("segment", "--as-of", AS_OF, cwd=tmp_path)
    who = json.loads(siyu("persona", "小确幸", "--json", "--as-of", AS_OF, cwd=tmp_path).stdout)
    siyu("suggest", who["member_id"], "--as-of", AS_OF, cwd=tmp_path)
    db = tmp_path / "siyu.db"
    con = sqlite3.connect(db)
    msg_ids = {r[0] for r in con.execute(
        "SELECT m.id FROM message m JOIN member b ON b.id = m.member_pk WHERE b.member_id = ?",
        (who["member_id"],))}
    order_ids = {r[0] for r in con.execute(
        "SELECT o.order_id FROM orders o JOIN member b ON b.id = o.member_pk "
        "WHERE b.member_id = ?", (who["member_id"],))}
    pk = con.execute("SELECT id FROM member WHERE member_id = ?",
                     (who["member_id"],)).fetchone()[0]
    packed = con.execute("SELECT count(*) FROM member_tags WHERE member_pk = ?",
                         (pk,)).fetchone()[0]
    con.close()
    assert packed == 1  # segmentation's packed tags (numbers in a blob): erasure takes them
    needles = {who["member_id"], who["name"], *msg_ids, *order_ids}
    assert mentions(db, needles)  # the scan finds them before erasure
    out = siyu("forget", who["member_id"], "--yes", cwd=tmp_path).stdout
    assert "已删除 小确幸" in out
    assert mentions(db, needles) == []
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM member_tags WHERE member_pk = ?",
                       (pk,)).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM member_tags").fetchone()[0] == 50
    con.close()
    # everyone else is untouched
    others = json.loads(siyu("personas", "--json", "--as-of", AS_OF,
                             cwd=tmp_path).stdout)["members"]
    # 50 others, of whom the sample's 3 group owners/admins are staff and never listed
    assert len(others) == 47 and all(m["member_id"] != who["member_id"] for m in others)
