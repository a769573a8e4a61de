"""Normalisation and tokenisation of chat text.

Everything downstream (intent, negation, interests, attributes) works on *tokens*, never on
substrings, so that "贵州" is not "贵" and "不贵" is the negator "不" before the cue "贵". This
module makes those tokens reproducible:

* `normalise` removes what carries no words (URLs, @mentions, emoji, WeChat [表情] codes) but
  reports it, because "shared a link" or "used five emoji" is itself a signal.
* `make_tokenizer` builds a jieba or rjieba segmenter with the lexicon's own words added at
  explicit frequencies, so cues such as "有没有" and "没问题" come out as single tokens and both
  engines cut every sentence the same way (signals must not depend on which wheel is installed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# ASCII-only URL body: Chinese text or full-width punctuation right after a link is not eaten.
_URL_RE = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\")]"

# WeChat inserts U+2005 (four-per-em space) after a real mention, and nicknames may contain
# spaces, so the first alternative takes everything up to U+2005. The second handles pasted or
# exported text that uses an ordinary space or punctuation instead. The look-behind keeps e-mail
# addresses ("abc@qq.com") out.
_MENTION_RE = re.compile(
    r"(?<![A-Za-z0-9_.\-])[@＠]"
    r"(?:([^@＠\u2005\s][^@＠\u2005\n]{0,31}?)\u2005"
    r"|([^\s@＠,，。.!！?？:：;；、~～()（）\[\]【】\"'“”]{1,20}))"
)

_EMOJI_CHAR = (
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, supplemental symbols
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats (☀ ❤ ✨)
    "\u2b00-\u2bff"  # ⭐ ⬆ and friends
    "\u2300-\u23ff"  # ⌚ ⏰ ⏳
    "\u3030\u303d\u3297\u3299"
)
_EMOJI_MOD = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI_RE = re.compile(
    rf"(?:[\U0001f1e6-\U0001f1ff]{{2}}"  # a flag is two regional indicators, one emoji
    rf"|[0-9#*]\ufe0f?\u20e3"  # keycaps 1️⃣
    rf"|[{_EMOJI_CHAR}][{_EMOJI_MOD}]*(?:\u200d[{_EMOJI_CHAR}][{_EMOJI_MOD}]*)*)"
)
# Leftover joiners and variation selectors, and zero-width characters that split words.
_INVISIBLE_RE = re.compile("[\u200b-\u200d\u2060\ufeff\ufe0e\ufe0f]")

# WeChat expression codes: [微笑] [捂脸] [社会社会] [666], English client [Smile] [OK].
_WECHAT_CODE_RE = re.compile(r"\[([\u4e00-\u9fff]{1,4}|[A-Z][A-Za-z]{1,11}|666)\]")
# Export placeholders look the same but are not emoji: removed, not counted.
_PLACEHOLDERS = frozenset(
    {
        "图片", "语音", "视频", "链接", "文件", "位置", "表情", "动画表情", "小程序", "红包",
        "转账", "名片", "聊天记录", "音乐", "语音通话", "视频通话", "拍一拍", "引用",
    }
)  # fmt: skip

_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Normalised:
    """Clean text for the tokenizer plus what was taken out of it."""

    text: str
    urls: tuple[str, ...]
    mentions: tuple[str, ...]
    emoji: int


_EMPTY = Normalised("", (), (), 0)


def normalise(text: str) -> Normalised:
    """Clean one message for tokenisation.

    Order matters: URLs and mentions are cut from the raw text first (a URL may contain "@",
    a nickname may contain emoji or spaces); emoji go before NFKC because NFKC rewrites some
    symbols into letters ("ℹ" → "i"); WeChat codes go after NFKC so that full-width
    brackets ［微笑］ are caught too. NFKC turns full-width ASCII, digits and punctuation into
    half width, so "？" and "?" (and "！" / "!", "，" / ",") are the same token downstream;
    "。" and "、" have no half-width form and stay. Removed pieces become spaces, never
    nothing, so the words on either side are not glued into a new word.
    """
    if not text or text.isspace():
        return _EMPTY

    urls: list[str] = []

    def _url(m: re.Match[str]) -> str:
        url = m.group(0).rstrip(_URL_TRAILING)
        urls.append(url)
        # Give back trailing punctuation we refused to treat as part of the URL.
        return " " + m.group(0)[len(url) :]

    s = _URL_RE.sub(_url, text)

    mentions: list[str] = []

    def _mention(m: re.Match[str]) -> str:
        name = (m.group(1) or m.group(2) or "").strip()
        if name:
            mentions.append(name)
        return " "

    s = _MENTION_RE.sub(_mention, s)

    s, n_emoji = _EMOJI_RE.subn(" ", s)
    s = _INVISIBLE_RE.sub("", s)
    s = unicodedata.normalize("NFKC", s)

    codes = 0

    def _code(m: re.Match[str]) -> str:
        nonlocal codes
        if m.group(1) not in _PLACEHOLDERS:
            codes += 1
        return " "

    s = _WECHAT_CODE_RE.sub(_code, s)
    s = _SPACE_RE.sub(" ", s).strip()
    return Normalised(s, tuple(urls), tuple(mentions), n_emoji + codes)


# --------------------------------------------------------------------------------------------
# Tokenisation
# --------------------------------------------------------------------------------------------


class Tokenizer(Protocol):
    """Anything that cuts normalised text into tokens (jieba-compatible segmentation).

    The tokenizers built by `make_tokenizer` also carry `places`: a frozenset of place names
    (jieba dictionary words tagged `ns` that end in 市/县) used as a fallback for the city
    attribute, and `compounds`: the dictionary's words that contain a lexicon word as a
    part (手机电池, 鲜牛奶), which the analyser may read through that part. Analyzers read both
    with getattr so a minimal test double needs only `cut`.
    """

    name: str

    def cut(self, text: str) -> list[str]: ...


_ENGINES = ("auto", "jieba", "rjieba")


def _rjieba_available() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return False
    return True


def make_tokenizer(engine: str = "auto", words: Iterable[tuple[str, int]] = ()) -> Tokenizer:
    """Return a (cached) tokenizer for `engine` with `words` added at explicit frequencies.

    "auto" picks rjieba (the jieba-rs binding: same algorithm and dictionary, much faster) when
    it is installed, else jieba. Building a tokenizer costs about a second, so one instance is
    kept per (engine, words) for the life of the process.
    """
    if engine not in _ENGINES:
        raise ValueError(
            f"未知的分词引擎 {engine!r}，可选 auto / jieba / rjieba "
            f"(unknown tokenizer engine {engine!r}; choose auto, jieba or rjieba)"
        )
    if engine == "auto":
        engine = "rjieba" if _rjieba_available() else "jieba"
    elif engine == "rjieba" and not _rjieba_available():
        raise ValueError(
            "未安装 rjieba，请安装 siyu-companion[fast] 或改用 jieba "
            "(engine 'rjieba' requested but rjieba is not installed; "
            "install siyu-companion[fast] or use engine 'jieba')"
        )
    merged: dict[str, int] = {}
    for word, freq in words:
        word = word.strip()
        if word:
            merged[word] = max(int(freq), merged.get(word, 0))
    return _build(engine, tuple(sorted(merged.items())))


@cache
def _build(engine: str, words: tuple[tuple[str, int], ...]) -> Tokenizer:
    base, places, compounds = _jieba_dictionary(frozenset(w for w, _ in words))
    # Only raise frequencies: lowering a common word ("喜欢") would change how unrelated
    # sentences are cut. Both engines receive exactly this list.
    additions = tuple((w, f) for w, f in words if f > base.get(w, 0))
    if engine == "rjieba":
        tk: _RJiebaTokenizer | _JiebaTokenizer = _RJiebaTokenizer(additions, places)
    else:
        tk = _JiebaTokenizer(additions, base, places)
    tk.compounds = compounds
    return tk


@cache
def _jieba_dictionary(wanted: frozenset[str]
                      ) -> tuple[dict[str, int], frozenset[str], frozenset[str]]:
    """Frequencies of `wanted` in jieba's bundled dict.txt, its 市/县 place names, and its
    compounds of a `wanted` word (see `_compound_of`).

    Only dictionary words count as compounds: a token jieba's HMM glued together from unknown
    characters ("来交作业", shop slang for posting a review) is not a noun phrase to read
    through its parts.

    Reading jieba's own dictionary (inside the library) is the one way to know the base
    frequency of a word for *both* engines: jieba-rs embeds the same dict.txt but exposes no
    frequency lookup.
    """
    import jieba

    freqs: dict[str, int] = {}
    places: set[str] = set()
    compounds: set[str] = set()
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) < 2:
                continue
            word = parts[0]
            n = len(word)
            if word in wanted:
                freqs[word] = int(parts[1])
            # (inlined for the common lengths: this loop runs 350,000 times per process)
            elif n == 3:
                if word[1:] in wanted and "\u4e00" <= word[0] <= "\u9fff":
                    compounds.add(word)
            elif n == 4:
                if (word[2:] in wanted or word[:2] in wanted) and "\u4e00" <= word[0] <= "\u9fff":
                    compounds.add(word)
            elif n > 4 and _compound_of(word, wanted):
                compounds.add(word)
            if len(parts) > 2 and parts[2] == "ns" and len(word) >= 3 and word[-1] in "市县":
                places.add(word)
    return freqs, frozenset(places), frozenset(compounds)


def _compound_of(word: str, wanted: frozenset[str]) -> bool:
    """Is `word` (five characters or more: the scan checks three and four inline) two parts
    of at least two characters of which one is wanted? (The analyser decides which parts are
    interest keywords.)"""
    for k in range(2, len(word) - 1):
        if word[k:] in wanted or word[:k] in wanted:
            return "\u4e00" <= word[0] <= "\u9fff"
    return False


class _JiebaTokenizer:
    """jieba with its own `jieba.Tokenizer` instance (never the global one), HMM on."""

    name = "jieba"

    def __init__(
        self,
        words: tuple[tuple[str, int], ...],
        base: dict[str, int],
        places: frozenset[str],
    ) -> None:
        import jieba

        tk = jieba.Tokenizer()
        tk.initialize()
        for word, freq in words:
            tk.add_word(word, freq)
            # jieba adds the new frequency to the total without removing the old one; jieba-rs
            # replaces it. Subtracting keeps both totals, hence every route score, identical.
            tk.total -= base.get(word, 0)
        self._tk = tk
        self.places = places
        self.compounds: frozenset[str] = frozenset()

    def cut(self, text: str) -> list[str]:
        return self._tk.lcut(text, HMM=True)


class _RJiebaTokenizer:
    """rjieba (jieba-rs) with the same added words; same cuts as jieba, several times faster."""

    name = "rjieba"

    def __init__(self, words: tuple[tuple[str, int], ...], places: frozenset[str]) -> None:
        import rjieba

        jb = rjieba.Jieba()
        for word, freq in words:
            jb.add_word(word, freq, None)
        self._cut = jb.cut
        self.places = places
        self.compounds: frozenset[str] = frozenset()

    def cut(self, text: str) -> list[str]:
        return self._cut(text, True)
