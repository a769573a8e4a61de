"""The bundled data files: the only place in persona/ that reads a file.

Kept apart so that the lexicon and analyzer stay pure (they take texts), while the default
lexicon is still one call away for the CLI, the demo and tests.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from persona.lexicon import FILES, Lexicon
from persona.lexicon_parse import parse_lexicon


def default_texts() -> dict[str, str]:
    """Texts of persona/data/{taxonomy.toml, cues.toml, userdict.txt, stopwords.txt, cities.txt}."""
    data = files("persona").joinpath("data")
    return {name: data.joinpath(name).read_text(encoding="utf-8") for name in FILES}


@cache
def default_lexicon() -> Lexicon:
    """The bundled lexicon, parsed once per process."""
    return parse_lexicon(default_texts())
