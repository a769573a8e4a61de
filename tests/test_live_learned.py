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


def test_the_live_personas_take_a_relearn_made_while_the_bot_runs(tmp_path: Path) -> None:
    """Words stored while the bot runs (an erasure's recompute, an import by another process)
    reach the live personas through `Bot.reload_learned`, which each background job ends
    with and the clock runs once a minute."""
    import asyncio
    import io

    from bot.runner import Bot
    from bot.transports.console import ConsoleTransport

    (tmp_path / "siyu.toml").write_text('[bot]\noperators = ["运营小美"]\n', encoding="utf-8")
    settings = load_settings(str(tmp_path / "siyu.toml"), db=f"sqlite:///{tmp_path / 'b.db'}")
    bot = Bot(settings, ConsoleTransport(stdin=io.StringIO("小雨: 每天跳绳\n"),
                                         stdout=io.StringIO()))
    asyncio.run(bot.run())
    personas = bot.live.triggers.personas
    assert personas.ps.learned == {}
    learned = LearnedStore(bot.app.store.engine)

    async def relearn_in_background() -> None:
        bot.background.in_thread("relearn", lambda: learned.save(
            LearnedSet(datetime.now(UTC), (WORD,))))
        await bot.background.drain(0.0)

    asyncio.run(relearn_in_background())  # a background job stored new words: taken at its end
    assert personas.ps.learned == {"跳绳": "sports"}
    assert bot.live.use_learned({"跳绳": "sports"}) is False  # unchanged: kept as it is
    learned.save(LearnedSet(datetime.now(UTC), ()))  # another process learned nothing
    asyncio.run(bot.reload_learned())  # the clock's job
    assert personas.ps.learned == {}
