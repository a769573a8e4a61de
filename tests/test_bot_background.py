"""Long chat commands never hold the bot (issue 18 item 4's spirit): /分群, /报告, /邀请 run
on the background lane and /建议's polish follows, while members' messages keep flowing.

Through the real console transport and dispatcher. Each slow step is held at a gate until the
member message typed after the command is stored — so the test asserts an order of events,
never a time: had the command run on the event loop, that message could not be stored before
the command's result, and the gate would give up and let the result go first.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.routers.manager as manager_router
from bot.config import load_settings
from bot.runner import Bot
from bot.transports.console import ConsoleTransport
from tests.test_llm import FakeLLM, _Handler

CONFIG = '[bot]\nmanagers = ["王经理"]\noperators = ["运营小美"]\n'
COMMUNITY = [
    "朵朵妈: 我在上海，我家宝宝8个月了", "朵朵妈: 有没有优惠？有的话我再下单",
    "小雨: 上海这边什么时候发货？", "小雨: 上次买的纸尿裤很好用",
    "Lily: 在上海上班，每天通勤一个小时", "Lily: 跳绳很好用，已经回购了",
    "老周: 快递还没到", "米粒妈: 我家宝宝两岁了，在上海", "米粒妈: 有没有优惠券？",
]
# Typed right after the command: a complaint, whose script goes to the operator at once.
AFTER = "老周: 纸尿裤又漏了，太失望了，质量太差"
GATE_LIMIT = 60.0  # seconds a gate waits for the message before giving up (a failure)


def run_console(tmp_path: Path, lines: list[str], config: str = CONFIG) -> tuple[str, Bot]:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(config, encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'bot.db'}")
    out = io.StringIO()
    bot = Bot(settings, ConsoleTransport(stdin=io.StringIO("\n".join(lines) + "\n"),
                                         stdout=out))
    asyncio.run(bot.run())
    return out.getvalue(), bot


def stored(db: Path, text: str) -> bool:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM message WHERE text = ?",
                           (text,)).fetchone()[0] > 0
    finally:
        con.close()


def wait_until_stored(db: Path, text: str) -> bool:
    """In the gated worker: wait for the member message typed after the command."""
    deadline = time.monotonic() + GATE_LIMIT
    while time.monotonic() < deadline:
        if stored(db, text):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def gated_segmentation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The real segmentation, held until AFTER is stored; records whether it was."""
    real, seen = manager_router.run_and_store, []

    def gated(*args: Any, **kwargs: Any) -> Any:
        seen.append(wait_until_stored(tmp_path / "bot.db", AFTER.split(": ", 1)[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(manager_router, "run_and_store", gated)
    return seen


def test_members_talk_on_while_a_segmentation_runs_and_a_second_one_is_refused(
        tmp_path: Path, gated_segmentation: list[bool],
        caplog: pytest.LogCaptureFixture) -> None:
    chat = [f"小雨: 今天第{i}次说话" for i in range(20)]
    with caplog.at_level(logging.ERROR):
        out, _ = run_console(tmp_path, [*COMMUNITY, "私聊 王经理: /分群", AFTER,
                                          "私聊 王经理: /分群", *chat])
    started = out.index("[私聊→王经理] 正在重新分群，完成后发给你…")
    refused = out.index("[私聊→王经理] 已经有一次分群正在进行")
    script = out.index("[私聊→运营小美]", started)  # AFTER's complaint, handled meanwhile
    summary = out.index("[私聊→王经理] 分群摘要（第 1 次")  # sent before the bot stopped
    assert started < refused < summary and started < script < summary
    assert gated_segmentation == [True]  # one segmentation, and the message got in first
    # The chat after it was stored beside the worker's writes, none lost to a locked file.
    assert all(stored(tmp_path / "bot.db", line.split(": ", 1)[1]) for line in chat)
    assert "database is locked" not in caplog.text and "处理事件失败" not in caplog.text
    con = sqlite3.connect(tmp_path / "bot.db")
    assert con.execute("SELECT count(*) FROM segment_run").fetchone()[0] == 1
    con.close()


def test_a_failed_segmentation_is_one_line_to_the_asker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("磁盘已满\nTraceback (most recent call last): …")

    monkeypatch.setattr(manager_router, "run_and_store", broken)
    out, _ = run_console(tmp_path, [*COMMUNITY, "私聊 王经理: /分群", "私聊 王经理: /分群"])
    line = "[私聊→王经理] 重新分群没有完成：磁盘已满。请稍后再试，详情见机器人日志。\n"
    # The second /分群 came after the first failed: it is run, not refused.
    assert out.count(line) in (1, 2) and "Traceback" not in out


def test_the_report_follows_its_answer_and_members_talk_on_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real, seen = manager_router.build_report, []

    def gated(*args: Any, **kwargs: Any) -> Any:
        seen.append(wait_until_stored(tmp_path / "bot.db", AFTER.split(": ", 1)[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(manager_router, "build_report", gated)
    out, _ = run_console(tmp_path, [*COMMUNITY, "私聊 王经理: /报告", AFTER])
    started = out.index("[私聊→王经理] 正在生成分群报告（文字+图表），完成后发给你…")
    script = out.index("[私聊→运营小美]", started)
    report = out.index("[私聊→王经理] 社群报告（截至")
    assert seen == [True] and started < script < report


class GatedLLM(FakeLLM):
    """FakeLLM whose answers wait until `ready()` is true (checked in its own thread)."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        self.ready = ready
        self.gate_held: list[bool] = []
        super().__init__()
        self.RequestHandlerClass = _GatedHandler


class _GatedHandler(_Handler):
    server: GatedLLM

    def do_POST(self) -> None:
        deadline = time.monotonic() + GATE_LIMIT
        while not self.server.ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.server.gate_held.append(self.server.ready())
        super().do_POST()


@pytest.fixture
def gated_llm(tmp_path: Path) -> Iterator[GatedLLM]:
    server = GatedLLM(lambda: stored(tmp_path / "bot.db", "谢谢大家，收到了"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_suggest_and_invites_answer_plain_and_the_polish_follows(
        tmp_path: Path, gated_llm: GatedLLM) -> None:
    """/建议 and /邀请 with `[llm]` on: the plain script at once, the member's message after
    the command handled, then the polished script (the endpoint answers only once that
    message is stored)."""
    config = (CONFIG + 'segment_every_hours = 0\nreactivation_every_hours = 0\n'
              f'weekly_report = ""\n[llm]\nbase_url = "{gated_llm.url}"\nmodel = "tiny"\n'
              "timeout = 60\n")
    out, _ = run_console(tmp_path, [
        *COMMUNITY, "私聊 运营小美: /建议 @米粒妈", "私聊 运营小美: /邀请 周末亲子烘焙课 new",
        "小雨: 谢谢大家，收到了"], config=config)
    asked = out.index("[私聊→运营小美] 正在为分群 new 起草「周末亲子烘焙课」的邀请")
    # /建议's answer: the last script before that line, plain; its polish comes later.
    plain = out.rindex("[私聊→运营小美] #", 0, asked)
    handle = out[plain:].split()[1]
    assert "待处理" in out[plain:asked].splitlines()[0]
    assert out.index(f"[私聊→运营小美] {handle} ", asked) > asked
    drafts = out.index("[私聊→运营小美] 活动邀请草稿：「周末亲子烘焙课」", asked)
    invite = out[drafts:].split("\n#", 1)[1].split()[0]  # the first draft's number
    assert out.index(f"[私聊→运营小美] #{invite} 活动邀请 · 润色版") > drafts
    # Every answer waited for the message typed after the commands, and got it.
    assert gated_llm.gate_held and all(gated_llm.gate_held)
    con = sqlite3.connect(tmp_path / "bot.db")
    assert con.execute("SELECT count(*) FROM suggestion WHERE polished").fetchone()[0] >= 1
    con.close()


def test_a_segmentation_overlapping_an_erasure_is_run_again_without_her(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/删除 typed while /分群's worker has read the community and not yet stored the run: the
    run's rows name a member who is gone, so storing it fails (a foreign key) and it is run
    once more, without her; the manager gets the summary, never her."""
    import bot.routers.member as member_router
    from storage.segments import SegmentStore

    real, outcomes, read = SegmentStore.save_run, [], threading.Event()
    real_erase = member_router.erase_now

    def erase_after_the_reads(*args: Any) -> Any:
        read.wait(GATE_LIMIT)  # on the loop: the worker needs it not
        return real_erase(*args)

    def held(self: SegmentStore, *args: Any, **kwargs: Any) -> int:
        if not outcomes:  # the first run: read, and stored only once she is erased
            read.set()
            deadline = time.monotonic() + GATE_LIMIT
            while time.monotonic() < deadline and member_count(tmp_path, "小李"):
                time.sleep(0.02)
        try:
            run_id = real(self, *args, **kwargs)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
            raise
        outcomes.append("stored")
        return run_id

    monkeypatch.setattr(SegmentStore, "save_run", held)
    monkeypatch.setattr(member_router, "erase_now", erase_after_the_reads)
    her = ["小李: 我在杭州，我家宝宝8个月了", "小李: 奶粉有没有优惠？"]
    out, _ = run_console(tmp_path, [*COMMUNITY, *her, "私聊 王经理: /分群", "私聊 小李: /删除"])
    assert outcomes == ["IntegrityError", "stored"]
    assert "[私聊→王经理] 分群摘要（第 1 次" in out and "没有完成" not in out
    assert "[私聊→小李] 已删除关于你的全部数据" in out
    con = sqlite3.connect(tmp_path / "bot.db")
    (doc,) = con.execute("SELECT result FROM segment_run").fetchone()
    assert con.execute("SELECT count(*) FROM member_segment ms LEFT JOIN member m "
                       "ON m.id = ms.member_pk WHERE m.id IS NULL").fetchone()[0] == 0
    con.close()
    assert "小李" not in doc and "杭州" not in doc


def member_count(tmp_path: Path, name: str) -> int:
    con = sqlite3.connect(tmp_path / "bot.db")
    try:
        return con.execute("SELECT count(*) FROM member WHERE name = ?", (name,)).fetchone()[0]
    finally:
        con.close()


def test_patterns_changes_and_a_segment_card_before_the_first_run_do_not_hold_the_bot(
        tmp_path: Path, gated_segmentation: list[bool]) -> None:
    """/模式, /变化 and 画像 <分群> read the stored run; before there is one they ran the first
    segmentation inline, holding every group. Now it runs on the lane, once, the answers
    follow, and the member typing meanwhile is handled first."""
    out, _ = run_console(tmp_path, [*COMMUNITY, "私聊 王经理: /模式", AFTER,
                                    "私聊 王经理: /变化", "私聊 王经理: /画像 new"])
    started = out.index("[私聊→王经理] 还没有分群结果：正在第一次分群，完成后把发现的模式发给你…")
    script = out.index("[私聊→运营小美]", started)  # AFTER's complaint, handled meanwhile
    patterns = out.index("[私聊→王经理] 发现的模式：")
    assert started < script < patterns
    assert out.index("完成后把分群变化发给你…") < patterns
    assert "这是第一次分群" in out[patterns:]  # /变化's answer, from the run just stored
    assert "完成后把「new」的人物卡发给你…" in out
    assert "【新用户】" in out[patterns:]  # the card of the new members
    assert gated_segmentation == [True]  # one segmentation for the three, after the message
    con = sqlite3.connect(tmp_path / "bot.db")
    assert con.execute("SELECT count(*) FROM segment_run").fetchone()[0] == 1
    con.close()
    # With a run stored, the same commands answer at once, from it.
    again, _ = run_console(tmp_path, ["私聊 王经理: /模式"])
    assert "[私聊→王经理] 发现的模式：" in again and "还没有分群结果" not in again
