"""Nobody who addresses the bot is met with silence (issue 17, items 2 and 3), tried through
the console transport as an operator would: the scripts' footer, help, typos, refusals."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from handlers.feedback import feedback_summary
from handlers.settings import Settings
from storage.db import open_database
from storage.repo import Store
from tests.test_bot import CONFIG, rows, run_console

COMPLAINT = "朵朵妈: 纸尿裤又漏了，太失望了，质量太差\n"


def test_the_footer_is_true_without_the_slash_and_the_adoption_rate_counts(
        tmp_path: Path) -> None:
    script = COMPLAINT + "私聊 运营小美: 已发 1\n私聊 运营小美: 忽略2\n"
    out, db = run_console(tmp_path, script)
    assert "发送后回复「已发 1」" in out  # the footer the operator follows
    assert "[私聊→运营小美] #1（朵朵妈）已标记为已发送。" in out
    assert "[私聊→运营小美] #2（朵朵妈）已标记为忽略。" in out
    assert dict(rows(db, "SELECT id, status FROM suggestion")) == {1: "sent", 2: "dismissed"}
    # The replies are commands, not chat: nothing of the operator's is stored.
    assert rows(db, "SELECT count(*) FROM message")[0][0] == 1
    store = Store(open_database(f"sqlite:///{db}"))
    summary = feedback_summary(store, datetime.now(UTC), Settings())
    assert summary["totals"]["acceptance_rate"] == 0.5


def test_with_the_slash_too_and_a_member_saying_it_is_only_chat(tmp_path: Path) -> None:
    out, db = run_console(tmp_path, COMPLAINT + "私聊 运营小美: /已发 #1\n私聊 老周: 已发 1\n")
    assert "#1（朵朵妈）已标记为已发送。" in out
    assert "[私聊→老周]" not in out
    assert ("已发 1",) in rows(db, "SELECT text FROM message")


def test_help_lists_what_this_sender_may_use_with_an_example_each(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, "私聊 运营小美: /帮助\n老周: /help\n")
    operator, member = out.split("[私聊→老周]")
    assert "你的身份：运营" in operator
    for example in ("例：/建议 @朵朵妈", "例：/画像 @朵朵妈", "例：已发 12", "例：/我的数据"):
        assert example in operator
    assert "/报告" not in operator  # managers only
    assert "你的身份：成员" in member and "例：/退出" in member
    assert "/建议" not in member and "[bot] operators / managers" in member


def test_an_unknown_command_gets_the_nearest_one(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, "运营小美: /画象 @朵朵妈\n私聊 老周: /删\n私聊 老周: /zzz\n")
    assert "[私聊→运营小美] 没有「/画象」这个命令，你是不是想用 /画像？例如：/画像 @朵朵妈" in out
    assert "[私聊→老周] 没有「/删」这个命令，你是不是想用 /删除？" in out
    assert "[私聊→老周] 没有「/zzz」这个命令。发送 /帮助 查看你可用的命令。" in out


def test_a_refusal_says_how_to_become_staff(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, "老周: /报告\n老周: /建议 @朵朵妈\n")
    assert ("只对管理者开放。如需使用，请管理者把你的 ID「老周」加入 siyu.toml 的 "
            "[bot] managers") in out
    assert "只对管理者、运营开放。如需使用" in out and "[bot] operators 或 managers" in out


def test_suggest_without_a_mention_shows_its_own_usage(tmp_path: Path) -> None:
    out, _ = run_console(tmp_path, "运营小美: /建议\n")
    assert "[私聊→运营小美] 请 @ 一位成员，例如：/建议 @朵朵妈" in out
    assert "/画像" not in out


def _run_cmd(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "--db", f"sqlite:///{tmp_path / 't.db'}", "run"]


def test_run_without_siyu_toml_says_nobody_receives_the_scripts(tmp_path: Path) -> None:
    proc = subprocess.run(_run_cmd(tmp_path), cwd=tmp_path, input="小张: 你好\n", text=True,
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "没有配置运营或管理者（当前目录没有 siyu.toml）" in proc.stderr
    assert "operators = [" in proc.stderr and "managers = [" in proc.stderr


def test_run_with_staff_configured_says_nothing_about_it(tmp_path: Path) -> None:
    (tmp_path / "siyu.toml").write_text(CONFIG, encoding="utf-8")
    proc = subprocess.run(_run_cmd(tmp_path), cwd=tmp_path, input="", text=True,
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0 and "没有配置运营" not in proc.stderr
