"""App wiring: settings → storage, lexicon, tokenizer, analyser. One place, loaded lazily.

The CLI imports this only inside commands that need it, so `siyu --help` never pays for
jieba, SQLAlchemy or scikit-learn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bot.config import ConfigError, Settings
from persona.analyze import Analyzer
from persona.lexicon import Lexicon, LexiconError
from persona.lexicon_parse import parse_lexicon
from persona.resources import default_lexicon, default_texts
from persona.text import make_tokenizer
from storage.db import open_database
from storage.repo import Store


def load_lexicon(settings: Settings) -> Lexicon:
    """The bundled lexicon, or the bundled one with the operator's own taxonomy file."""
    if not settings.taxonomy:
        return default_lexicon()
    path = Path(settings.taxonomy)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: 无法读取分类文件 ({exc.strerror})") from exc
    texts = dict(default_texts())
    texts["taxonomy.toml"] = text
    try:
        return parse_lexicon(texts)
    except LexiconError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@dataclass
class App:
    settings: Settings
    create_db: bool = True
    # The live bot checkpoints its SQLite WAL from a thread of its own (storage/db.py:
    # WalCheckpointer); one-shot commands keep SQLite's checkpoint-on-commit.
    background_checkpoints: bool = False

    @cached_property
    def store(self) -> Store:
        return Store(open_database(self.settings.db, create=self.create_db,
                                   background_checkpoints=self.background_checkpoints))

    @cached_property
    def lexicon(self) -> Lexicon:
        return load_lexicon(self.settings)

    @cached_property
    def labels(self) -> dict[str, str]:
        return dict(self.lexicon.labels())

    @cached_property
    def analyzer(self) -> Analyzer:
        # jieba announces its dictionary load on stderr; the CLI's stderr is for the user.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = make_tokenizer(self.settings.tokenizer, self.lexicon.user_words())
        return Analyzer(self.lexicon, tokenizer)
