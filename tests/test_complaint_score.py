"""The complaint tag's score: a shrunk, decayed mean of message confidences (persona/complaint.py),
the same from a persona built now (persona/aggregate.py) and from stored tags projected to a
later as-of by segmentation's columnar path (persona/tabulate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.personas import build_personas, refresh_stale_tags
from handlers.segments import gather_columns
from handlers.settings import Settings
from persona.aggregate import build_persona
from persona.complaint import MEAN_TAG_AT_LEAST, MEAN_TAG_MESSAGES, PRIOR, ComplaintMean
from persona.persona import MessageRecord, PersonaSettings, Tag
from persona.sentiment import RULE_CONFIDENCE
from persona.signals import Signals
from persona.tabulate import _live_tags
from storage.batches import Batch, NewMessage
from storage.db import open_database
from storage.repo import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SH = ZoneInfo("Asia/Shanghai")
SETTINGS = PersonaSettings(tz=SH)
LABELS = {"complaint": "抱怨投诉", "praise": "好评"}


def _records(confidences: list[tuple[float | None, bool]], days_apart: float = 1.0
             ) -> list[MessageRecord]:
    """One member's messages, newest last: (confidence, flagged) each."""
    out = []
    for k, (p, flagged) in enumerate(confidences):
        ts = NOW - timedelta(days=days_apart * (len(confidences) - 1 - k))
        sig = Signals(intents=["complaint"] if flagged else [], complaint=p)
        out.append(MessageRecord(f"m{k}", ts, "g", "text", sig))
    return out


def _tag(records: list[MessageRecord], as_of: datetime = NOW) -> Tag | None:
    persona = build_persona("wxid_a", "A", records, as_of, SETTINGS, LABELS)
    return next((t for t in persona.tags if (t.kind, t.code) == ("intent", "complaint")), None)


def _score(records: list[MessageRecord], as_of: datetime = NOW) -> float | None:
    tag = _tag(records, as_of)
    return None if tag is None else tag.score


def test_mostly_unhappy_outranks_a_talker_with_the_same_number_of_complaints() -> None:
    eight_two = _score(_records([(0.8, True)] * 2 + [(0.1, False)] * 6))
    three_two = _score(_records([(0.8, True)] * 2 + [(0.1, False)]))
    assert eight_two is not None and three_two is not None
    assert three_two > eight_two


def test_one_mild_line_among_many_neutral_ones_is_weak_and_agreement_is_strong() -> None:
    mild = _score(_records([(0.55, True)] + [(0.05, False)] * 9))
    sure = _score(_records([(0.95, True)] * 4))
    assert mild is not None and mild < 0.15
    assert sure is not None and sure > 0.75
    # one line alone is pulled toward "no complaint" by the prior
    assert _score(_records([(0.9, True)])) == pytest.approx(0.9 / (1 + PRIOR))


def test_questions_weigh_nothing_in_the_mean() -> None:
    with_questions = _score(_records([(0.8, True), (None, False), (None, False)]))
    assert with_questions == pytest.approx(0.8 / (1 + PRIOR))


def test_a_repeatedly_unhappy_member_is_a_complainer_without_a_flag() -> None:
    """Unflagged lines make the tag when their shrunk mean reaches MEAN_TAG_AT_LEAST over at
    least MEAN_TAG_MESSAGES judged messages in the window; its evidence is the most negative of
    them, and it lasts until fewer than that are left in the window."""
    recs = _records([(0.5, False), (0.1, False), (0.7, False), (0.6, False)], days_apart=3.0)
    tag = _tag(recs)
    assert tag is not None and tag.score >= MEAN_TAG_AT_LEAST
    assert tag.evidence == ["m2", "m3", "m0", "m1"]
    assert tag.expires_at == recs[-MEAN_TAG_MESSAGES].ts + timedelta(days=30)
    # the mean stays while nothing is said: the tag is there until the expiry, then gone
    assert _score(recs, tag.expires_at - timedelta(seconds=1)) == pytest.approx(tag.score)
    assert _tag(recs, tag.expires_at) is None
    # mild lines, or one unhappy line alone, make no tag without a flag
    assert _tag(_records([(0.3, False)] * 4)) is None
    assert _tag(_records([(0.95, False)])) is None
    # lines older than the window count in the mean but not toward the two
    old = _records([(0.9, False), (0.9, False), (0.9, False)], days_apart=31.0)
    assert _tag(old) is None


