"""Scheduled jobs: the weekly report reaches managers and a local webhook; failures are logged
and never stop the bot; reactivation reaches operators."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.runner import Bot, parse_weekly
from bot.scheduler import guarded
from bot.transports.console import ConsoleTransport
from handlers.settings import ConfigError


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A WeCom-robot stand-in on 127.0.0.1 recording what it receives."""
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode":0}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test", received
    finally:
        server.shutdown()


def make_bot(tmp_path: Path, extra: str = "", script: str = "") -> tuple[Bot, ConsoleTransport]:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = ["王经理"]\noperators = ["运营小美"]\n' + extra,
                   encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'bot.db'}")
    transport = ConsoleTransport(stdin=io.StringIO(script), stdout=io.StringIO())
    return Bot(settings, transport), transport


def test_weekly_report_goes_to_managers_and_webhook(tmp_path: Path, webhook) -> None:
    url, received = webhook
    bot, transport = make_bot(tmp_path, f'report_webhook = "{url}"\n',
                              "朵朵妈: 我家宝宝8个月了，有没有优惠？\n老周: 每天晨跑打卡\n")
    asyncio.run(bot.run())  # ingest the script, then stop at end of input
    asyncio.run(bot.weekly_report())
    kinds = [(kind, to) for kind, to, _ in transport.sent]
    assert ("private", "王经理") in kinds and ("image", "王经理") in kinds
    report = next(text for kind, to, text in transport.sent if kind == "private" and to == "王经理"
                  and "分群规模" in text)
    assert "生命周期" in report
    image = next(Path(text) for kind, _, text in transport.sent if kind == "image")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(received) == 1 and received[0]["msgtype"] == "text"
    assert "分群规模" in received[0]["text"]["content"]  # type: ignore[index]
    assert all(to in ("王经理", "运营小美") for _, to, _ in transport.sent)


def test_failing_job_is_logged_and_the_bot_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="siyu.jobs"):
        asyncio.run(guarded("broken", broken)())
    assert "broken" in caplog.text and "boom" in caplog.text


def test_webhook_failure_does_not_stop_jobs(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                            ) -> None:
    bot, _ = make_bot(tmp_path, 'report_webhook = "http://127.0.0.1:9/nothing"\n')
    with caplog.at_level(logging.ERROR, logger="siyu.jobs"):
        asyncio.run(guarded("weekly_report", bot.weekly_report)())
    assert "weekly_report" in caplog.text


def test_reactivation_reaches_operators(tmp_path: Path) -> None:
    bot, transport = make_bot(tmp_path, script="老周: 快递三天了还没到，太失望了\n")
    asyncio.run(bot.run())
    before = len(transport.sent)
    asyncio.run(bot.reactivation())  # nothing new: nothing re-sent
    assert len(transport.sent) == before
    assert any(to == "运营小美" and "服务补救" in text for _, to, text in transport.sent)


def test_jobs_are_scheduled_from_config(tmp_path: Path) -> None:
    bot, _ = make_bot(tmp_path, 'weekly_report = "fri 18:30"\nsegment_every_hours = 12\n')
    bot.schedule()
    assert bot.jobs.names == ["refresh_tags", "learned_words", "retention", "segment",
                              "reactivation",
                              "weekly_report"]
    assert parse_weekly("fri 18:30", "x") == ("fri", 18, 30)
    with pytest.raises(ConfigError, match="weekly_report"):
        parse_weekly("someday", "siyu.toml")


def test_retention_purges_old_text_and_keeps_tags(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from handlers.personas import build_personas

    bot, _ = make_bot(tmp_path, script="朵朵妈: 我在杭州，我家宝宝8个月了，有没有优惠？\n"
                                       "朵朵妈: 周末想带娃去西湖\n")
    asyncio.run(bot.run())
    db = tmp_path / "bot.db"
    con = sqlite3.connect(db)
    old = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%d %H:%M:%S.000000")
    con.execute("UPDATE message SET ts = ? WHERE text LIKE '%杭州%'", (old,))
    con.commit()
    as_of = datetime.now(UTC)
    before = [v.persona.to_json(bot.settings.tz) for v in
              build_personas(bot.app.store, bot.settings, bot.app.labels, as_of)]
    assert bot.purge() == 1
    after = [v.persona.to_json(bot.settings.tz) for v in
             build_personas(bot.app.store, bot.settings, bot.app.labels, as_of)]
    assert after == before  # tags and their evidence ids survive the purge
    texts = sorted((t or "") for (t,) in con.execute("SELECT text FROM message"))
    assert texts == ["", "周末想带娃去西湖"]
    con.close()


def test_a_job_cancelled_at_shutdown_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    async def slow() -> None:
        await asyncio.sleep(10)

    async def scenario() -> None:
        task = asyncio.ensure_future(guarded("slow", slow)())
        await asyncio.sleep(0)
        task.cancel()
        await task  # returns normally: the wrapper absorbed the cancellation

    with caplog.at_level(logging.INFO, logger="siyu.jobs"):
        asyncio.run(scenario())
    assert "随关机取消" in caplog.text and "失败" not in caplog.text
