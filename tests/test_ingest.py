"""handlers/ingest.py: the one ingest path, on real SQLite files.

The analysis cache must be invisible: a message gets exactly the signals its own analysis
would give, the analyser runs once per distinct (text, type, year), and a different year
(which ages a "90后" differently) is analysed again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import handlers.ingest as ingest_mod
from bot.app import App
from handlers.events import MessageEvent, MessageType
from handlers.ingest import Ingestor, IngestReport
from handlers.settings import Settings
from persona.analyze import Analyzer
from persona.signals import Signals

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def event(i: int, text: str | None, ts: datetime = T0, sender: str = "wxid_a",
          kind: MessageType = MessageType.TEXT) -> MessageEvent:
    return MessageEvent(id=f"m{i}", ts=ts + timedelta(minutes=i), chat="g1@chatroom",
                        sender=sender, type=kind, text=text, is_group=True, origin=f"t:{i}")


class CountingAnalyzer:
    """The real analyser, counting its calls."""

    def __init__(self, inner: Analyzer) -> None:
        self.inner = inner
        self.calls: list[tuple[str | None, str, int]] = []

    def analyse(self, text: str | None, msg_type: str, ts: datetime) -> Signals:
        self.calls.append((text, msg_type, ts.year))
        return self.inner.analyse(text, msg_type, ts)

    def analyse_many(self, keys: list[tuple[str | None, str, datetime]]) -> list[Signals]:
        self.calls += [(text, msg_type, ts.year) for text, msg_type, ts in keys]
        return self.inner.analyse_many(keys)


@pytest.fixture()
def app(tmp_path: Path) -> App:
    return App(Settings(db=f"sqlite:///{tmp_path / 'i.db'}"))


def test_repeated_texts_are_analysed_once_and_stored_as_their_own_analysis(app: App) -> None:
    counting = CountingAnalyzer(app.analyzer)
    ingestor = Ingestor(app.store, counting, app.settings, app.labels)  # type: ignore[arg-type]
    texts = ["好的", "我是90后，坐标杭州", "好的", None, "太贵了，有没有优惠？", "好的",
             "我是90后，坐标杭州"]
    events = [event(i, t, kind=MessageType.STICKER if t is None else MessageType.TEXT)
              for i, t in enumerate(texts)]
    # Same words ten years later: the cohort is another age bracket, so analysed again.
    later = T0.replace(year=2036)
    events.append(event(len(texts), "我是90后，坐标杭州", ts=later, sender="wxid_b"))
    report = ingestor.ingest(events, IngestReport())
    assert report.new == len(events)
    assert len(counting.calls) == 5  # 好的, 90后 (2026), None sticker, 太贵了, 90后 (2036)
    stored = app.store.messages_by_id([e.id for e in events])
    for e in events:
        want = app.analyzer.analyse(e.text, str(e.type), e.ts).to_json()
        assert stored[e.id].signals == want, e.text
    assert stored["m1"].signals["a"]["age_range"] != stored["m7"].signals["a"]["age_range"]


def test_the_cache_starts_over_when_full(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_mod, "ANALYSIS_CACHE_SIZE", 2)
    counting = CountingAnalyzer(app.analyzer)
    # one message a batch: a batch analyses its own repeats once, whatever the cache holds
    ingestor = Ingestor(app.store, counting,  # type: ignore[arg-type]
                        replace(app.settings, batch_size=1), app.labels)
    ingestor.ingest([event(i, t) for i, t in enumerate(["一", "二", "三", "一"])])
    assert len(ingestor._analysed) <= 2
    assert [c[0] for c in counting.calls] == ["一", "二", "三", "一"]