def test_a_flag_and_the_mean_both_keep_the_tag_and_the_flags_are_its_evidence() -> None:
    recs = _records([(0.5, False), (0.6, False), (0.9, True), (0.7, False)], days_apart=2.0)
    tag = _tag(recs)
    assert tag is not None and tag.evidence == ["m2"]
    # the flag is 2 days old, the second newest judged message too: it lasts until that goes
    assert tag.expires_at == recs[2].ts + timedelta(days=30)
    flag_only = _tag(_records([(0.9, True), (0.05, False), (0.05, False)], days_apart=2.0))
    assert flag_only is not None and flag_only.score < MEAN_TAG_AT_LEAST
    assert flag_only.expires_at == NOW - timedelta(days=4) + timedelta(days=30)


def test_flags_stored_before_confidences_count_at_the_rules_confidence() -> None:
    acc = ComplaintMean()
    acc.add(1.0, MessageRecord("a", NOW, "g", "text", Signals(intents=["complaint"])))
    acc.add(1.0, MessageRecord("b", NOW, "g", "text", Signals(intents=["question"])))
    assert acc.score() == pytest.approx(RULE_CONFIDENCE / (1 + PRIOR))
    assert ComplaintMean().score() == 0.0


def test_the_score_does_not_decay_while_nothing_new_is_said() -> None:
    """Every term carries the same decay, so a later as-of leaves the mean where it was (until
    the tag expires): what lets segmentation read the stored score as it is."""
    recs = _records([(0.2, False), (0.9, True), (0.1, False), (0.7, True)], days_apart=4.0)
    now = _score(recs)
    later = _score(recs, NOW + timedelta(days=20))
    assert now is not None and later == pytest.approx(now, abs=1e-12)
    assert _score(recs, NOW + timedelta(days=31)) is None  # expired


def _store(path: Path) -> tuple[Store, Settings]:
    settings = Settings(db=f"sqlite:///{path}")
    store = Store(open_database(settings.db))
    batch = Batch(chats={"g1": ("群", True, "wechat")})
    plan: dict[str, list[dict[str, Any]]] = {
        "wxid_talker": [{"n": ["complaint"], "p": 0.8}] * 2 + [{"p": 0.1, "n": ["praise"]}] * 6,
        "wxid_unhappy": [{"n": ["complaint"], "p": 0.93}] * 3 + [{"p": 0.3}],
        "wxid_old": [{"n": ["complaint"]}, {"k": ["发货"]}],  # stored before confidences
        "wxid_calm": [{"p": 0.2}, {"n": ["question"]}],
        # unhappy, never flagged: judged 17.5 and 15 days before NOW, then only chatter, so
        # the tag lasts until NOW + 15 days
        "wxid_quiet": [{"p": 0.7}] * 2 + [{"k": ["发货"]}] * 5,
    }
    for sender, sigs in plan.items():
        batch.people[("wechat", sender)] = sender
        for k, sig in enumerate(sigs):
            ts = NOW - timedelta(days=2.5 * (len(sigs) - k), hours=hash(sender) % 5)
            batch.messages.append(NewMessage(f"{sender}-{k}", "g1", "wechat", sender, ts,
                                             "text", "这个不太行", dict(sig), "t"))
    store.write_batch(batch)
    refresh_stale_tags(store, settings, LABELS)
    return store, settings


@pytest.mark.parametrize("shift_days", [0.0, 6.0, 17.5])
def test_persona_and_segmentation_columns_give_the_same_complaint_score(
        tmp_path: Path, shift_days: float) -> None:
    store, settings = _store(tmp_path / "c.db")
    as_of = NOW + timedelta(days=shift_days)
    fresh = {}
    for view in build_personas(store, settings, LABELS, as_of):
        for t in view.persona.tags:
            if (t.kind, t.code) == ("intent", "complaint"):
                fresh[view.persona.member_id] = t.score
    # the talker's complaints are 17.5 and 20 days old at NOW: gone at the last shift, as are
    # the quiet member's two judged lines
    expect = {"wxid_unhappy", "wxid_old"} | ({"wxid_talker", "wxid_quiet"} if shift_days < 10
                                             else set())
    assert set(fresh) == expect
    assert fresh["wxid_unhappy"] > fresh.get("wxid_talker", 0.0)

    _, cols = gather_columns(store, settings, LABELS, as_of)
    live = _live_tags(cols, as_of.timestamp(), settings.half_life_days)
    projected = {}
    for row, key in enumerate(cols.tag_key.tolist()):
        if cols.tag_keys[key][:2] == ("intent", "complaint") and live.alive[row]:
            projected[cols.ids[int(cols.tag_member[row])]] = float(live.score[row])
    assert projected.keys() == fresh.keys()
    for member, score in fresh.items():
        assert projected[member] == pytest.approx(score, abs=1e-6), member
