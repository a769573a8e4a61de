"""Trying the bot in the console reaches the people already imported and never corrupts the
real database (issue 17, item 1): the console transport driven in-process against an
imported community, and `siyu run` in a temp directory."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

from cli_helpers import ingest_group, siyu

from bot.config import load_settings
from bot.runner import Bot
from bot.transports.console import ConsoleTransport

CONFIG = '[bot]\noperators = ["运营小美"]\n'


def _community(tmp_path: Path) -> Path:
    people = [
        {"platformId": "wxid_milima", "accountName": "米粒妈妈", "groupNickname": "米粒妈-闵行"},
        {"platformId": "wxid_a", "accountName": "小A", "aliases": ["宝妈"]},
        {"platformId": "wxid_b", "accountName": "小B", "aliases": ["宝妈"]},
    ]
    messages = [{"sender": p["platformId"], "accountName": p["accountName"],
                 "groupNickname": p.get("groupNickname"), "timestamp": 1763640000 + 60 * i,
                 "type": 0, "content": "宝宝8个月了"}
                for i, p in enumerate(people)]
    (tmp_path / "siyu.toml").write_text(CONFIG, encoding="utf-8")
    ingest_group(tmp_path, people, messages)
    return tmp_path / "siyu.db"


def _console(tmp_path: Path, script: str) -> str:
    settings = load_settings(str(tmp_path / "siyu.toml"), db=f"sqlite:///{tmp_path / 'siyu.db'}")
    out = io.StringIO()
    asyncio.run(Bot(settings, ConsoleTransport(stdin=io.StringIO(script), stdout=out)).run())
    return out.getvalue()


def _members(db: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT m.member_id, count(g.id) FROM member m LEFT JOIN message g "
                           "ON g.member_pk = m.id GROUP BY m.id ORDER BY m.member_id").fetchall()
    finally:
        con.close()


def test_a_typed_name_speaks_as_the_member_it_names(tmp_path: Path) -> None:
    db = _community(tmp_path)
    out = _console(tmp_path, "米粒妈妈: 纸尿裤又漏了，太失望了\n宝妈: 有没有优惠\n小张: 你好\n"
                             "运营小美: /画像 @米粒妈妈\n")
    assert "（「米粒妈妈」= 已有成员 米粒妈-闵行（wxid_milima）" in out
    assert "（「宝妈」对应 2 位成员：小A（wxid_a）、小B（wxid_b）" in out
    assert "（「小张」是新成员" in out
    # her complaint joined her history: no stub member, and no welcome for a "newcomer"
    assert ("wxid_milima", 2) in _members(db) and "米粒妈妈" not in dict(_members(db))
    assert dict(_members(db))["小张"] == 1
    con = sqlite3.connect(db)
    scripts = con.execute("SELECT m.member_id, s.scenario FROM suggestion s "
                          "JOIN member m ON m.id = s.member_pk").fetchall()
    con.close()
    assert ("wxid_milima", "welcome") not in scripts and scripts
    assert "米粒妈-闵行（wxid_milima）" in out


def test_siyu_run_tries_the_bot_on_a_scratch_copy_unless_told_to_write(tmp_path: Path) -> None:
    db = _community(tmp_path)
    before = _members(db)
    proc = siyu("run", cwd=tmp_path, stdin="米粒妈妈: 纸尿裤又漏了\n私聊 米粒妈妈: /我的数据\n")
    assert "临时副本" in proc.stderr and "--write" in proc.stderr
    assert "[私聊→wxid_milima] 米粒妈-闵行，这是我们保存的关于你的数据" in proc.stdout
    assert "消息 2 条" in proc.stdout  # the copy holds her history and the new line
    assert _members(db) == before  # the real database is untouched
    siyu("run", "--write", cwd=tmp_path, stdin="米粒妈妈: 纸尿裤又漏了\n")
    assert dict(_members(db))["wxid_milima"] == 2
