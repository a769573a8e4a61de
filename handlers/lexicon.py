"""The lexicon a community runs with: the bundled one, or the operator's own taxonomy laid
over it (`taxonomy` in siyu.toml).

A use case needs it (the playbook's interests, the drafting's product words) as much as the
bot's app does, so it is loaded here, where both may call it.
"""

from __future__ import annotations

from pathlib import Path

from handlers.settings import ConfigError, Settings
from persona.lexicon import Lexicon, LexiconError
from persona.lexicon_parse import parse_lexicon
from persona.resources import default_lexicon, default_texts


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
