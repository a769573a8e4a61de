"""App wiring: settings → storage, lexicon, tokenizer, analyser. One place, loaded lazily.

The CLI imports this only inside commands that need it, so `siyu --help` never pays for
jieba, SQLAlchemy or scikit-learn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from handlers.lexicon import load_lexicon
from handlers.settings import Settings
from persona.analyze import Analyzer
from persona.lexicon import Lexicon
from persona.text import make_tokenizer
from storage.db import open_database
from storage.repo import Store


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
