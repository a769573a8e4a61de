"""The live bot through the console transport: routing, roles, privacy, audit, ingest."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.runner import Bot, BotConfig
from bot.transports.console import ConsoleTransport
from handlers.settings import ConfigError

CONFIG = """
[bot]
managers = ["王经理"]
operators = ["运营小美"]
"""


def run_console(tmp_path: Path, script: str, config: str = CONFIG) -> tuple[str, Path]:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(config, encoding="utf-8")
    db = tmp_path / "bot.db"
    settings = load_settings(str(cfg), db=f"sqlite:///{db}")
    out = io.StringIO()
    transport = ConsoleTransport(stdin=io.StringIO(script), stdout=out)
    asyncio.run(Bot(settings, transport).run())
    return out.getvalue(), db


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_group_messages_are_ingested_and_bot_stays_quiet_in_group(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, "朵朵妈: 我家宝宝8个月了，有没有优惠？\n有货吗\n")
    assert "[群" not in out  # the bot never speaks into a member group unprompted
    assert rows(db, "SELECT count(*) FROM message")[0][0] == 2
    # the live path rebuilt the stored tags on shutdown
    codes = {r[0] for r in rows(db, "SELECT code FROM tag")}
    assert {"parenting", "question", "price"} <= codes


def test_staff_command_answered_privately_even_from_a_group(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, "朵朵妈: 我家宝宝8个月了\n运营小美: /画像 @朵朵妈\n")
    assert "[私聊→运营小美] 朵朵妈（朵朵妈）" in out
    assert "母婴育儿" in out and "[群" not in out


def test_member_is_refused_staff_commands_and_refusal_is_audited(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, "朵朵妈: 你好\n老周: /画像 @朵朵妈\n")
    assert "[私聊→老周] 抱歉，「画像」只对管理者、运营开放。" in out
    assert "母婴育儿" not in out
    assert rows(db, "SELECT actor, command, allowed FROM audit_log") == [("老周", "画像", 0)]


def test_english_alias_and_audit_of_allowed_lookup(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, "朵朵妈: 你好\n王经理: /persona @朵朵妈\n")
    assert "[私聊→王经理] 朵朵妈" in out
    assert rows(db, "SELECT actor, command, target, allowed FROM audit_log") == [
        ("王经理", "画像", "朵朵妈", 1)]


def test_commands_are_not_ingested(tmp_path: Path) -> None:
    _, db = run_console(tmp_path, "运营小美: /画像 @nobody\n")
    assert rows(db, "SELECT count(*) FROM message")[0][0] == 0


def test_unknown_slash_text_is_ordinary_chat(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, "朵朵妈: /哈哈 今天好开心\n")
    assert "[群" not in out and "[私聊→朵朵妈]" not in out
    assert rows(db, "SELECT text FROM message") == [("/哈哈 今天好开心",)]


def test_my_data_opt_out_and_forget(tmp_path: Path) -> None:
    script = "\n".join([
        "朵朵妈: 我在杭州，我家宝宝8个月了",
        "朵朵妈: /我的数据",          # asked in the group: answered privately
        "朵朵妈: /退出",
        "朵朵妈: 这条不该被记录",
        "老周: 快递还没到",
        "私聊 老周: /删除",
    ]) + "\n"
    out, db = run_console(tmp_path, script)
    assert "[私聊→朵朵妈] 朵朵妈，这是我们保存的关于你的数据" in out
    assert "城市：杭州" in out and "[群" not in out
    texts = [r[0] for r in rows(db, "SELECT text FROM message")]
    assert texts == ["我在杭州，我家宝宝8个月了"]
    assert rows(db, "SELECT opted_out FROM member WHERE member_id='朵朵妈'") == [(1,)]
    assert "已删除关于你的全部数据" in out
    assert rows(db, "SELECT count(*) FROM member WHERE member_id='老周'") == [(0,)]


def test_opt_out_before_ever_speaking(tmp_path: Path) -> None:
    _, db = run_console(tmp_path, "私聊 新人: /退出\n新人: 你好\n")
    assert rows(db, "SELECT count(*) FROM message")[0][0] == 0
    assert rows(db, "SELECT opted_out FROM member") == [(1,)]


def test_manual_tags(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, "朵朵妈: 你好\n运营小美: /标签 @朵朵妈 +高意向 -不存在\n"
                                    "运营小美: /标签 @朵朵妈 -高意向\n")
    assert "添加「高意向」" in out
    assert "移除「高意向」" in out
    assert rows(db, "SELECT count(*) FROM tag WHERE source='manual'") == [(0,)]


def test_bad_bot_config_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = "王经理"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[bot\] managers"):
        BotConfig.from_settings(load_settings(str(cfg)))
    cfg.write_text('[bot]\nmanager = ["王经理"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="manager"):
        BotConfig.from_settings(load_settings(str(cfg)))


def test_console_ends_cleanly_on_end_of_input_via_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "siyu.toml").write_text(CONFIG, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path,
                          input="小张: 周末去云南旅行\n私聊 小张: /我的数据\n", text=True,
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "[私聊→小张]" in proc.stdout and "旅行" in proc.stdout


def test_join_starts_new_stage_with_channel_and_one_consent_notice(tmp_path: Path) -> None:
    config = CONFIG + 'consent_notice = "欢迎！我们会分析群聊来更好地服务你，发送 /退出 可停止。"\n'
    out, db = run_console(tmp_path, ":入群 小李 小禾助手\n:入群 小李 小禾助手\n"
                                    "运营小美: /画像 @小李\n", config=config)
    assert out.count("[私聊→小李] 欢迎！") == 1
    assert "邀请入群（小禾助手）" in out and "新用户" in out
    # each join event is its own stored fact (two events, two rows); the notice went once
    assert rows(db, "SELECT type, text FROM message") == [
        ("system", '"小禾助手"邀请"小李"加入了群聊')] * 2


def test_bot_loads_everything_before_the_first_message_and_freezes_it_while_running(
        tmp_path: Path) -> None:
    """The first message must not pay for loading the dictionary and playbook, and the
    objects loaded at start-up are kept out of the collector while the bot runs (then
    handed back, so a process that goes on after the bot can free them)."""
    import gc

    cfg = tmp_path / "siyu.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'bot.db'}")
    seen: dict[str, object] = {}

    class Watching(ConsoleTransport):
        async def run(self, on_event):  # type: ignore[no-untyped-def]
            seen["frozen"] = gc.get_freeze_count()
            seen["loaded"] = {"store", "analyzer", "labels"} <= set(bot.app.__dict__)
            seen["hook"] = bot.live._triggers is not None
            await super().run(on_event)

    bot = Bot(settings, Watching(stdin=io.StringIO("朵朵妈: 你好\n"), stdout=io.StringIO()))
    assert bot.live._triggers is None  # set up by run(), not by constructing
    asyncio.run(bot.run())
    assert seen == {"frozen": seen["frozen"], "loaded": True, "hook": True}
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 1000
    assert gc.get_freeze_count() == 0
