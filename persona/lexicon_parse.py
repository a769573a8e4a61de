"""The five lexicon files → one validated `Lexicon`.

taxonomy.toml (interests and their keywords), cues.toml (negation, question, intent,
motivation and attribute cues), userdict.txt (tokenizer words and frequencies), stopwords.txt
and cities.txt are read from their *texts* (`persona.resources` opens the bundled copies; the
CLI may pass an operator's edited copy), so parsing stays free of I/O. A typo in an edited
file must not silently switch a rule off: every problem raises `LexiconError` naming the
file, the line when it can be found, and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from persona.lexicon import (
    AGE_BUCKETS,
    ATTRIBUTE_VALUE_FIELDS,
    CITY_FREQ,
    CUE_FREQ,
    CUE_KINDS,
    FILES,
    AttributeValue,
    Interest,
    Lexicon,
    LexiconError,
)
from persona.lexicon_toml import CheckedToml, data_lines
from persona.signals import CONTENT_CODES, INTENT_CODES, MOTIVATION_CODES

_ATTRIBUTE_KEYS = (
    "self", "self_group", "others", "household", "markers", "copulas", "fillers", "after",
    "window", "city",
)  # fmt: skip
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _parse_taxonomy(text: str, reserved: set[str]) -> tuple[Interest, ...]:
    doc = CheckedToml("taxonomy.toml", text)
    interests: list[Interest] = []
    for code, table in doc.data.items():
        if not isinstance(table, dict):
            raise doc.error((), code, "每个兴趣必须是一个表 [code] (each interest must be a table)")
        path = (code,)
        if not _CODE_RE.match(code):
            raise doc.error(
                path, None, "编码只能用小写英文、数字和下划线 (code must match [a-z][a-z0-9_]*)"
            )
        if code in reserved:
            raise doc.error(path, None, "编码与其他标签重名 (code clashes with another tag code)")
        doc.check_keys(path, table, ("label", "keywords", "categories"))
        label = doc.label(path, table)
        keywords = doc.words(path, table, "keywords")
        if not keywords:
            raise doc.error(path, "keywords", "至少需要一个关键词 (needs at least one keyword)")
        categories = doc.words(path, table, "categories", required=False)
        interests.append(Interest(code, label, tuple(dict.fromkeys(keywords)),
                                  tuple(dict.fromkeys(categories))))
    if not interests:
        raise LexiconError("taxonomy.toml", "没有任何兴趣分类 (no interests defined)")
    return tuple(interests)


def _parse_userdict(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for n, line in data_lines(text):
        parts = line.split()
        if len(parts) > 3:
            raise LexiconError(
                "userdict.txt", "格式应为: 词 频率 [词性] (expected: word freq [tag])", line=n
            )
        freq = CUE_FREQ
        if len(parts) >= 2:
            if not parts[1].isdigit() or int(parts[1]) <= 0:
                raise LexiconError(
                    "userdict.txt",
                    f"频率必须是正整数: {parts[1]!r} (frequency must be a positive integer)",
                    line=n,
                    key=parts[0],
                )
            freq = int(parts[1])
        out.append((parts[0], freq))
    return out


def _parse_cities(text: str) -> dict[str, str]:
    cities: dict[str, str] = {}
    for n, line in data_lines(text):
        names = line.split()
        canonical = names[0]
        for name in names:
            key = name.lower()
            if key in cities and cities[key] != canonical:
                raise LexiconError(
                    "cities.txt",
                    f"{name} 已属于 {cities[key]} (already an alias of {cities[key]})",
                    line=n,
                    key=name,
                )
            cities[key] = canonical
    return cities


def _parse_stopwords(text: str) -> frozenset[str]:
    return frozenset(line.lower() for _, line in data_lines(text))


@dataclass(slots=True)
class _Cues:
    """Intermediate result of reading cues.toml."""

    fields: dict[str, Any]
    values: list[AttributeValue]
    words: list[str]


def _parse_cues(text: str) -> _Cues:
    doc = CheckedToml("cues.toml", text)
    doc.check_keys((), doc.data, ("labels", "negation", "question", "intent", "motivation",
                                  "attributes"))  # fmt: skip
    words: list[str] = []
    f: dict[str, Any] = {}

    def ws(
        path: tuple[str, ...], table: dict[str, Any], key: str, required: bool = True
    ) -> frozenset[str]:
        got = doc.words(path, table, key, required=required)
        words.extend(got)
        return frozenset(got)

    # labels
    labels_t = doc.table(("labels",))
    codes = (*INTENT_CODES, *MOTIVATION_CODES, *CONTENT_CODES)
    doc.check_keys(("labels",), labels_t, codes)
    f["code_labels"] = MappingProxyType({c: doc.label(("labels",), labels_t, c) for c in codes})

    # negation
    p = ("negation",)
    t = doc.table(p)
    doc.check_keys(p, t, ("window", "negators", "skip", "fixed"))
    f["negation_window"] = doc.integer(p, t, "window", 2, 1, 5)
    f["negators"] = ws(p, t, "negators")
    f["negation_skip"] = ws(p, t, "skip", False)
    f["fixed"] = ws(p, t, "fixed", False)

    # question
    p = ("question",)
    t = doc.table(p)
    doc.check_keys(p, t, ("markers", "particles", "soft_particles", "soft_blockers",
                          "presupposing", "presupposing_after", "indefinite_after",
                          "exclaim_after"))  # fmt: skip
    f["question_markers"] = ws(p, t, "markers")
    f["question_particles"] = ws(p, t, "particles")
    f["soft_particles"] = ws(p, t, "soft_particles", False)
    f["soft_blockers"] = ws(p, t, "soft_blockers", False)
    f["presupposing"] = ws(p, t, "presupposing", False)
    f["presupposing_after"] = tuple(doc.words(p, t, "presupposing_after", required=False))
    f["indefinite_after"] = ws(p, t, "indefinite_after", False)
    f["exclaim_after"] = ws(p, t, "exclaim_after", False)

    # intents
    intent = doc.table(("intent",))
    doc.check_keys(("intent",), intent, ("complaint", "praise", "purchase_intent"))
    p = ("intent", "complaint")
    t = doc.table(p)
    doc.check_keys(p, t, ("cues", "strong"))
    f["complaint"] = ws(p, t, "cues")
    f["complaint_strong"] = ws(p, t, "strong", False)
    p = ("intent", "praise")
    t = doc.table(p)
    doc.check_keys(p, t, ("cues", "soft"))
    f["praise"] = ws(p, t, "cues")
    f["praise_soft"] = ws(p, t, "soft", False)
    p = ("intent", "purchase_intent")
    t = doc.table(p)
    doc.check_keys(p, t, ("cues",))
    f["purchase"] = ws(p, t, "cues")

    # motivations
    mot = doc.table(("motivation",))
    doc.check_keys(("motivation",), mot, MOTIVATION_CODES)
    index: dict[str, list[str]] = {}
    for code in MOTIVATION_CODES:
        p = ("motivation", code)
        t = doc.table(p)
        doc.check_keys(p, t, ("cues",))
        for w in ws(p, t, "cues"):
            index.setdefault(w, []).append(code)
    f["motivations"] = MappingProxyType({w: tuple(c) for w, c in index.items()})

    # attributes
    p = ("attributes",)
    t = doc.table(p)
    doc.check_keys(p, t, (*_ATTRIBUTE_KEYS, *ATTRIBUTE_VALUE_FIELDS))
    f["self_words"] = ws(p, t, "self")
    f["self_group"] = ws(p, t, "self_group", False)
    f["others"] = ws(p, t, "others", False)
    f["household"] = ws(p, t, "household", False)
    f["identity_markers"] = ws(p, t, "markers", False)
    f["copulas"] = ws(p, t, "copulas", False)
    f["fillers"] = ws(p, t, "fillers", False)
    f["identity_after"] = ws(p, t, "after", False)
    f["attribute_window"] = doc.integer(p, t, "window", 3, 1, 6)

    p = ("attributes", "city")
    t = doc.table(p)
    doc.check_keys(p, t, ("before", "after_self", "suffix", "exclude"))
    f["city_before"] = ws(p, t, "before", False)
    f["city_after_self"] = ws(p, t, "after_self", False)
    f["city_suffix"] = ws(p, t, "suffix", False)
    f["place_exclude"] = frozenset(doc.words(p, t, "exclude", required=False))

    values: list[AttributeValue] = []
    for field_name in ATTRIBUTE_VALUE_FIELDS:
        fp = ("attributes", field_name)
        ft = doc.table(fp, required=False)
        for value, vt in ft.items():
            vp = (*fp, value)
            if not isinstance(vt, dict):
                raise doc.error(fp, value, "必须是表 (must be a table)")
            if not _CODE_RE.match(value):
                raise doc.error(
                    vp,
                    None,
                    "取值编码只能用小写英文、数字和下划线 (value must match [a-z][a-z0-9_]*)",
                )
            doc.check_keys(vp, vt, ("label", *CUE_KINDS))
            label = doc.label(vp, vt)
            kinds = {k: ws(vp, vt, k, False) for k in CUE_KINDS}
            if not any(kinds.values()):
                raise doc.error(vp, None, "至少需要一个线索列表 (needs at least one cue list)")
            values.append(AttributeValue(field_name, value, label, **kinds))
    return _Cues(f, values, words)


def parse_lexicon(texts: Mapping[str, str]) -> Lexicon:
    """Build a `Lexicon` from the texts of the five data files (keys: `FILES`)."""
    for name in FILES:
        if name not in texts:
            raise LexiconError(name, "缺少文件内容 (file text missing)")
        if not isinstance(texts[name], str):
            raise LexiconError(name, "文件内容必须是文本 (file content must be text)")

    cues = _parse_cues(texts["cues.toml"])
    value_codes: dict[str, str] = {}
    for v in cues.values:
        if v.value in value_codes and value_codes[v.value] != v.label:
            raise LexiconError(
                "cues.toml",
                f"取值 {v.value} 的标签不一致 (value used with two different labels)",
                key=f"[attributes.{v.field}.{v.value}] label",
            )
        value_codes[v.value] = v.label
    reserved = {*INTENT_CODES, *MOTIVATION_CODES, *CONTENT_CODES, *value_codes, *AGE_BUCKETS}
    interests = _parse_taxonomy(texts["taxonomy.toml"], reserved)

    index: dict[str, list[str]] = {}
    for interest in interests:
        for kw in interest.keywords:
            index.setdefault(kw, []).append(interest.code)
    category_index = {k: list(v) for k, v in index.items()}
    for interest in interests:
        for word in interest.categories:
            codes = category_index.setdefault(word, [])
            if interest.code not in codes:
                codes.append(interest.code)

    cities = _parse_cities(texts["cities.txt"])
    stopwords = _parse_stopwords(texts["stopwords.txt"])

    # Words for the tokenizer: explicit userdict frequencies win; every multi-character
    # taxonomy keyword and cue gets CUE_FREQ, every city spelling CITY_FREQ.
    freqs: dict[str, int] = {}

    def add(word: str, freq: int) -> None:
        for w in {word, word.lower()}:
            if len(w) >= 2:
                freqs[w] = max(freq, freqs.get(w, 0))

    for word in (*index, *cues.words):
        add(word, CUE_FREQ)
    for v in cues.values:
        for kind in CUE_KINDS:
            for word in getattr(v, kind):
                add(word, CUE_FREQ)
    for spelling, canonical in cities.items():
        add(spelling, CITY_FREQ)
        add(canonical, CITY_FREQ)
    # userdict last so that its explicit frequencies override the defaults (even downwards)
    for word, freq in _parse_userdict(texts["userdict.txt"]):
        for w in {word, word.lower()}:
            freqs[w] = freq

    return Lexicon(
        interests=interests,
        interest_index=MappingProxyType({k: tuple(v) for k, v in index.items()}),
        category_index=MappingProxyType({k: tuple(v) for k, v in category_index.items()}),
        cities=MappingProxyType(cities),
        attribute_values=tuple(cues.values),
        stopwords=stopwords,
        words=tuple(sorted(freqs.items())),
        **cues.fields,
    )
