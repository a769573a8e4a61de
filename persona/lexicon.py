"""The editable word lists behind the analyzer, parsed and validated into one `Lexicon`.

Operators tune the taxonomy and cue lists for their own community (a pet shop adds breeds, a
tutoring group adds exam names), so the data lives in plain TOML/text files beside the code,
and this module turns their *texts* into lookup-ready sets. It never opens files itself
(`persona.resources` does that for the bundled copies; the CLI may pass an operator's edited
copy), which keeps it trivially testable and free of I/O.

A typo in an edited file must not silently switch a rule off, so every problem raises
`LexiconError` naming the file, the line when it can be found, and the key, in Chinese and
English: "taxonomy.toml:12: [travel] keywords: 必须是字符串列表 (must be a list of strings)".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from persona.signals import CONTENT_CODES, INTENT_CODES, MOTIVATION_CODES

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

_ATTRIBUTE_KEYS = (
    "self", "self_group", "others", "household", "markers", "copulas", "fillers", "after",
    "window", "city",
)  # fmt: skip
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TOML_POS_RE = re.compile(r"at line (\d+)")
_HEADER_RE = re.compile(r"^\s*\[[^\]]+\]\s*(#.*)?$")


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
    """One interest of the taxonomy: stable code, Chinese label, keywords (lower-cased)."""

    code: str
    label: str
    keywords: tuple[str, ...]


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


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------


def _header_re(path: tuple[str, ...]) -> re.Pattern[str]:
    parts = r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in path)
    return re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(#.*)?$")


def _locate(text: str, path: tuple[str, ...], key: str | None) -> int | None:
    """Best-effort line number of `key` inside table `path` (or of the table header).

    tomllib reports positions only for syntax errors; for a well-formed file with a wrong
    value we find the line ourselves so the operator can jump straight to it.
    """
    lines = text.splitlines()
    start = 0
    header_line: int | None = None
    if path:
        pattern = _header_re(path)
        for n, line in enumerate(lines):
            if pattern.match(line):
                header_line, start = n + 1, n + 1
                break
        else:
            return None
    if key is None:
        return header_line
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for n in range(start, len(lines)):
        if _is_header(lines[n]):
            break  # the next table begins: the key is not in this one
        if key_re.match(lines[n]):
            return n + 1
    return header_line


def _is_header(line: str) -> bool:
    return _HEADER_RE.match(line) is not None


class _Toml:
    """A parsed TOML file plus what is needed to report errors with line numbers."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS_RE.search(str(exc))
            line = getattr(exc, "lineno", None) or (int(m.group(1)) if m else None)
            raise LexiconError(name, f"TOML 语法错误 (syntax error): {exc}", line=line) from None

    def error(self, path: tuple[str, ...], key: str | None, message: str) -> LexiconError:
        label = "[" + ".".join(path) + "]" if path else ""
        full_key = " ".join(p for p in (label, key or "") if p) or None
        return LexiconError(self.name, message, line=_locate(self.text, path, key), key=full_key)

    def table(self, path: tuple[str, ...], *, required: bool = True) -> dict[str, Any]:
        node: Any = self.data
        for i, part in enumerate(path):
            if not isinstance(node, dict) or part not in node:
                if not required:
                    return {}
                raise self.error(path[:i], part, "缺少此表 (missing table)")
            node = node[part]
        if not isinstance(node, dict):
            raise self.error(path[:-1], path[-1], "必须是表 (must be a table)")
        return node

    def check_keys(
        self, path: tuple[str, ...], table: dict[str, Any], allowed: Iterable[str]
    ) -> None:
        """Reject unknown keys: a misspelt "negator" must not silently disable negation."""
        known = set(allowed)
        for key in table:
            if key not in known:
                raise self.error(
                    path,
                    key,
                    "未知字段，可用: " + ", ".join(sorted(known)) + " (unknown key)",
                )

    def words(
        self, path: tuple[str, ...], table: dict[str, Any], key: str, *, required: bool = True
    ) -> tuple[str, ...]:
        if key not in table:
            if required:
                raise self.error(path, key, "缺少字段 (missing key)")
            return ()
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(path, key, "必须是字符串列表 (must be a list of strings)")
        out: list[str] = []
        for v in value:
            w = v.strip()
            if not w or any(ch.isspace() for ch in w):
                raise self.error(
                    path, key, f"词 {v!r} 为空或含空格 (word {v!r} is empty or contains spaces)"
                )
            out.append(w.lower())
        return tuple(out)

    def label(self, path: tuple[str, ...], table: dict[str, Any], key: str = "label") -> str:
        if key not in table:
            raise self.error(path, key, "缺少中文标签 (missing label)")
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, key, "必须是非空字符串 (must be a non-empty string)")
        return value.strip()

    def integer(
        self, path: tuple[str, ...], table: dict[str, Any], key: str, default: int, lo: int, hi: int
    ) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.error(path, key, f"必须是 {lo}–{hi} 的整数 (must be an integer {lo}–{hi})")
        return value


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based numbers."""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield n, line


# --------------------------------------------------------------------------------------------
# The five files
# --------------------------------------------------------------------------------------------


def _parse_taxonomy(text: str, reserved: set[str]) -> tuple[Interest, ...]:
    doc = _Toml("taxonomy.toml", text)
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
        doc.check_keys(path, table, ("label", "keywords"))
        label = doc.label(path, table)
        keywords = doc.words(path, table, "keywords")
        if not keywords:
            raise doc.error(path, "keywords", "至少需要一个关键词 (needs at least one keyword)")
        interests.append(Interest(code, label, tuple(dict.fromkeys(keywords))))
    if not interests:
        raise LexiconError("taxonomy.toml", "没有任何兴趣分类 (no interests defined)")
    return tuple(interests)


def _parse_userdict(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for n, line in _lines(text):
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
    for n, line in _lines(text):
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
    return frozenset(line.lower() for _, line in _lines(text))


@dataclass(slots=True)
class _Cues:
    """Intermediate result of reading cues.toml."""

    fields: dict[str, Any]
    values: list[AttributeValue]
    words: list[str]


def _parse_cues(text: str) -> _Cues:
    doc = _Toml("cues.toml", text)
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
        cities=MappingProxyType(cities),
        attribute_values=tuple(cues.values),
        stopwords=stopwords,
        words=tuple(sorted(freqs.items())),
        **cues.fields,
    )
