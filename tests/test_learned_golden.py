"""Learning gives exactly the words main f34ea7b learned on the same inputs: the words, their
order, counts, scores, quotes, and each member's learned words used (tests/data/learned)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from persona.learned import LearnMessage, LearnParams, learn_interests

DATA = Path(__file__).parent / "data" / "learned"


def _params(raw: dict[str, Any]) -> LearnParams:
    return LearnParams(min_members=raw["min_members"], min_messages=raw["min_messages"],
                       min_g2=raw["min_g2"], min_lift=raw["min_lift"],
                       min_precision=raw["min_precision"], max_quotes=raw["max_quotes"],
                       never=frozenset(raw["never"]), reject=frozenset(raw["reject"]),
                       pin=raw["pin"])


@pytest.mark.parametrize("name", ["eval-7", "eval-11", "synthetic-5"])
def test_learning_matches_the_words_kept_as_data(name: str) -> None:
    doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    messages = [LearnMessage(member, mid, datetime.fromisoformat(ts), tuple(words),
                             tuple(codes)) for member, mid, ts, words, codes in doc["messages"]]
    bought = {int(k): set(v) for k, v in doc["bought"].items()}
    known = {k: tuple(v) for k, v in doc["known"].items()}
    for case in doc["cases"]:
        # a generator each call, as the store gives: nothing may rely on a list
        learning = learn_interests(lambda: (m for m in messages), bought, known, doc["codes"],
                                   _params(case["params"]))
        got = [[w.word, w.code, w.source, list(w.basis), w.messages, w.members, w.support,
                w.score, list(w.quotes)] for w in learning.words]
        assert got == case["words"], case["params"]
        assert {str(k): sorted(v) for k, v in sorted(learning.used.items())} == case["used"]
