"""Staff are never profiled, scripted or counted (issue 17, item 4): the export's owner and
admins, `[bot] managers/operators` and `[suggest] staff`, tried as an operator would — the CLI
in a temp directory, and the console bot."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import ingest_group, siyu

from tests.test_bot import rows, run_console

CONFIG = """
[bot]
managers = ["wxid_boss"]
operators = ["wxid_op"]

[suggest]
staff = ["小禾助手"]
"""

CUSTOMERS = ("wxid_duoduo", "wxid_mili")


def _export(tmp_path: Path) -> None:
    people = [
        {"platformId": "wxid_owner", "accountName": "群主老杨", "roles": [{"id": "owner"}]},
        {"platformId": "wxid_helper", "accountName": "小禾客服", "roles": [{"id": "admin"}]},
        {"platformId": "wxid_bot", "accountName": "小禾助手"},
        {"platformId": "wxid_boss", "accountName": "王经理"},
        {"platformId": "wxid_op", "accountName": "运营小美"},
        {"platformId": "wxid_duoduo", "accountName": "朵朵妈"},
        {"platformId": "wxid_mili", "accountName": "米粒妈妈"},
    ]
    texts = ["新品纸尿裤到了，有没有人要？优惠价 99", "我家宝宝8个月了，纸尿裤有没有优惠？"]
    messages = [{"sender": p["platformId"], "accountName": p["accountName"],
                 "timestamp": 1763640000 + 600 * i + j, "type": 0, "content": texts[j % 2]}
                for i, p in enumerate(people) for j in range(6)]
    (tmp_path / "siyu.toml").write_text(CONFIG, encoding="utf-8")
    ingest_group(tmp_path, people, messages)


def test_staff_are_not_listed_counted_or_scripted(tmp_path: Path) -> None:
    _export(tmp_path)
    as_of = ("--as-of", "2025-11-21T12:00:00+08:00")
    listed = json.loads(siyu("personas", "--json", *as_of, cwd=tmp_path).stdout)
    assert sorted(m["member_id"] for m in listed["members"]) == list(CUSTOMERS)

    seg = json.loads(siyu("segment", "--json", *as_of, cwd=tmp_path).stdout)
    assert sorted(seg["assignments"]) == list(CUSTOMERS)
    assert sum(seg["counts"]["layer"].values()) == 2

    for who in ("wxid_owner", "wxid_helper", "wxid_bot", "wxid_boss", "wxid_op"):
        out = json.loads(siyu("suggest", who, "--json", *as_of, cwd=tmp_path).stdout)
        assert out["suggestions"] == [], who
    customer = json.loads(siyu("suggest", "wxid_duoduo", "--json", *as_of, cwd=tmp_path).stdout)
    assert customer["suggestions"]

    # An explicit look-up still answers: staff are not hidden from their own operators.
    card = json.loads(siyu("persona", "wxid_helper", "--json", *as_of, cwd=tmp_path).stdout)
    assert card["member_id"] == "wxid_helper"


def test_a_manager_chatting_gets_no_welcome_script_about_himself(tmp_path: Path) -> None:
    config = '[bot]\nmanagers = ["王经理"]\noperators = ["运营小美"]\n'
    out, db = run_console(tmp_path, "王经理: 大家好，新品纸尿裤到了，有没有人想试试？\n"
                                    "运营小美: 有需要的宝妈私聊我哦\n朵朵妈: 我家宝宝8个月了\n",
                          config=config)
    about = {r[0] for r in rows(db, "SELECT m.member_id FROM suggestion s "
                                    "JOIN member m ON m.id = s.member_pk")}
    assert about == {"朵朵妈"}
    assert "王经理" not in out.split("[私聊→运营小美]", 1)[-1]
