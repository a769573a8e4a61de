"""The learned interest words as the live bot reads them: `[learned] enabled = false` is
asked first (nothing read), and a relearn made while the bot runs reaches its personas."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_settings
from handlers.learn import latest_learned, learned_words
from persona.learned import SOURCES, LearnedWord
from storage.db import open_database
from storage.learned import LearnedSet, LearnedStore
from storage.repo import Store

WORD = LearnedWord("跳绳", "sports", SOURCES[0], ("健身",), 3, 3, 3, 12.0, ())


def test_switched_off_nothing_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(open_database(f"sqlite:///{tmp_path / 'x.db'}"))
    LearnedStore(store.engine).save(LearnedSet(datetime.now(UTC), (WORD,)))
    on = load_settings(None, db=f"sqlite:///{tmp_path / 'x.db'}")
    assert latest_learned(store, on) == {"跳绳": "sports"}
    (tmp_path / "off.toml").write_text("[learned]\nenabled = false\n", encoding="utf-8")
    off = load_settings(str(tmp_path / "off.toml"), db=f"sqlite:///{tmp_path / 'x.db'}")

    def unread(_: object) -> None:
        raise AssertionError("the stored set was read")

    monkeypatch.setattr(LearnedStore, "saved", unread)
    assert latest_learned(store, off) == {}
    assert learned_words(store, off, datetime.now(UTC)) == {}
