"""The editable word lists behind the analyzer, parsed and validated into one `Lexicon`.

Operators tune the taxonomy and cue lists for their own community (a pet shop adds breeds, a
tutoring group adds exam names), so the data lives in plain TOML/text files beside the code,
and persona/lexicon_parse.py turns their *texts* into this module's lookup-ready `Lexicon`.
It never opens files itself (`persona.resources` does that for the bundled copies; the CLI
may pass an operator's edited copy), which keeps it trivially testable and free of I/O.

A typo in an edited file must not silently switch a rule off, so every problem raises
`LexiconError` naming the file, the line when it can be found, and the key, in Chinese and
English: "taxonomy.toml:12: [travel] keywords: 必须是字符串列表 (must be a list of strings)".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FILES = ("taxonomy.toml", "cues.toml", "userdict.txt", "stopwords.txt", "cities.txt")

# Frequencies given to lexicon words that userdict.txt does not list. High enough that a new
# compound ("没收到", "链接发我") beats its parts in context, and never *lower* than jieba's
# own entry (make_tokenizer keeps the larger), so common words keep their usual cuts.
CUE_FREQ = 3000
# City names are rarer in text and some are everyday words elsewhere ("来宾", "白银"): a modest
# frequency makes an unknown name one token without pulling neighbouring words into it.
CITY_FREQ = 500

AGE_BUCKETS = ("18-24", "25-34", "35-44", "45-54", "55+")
ATTRIBUTE_VALUE_FIELDS = ("gender", "life_stage", "occupation")
CUE_KINDS = ("identity", "mine", "kin", "implicit")


class LexiconError(ValueError):
    """A bundled or operator-edited lexicon file is malformed.

    The message is one line: "file[:line]: [table] key: 中文说明 (English explanation)".
    """

    def __init__(
        self, file: str, message: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Interest:
    """One interest of the taxonomy: stable code, Chinese label, keywords (lower-cased), and
    the shop category names that name it in an orders file only (`categories`)."""

    code: str
    label: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One value of an attribute field ("gender"/"female") and the words that reveal it.

    The four cue kinds differ in how much self-reference they need; see cues.toml.
    """

    field: str
    value: str
    label: str
    identity: frozenset[str]
    mine: frozenset[str]
    kin: frozenset[str]
    implicit: frozenset[str]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Everything the analyzer looks up, precomputed as sets and dicts (treat as read-only).

    Words are lower-cased so that ASCII tokens ("YYDS", "PS5") match whatever the case.
    """

    interests: tuple[Interest, ...]
    # keyword -> interest codes (a keyword such as 绘本 may belong to two interests)
    interest_index: Mapping[str, tuple[str, ...]]
    # what an order's category is read with (persona/commerce.py: category_interests): the
    # keywords and each interest's `categories`, platform names no member says in chat
    # ("图书", "鞋靴", "个护") and so never matched in messages
    category_index: Mapping[str, tuple[str, ...]]
    # labels for intent, motivation and content codes (from cues.toml [labels])
    code_labels: Mapping[str, str]

    negators: frozenset[str]
    negation_window: int
    negation_skip: frozenset[str]
    fixed: frozenset[str]

    question_markers: frozenset[str]
    question_particles: frozenset[str]
    soft_particles: frozenset[str]
    soft_blockers: frozenset[str]
    presupposing: frozenset[str]
    presupposing_after: tuple[str, ...]
    indefinite_after: frozenset[str]
    exclaim_after: frozenset[str]

    complaint: frozenset[str]
    complaint_strong: frozenset[str]
    praise: frozenset[str]
    praise_soft: frozenset[str]
    purchase: frozenset[str]
    # cue -> motivation codes
    motivations: Mapping[str, tuple[str, ...]]

    self_words: frozenset[str]
    self_group: frozenset[str]
    others: frozenset[str]
    household: frozenset[str]
    identity_markers: frozenset[str]
    copulas: frozenset[str]
    fillers: frozenset[str]
    identity_after: frozenset[str]
    attribute_window: int
    city_before: frozenset[str]
    city_after_self: frozenset[str]
    city_suffix: frozenset[str]
    place_exclude: frozenset[str]
    # spelling (lower-cased) -> canonical city name
    cities: Mapping[str, str]
    attribute_values: tuple[AttributeValue, ...]

    stopwords: frozenset[str]
    words: tuple[tuple[str, int], ...]

    def labels(self) -> dict[str, str]:
        """Tag code -> Chinese label for every code this lexicon can emit."""
        out = {i.code: i.label for i in self.interests}
        out.update(self.code_labels)
        for v in self.attribute_values:
            out.setdefault(v.value, v.label)
        for bucket in AGE_BUCKETS:
            out[bucket] = bucket.replace("+", "岁以上") if "+" in bucket else f"{bucket}岁"
        return out

    def user_words(self) -> list[tuple[str, int]]:
        """(word, frequency) pairs for `make_tokenizer`, so lexicon words segment as units."""
        return list(self.words)
