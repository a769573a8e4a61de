"""Interest words learned from the community itself, beside the hand taxonomy.

A shop's own product words ("内存条", "前台", "译本") are rarely in a general keyword list, so
members who talk only in them get no interest or the wrong one. Two things the community
already says tell us what those words are about, with no hand editing:

- **company**: a word whose users are, far more often than chance, members whose hand keywords
  already name one interest (the "same members' talk"), or whose messages hit that interest's
  keywords (the same messages);
- **purchases**: a word over-represented among the members who bought a category (the orders'
  category column), where the category maps to an interest by its name ("母婴用品" holds the
  keyword 母婴) or, failing that, by the hand interests its buyers already show.

Each candidate is a 2×2 table (users of the word × members in the group) judged by Dunning's
log-likelihood ratio G² with a support floor, a precision floor and a lift floor: filler
("好的", "今天") is spread over everyone, so it never passes all three however often it is
said. Every learned word keeps its evidence (counts, the known words or category it came
from, the ids of a quote or two), and the operator's rejections and pins are applied here,
so the next learning respects them.

Pure and deterministic: the caller passes the messages (as a way to read them, twice: counts
first, then the quotes of the few words learned, so no message is held; a whole community's
messages would be ≈ 1 KiB each) and orders up to its as-of moment; the same inputs give the
same words in the same order.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple

# A learned word's hit counts half a hand keyword's, and one message's learned hits for an
# interest at most one hand hit: learned evidence fills what the hand list leaves out, it
# never outweighs a message's words an operator chose (up to three hand hits).
LEARNED_WEIGHT = 0.5
LEARNED_CAP = 1.0

SOURCES = ("company", "bought", "pinned")

# A candidate that starts with an adverb or a negation ("很快", "还累", "不停") describes, it
# does not name; one that ends in a particle, a copula or a verb complement ("液是", "裤有",
# "看过") is a tokenizer's fragment of a longer phrase. Neither is a product word.
_HEAD_CHARS = frozenset("很太还都也就又再更最挺蛮超好不没别")
_TAIL_CHARS = frozenset("的了是有到用吗呢啊吧呀哦嘛着过得地")


@dataclass(frozen=True, slots=True)
class LearnParams:
    """The floors every learned word must clear, and the operator's overrides."""

    min_members: int = 3  # members using the word inside the group it is learned from
    min_messages: int = 4  # messages holding the word, all members
    min_g2: float = 10.83  # G² with one degree of freedom: p < 0.001
    min_lift: float = 2.0  # share of the group among its users / share in the population
    min_precision: float = 0.5  # share of the word's users (or messages) inside the group
    max_quotes: int = 2
    never: frozenset[str] = frozenset()  # words no evidence makes an interest (city names)
    reject: frozenset[str] = frozenset()
    pin: Mapping[str, str] = field(default_factory=dict)  # word -> interest code


class LearnMessage(NamedTuple):
    """What learning reads of one stored chat message."""

    member: int
    id: str
    ts: datetime
    words: tuple[str, ...]  # the message's content words (signals.keywords), lower-cased
    codes: tuple[str, ...]  # interests its hand keywords hit (signals.interests)


@dataclass(frozen=True, slots=True)
class LearnedWord:
    """One learned interest word and why: shown to the operator, stored as evidence."""

    word: str
    code: str
    source: str  # one of SOURCES
    basis: tuple[str, ...]  # the known words it kept company with, or the category bought
    messages: int  # messages holding the word
    members: int  # members using the word
    support: int  # of those members, the ones inside the group it was learned from
    score: float  # G² (0 for a pinned word)
    quotes: tuple[str, ...]  # ids of the newest supporting messages


def g2(a: int, row: int, col: int, n: int) -> float:
    """Dunning's log-likelihood ratio of a 2×2 table: `a` users of a word inside a group,
    `row` users in all, `col` members of the group, `n` members in all."""
    cells = (a, row - a, col - a, n - row - col + a)
    expected = (row * col / n, row * (n - col) / n, (n - row) * col / n,
                (n - row) * (n - col) / n)
    return 2.0 * sum(o * math.log(o / e) for o, e in zip(cells, expected, strict=True)
                     if o > 0 and e > 0)


Messages = Callable[[], Iterable[LearnMessage]]
"""A fresh iteration over the messages each call: learning reads them twice and keeps none."""


@dataclass(frozen=True, slots=True)
class Learning:
    """The learned words, and each member's learned words used: the members a change of
    words concerns, for marking their tags stale."""

    words: tuple[LearnedWord, ...]
    used: dict[int, set[str]]


class _Counts:
    """The first pass: who says which word, and which hand interests each member and message
    shows, as counts; no message is kept. A word's users are held as the first user's int
    until a second one comes: most words of distinct texts are said by one member."""

    def __init__(self, messages: Iterable[LearnMessage], known: Mapping[str, tuple[str, ...]]
                 ) -> None:
        self.word_msgs: dict[str, int] = {}
        self.word_users: dict[str, int | set[int]] = {}
        code_msgs: dict[int, Counter[str]] = defaultdict(Counter)
        self.known_used: dict[int, Counter[str]] = defaultdict(Counter)
        talkers: set[int] = set()
        word_msgs, word_users = self.word_msgs, self.word_users
        for m in messages:
            member = m.member
            if m.words:
                talkers.add(member)
            for w in set(m.words):
                if w in known:
                    self.known_used[member][w] += 1
                    continue
                word_msgs[w] = word_msgs.get(w, 0) + 1
                held = word_users.get(w)
                if held is None:
                    word_users[w] = member
                elif isinstance(held, set):
                    held.add(member)
                elif held != member:
                    word_users[w] = {held, member}
            for c in set(m.codes):
                code_msgs[member][c] += 1
        self.members = sorted(talkers)
        # a member's own interest: the hand interest most of their messages hit, if unique
        self.belongs: dict[int, str] = {}
        for member, counts in code_msgs.items():
            top = counts.most_common(2)
            if len(top) == 1 or top[0][1] > top[1][1]:
                self.belongs[member] = top[0][0]

    def users(self, w: str) -> set[int]:
        """The members who said `w` (a shared set: not to be changed)."""
        held = self.word_users.get(w)
        if held is None:
            return set()
        return held if isinstance(held, set) else {held}

    def user_count(self, w: str) -> int:
        held = self.word_users.get(w)
        return 0 if held is None else len(held) if isinstance(held, set) else 1


# A learned word before its quotes are read, and the members whose messages it may quote.
_Found = tuple[LearnedWord, set[int]]


def learn_interests(messages: Messages, bought: Mapping[int, Iterable[str]],
                    known: Mapping[str, tuple[str, ...]], codes: Iterable[str],
                    params: LearnParams | None = None) -> Learning:
    """The community's own interest words, best evidence first per word, sorted by word, and
    each member's learned words used.

    `messages` is read twice: once to count (which words are learned, from whom), once to
    quote (the newest supporting messages of those words) and to find their users, so memory
    holds counts per word and member, never the messages. `known` is the hand taxonomy's
    keyword index (those words are never learned again); `codes` the interest codes a word
    may be learned for; `bought` each member's order categories."""
    p = params or LearnParams()
    valid = set(codes)
    counts = _Counts(messages(), known)
    best: dict[str, _Found] = {}
    for cand, group in (*_from_company(counts, known, p),
                        *_from_purchases(counts, bought, known, valid, p)):
        if cand.code not in valid or cand.word in p.reject or cand.word in p.pin:
            continue
        held = best.get(cand.word)
        if held is None or (cand.score, held[0].code) > (held[0].score, cand.code):
            best[cand.word] = (cand, group)
    for word, code in p.pin.items():
        if code in valid and word not in p.reject:
            w = word.lower()
            users = counts.users(w)
            best[word] = (_word(counts, w, code, "pinned", (), users, 0.0), users)
    if not best:
        return Learning((), {})
    quotes, used = _quotes_and_users(messages(), best, p.max_quotes)
    words = tuple(replace(best[k][0], quotes=quotes[k]) for k in sorted(best))
    return Learning(words, used)


def _quotes_and_users(messages: Iterable[LearnMessage], found: Mapping[str, _Found],
                      max_quotes: int) -> tuple[dict[str, tuple[str, ...]],
                                                dict[int, set[str]]]:
    """The second pass: per found word, the ids of the newest `max_quotes` messages of its
    group that hold it, newest first ((time, id) descending, as a sort would give); and each
    member's found words used."""
    keys_of: dict[str, list[str]] = defaultdict(list)
    for key, (found_word, _) in found.items():
        keys_of[found_word.word].append(key)
    heaps: dict[str, list[tuple[datetime, str]]] = {key: [] for key in found}
    used: dict[int, set[str]] = defaultdict(set)
    for m in messages:
        for w in set(m.words):
            keys = keys_of.get(w)
            if keys is None:
                continue
            used[m.member].add(w)
            if max_quotes <= 0:
                continue
            for key in keys:
                if m.member in found[key][1]:
                    heap = heaps[key]
                    if len(heap) < max_quotes:
                        heapq.heappush(heap, (m.ts, m.id))
                    elif (m.ts, m.id) > heap[0]:
                        heapq.heapreplace(heap, (m.ts, m.id))
    quotes = {key: tuple(mid for _, mid in sorted(heap, reverse=True))
              for key, heap in heaps.items()}
    return quotes, dict(used)


def _candidates(counts: _Counts, p: LearnParams) -> list[str]:
    return sorted(w for w, n in counts.word_msgs.items()
                  if n >= p.min_messages and counts.user_count(w) >= p.min_members
                  and naming(w) and w not in p.never)


def naming(word: str) -> bool:
    """Whether a word can name a thing at all (see _HEAD_CHARS / _TAIL_CHARS)."""
    return len(word) >= 2 and word[0] not in _HEAD_CHARS and word[-1] not in _TAIL_CHARS


def _passes(a: int, row: int, col: int, n: int, p: LearnParams) -> float | None:
    """G² when the table clears every floor, else None."""
    if a < p.min_members or not row or not col or n <= col:
        return None
    if a / row < p.min_precision or (a / row) / (col / n) < p.min_lift:
        return None
    score = g2(a, row, col, n)
    return score if score >= p.min_g2 else None


def _from_company(counts: _Counts, known: Mapping[str, tuple[str, ...]], p: LearnParams
                  ) -> Iterable[_Found]:
    """Words whose users mostly belong to one hand interest, member by member."""
    members = [m for m in counts.members if m in counts.belongs]
    n = len(members)
    group_size = Counter(counts.belongs[m] for m in members)
    for w in _candidates(counts, p):
        users = [u for u in counts.users(w) if u in counts.belongs]
        inside = Counter(counts.belongs[u] for u in users)
        for code, a in sorted(inside.items()):
            score = _passes(a, len(users), group_size[code], n, p)
            if score is None:
                continue
            group = {u for u in users if counts.belongs[u] == code}
            basis = Counter[str]()
            for u in sorted(group):
                for k, times in counts.known_used[u].items():
                    if code in known.get(k, ()):
                        basis[k] += times
            top = tuple(k for k, _ in sorted(basis.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
            yield _word(counts, w, code, "company", top, group, score), group


def category_interests(corpus_codes: Mapping[int, str], bought: Mapping[int, Iterable[str]],
                       known: Mapping[str, tuple[str, ...]], valid: set[str], p: LearnParams
                       ) -> dict[str, str]:
    """Each order category's interest: by its name when a hand keyword is part of it
    ("母婴用品" → 母婴 → parenting; the longest keyword wins), else the hand interest its
    buyers show far more than everyone (`corpus_codes`: each member's own interest)."""
    by_category: dict[str, set[int]] = defaultdict(set)
    for member, cats in bought.items():
        for cat in cats:
            by_category[cat].add(member)
    n = len(corpus_codes)
    overall = Counter(corpus_codes.values())
    out: dict[str, str] = {}
    for cat in sorted(by_category):
        name = cat.lower()
        named = sorted(((len(k), k) for k in known if len(k) >= 2 and k in name), reverse=True)
        codes = [c for _, k in named for c in known[k] if c in valid]
        if codes:
            out[cat] = codes[0]
            continue
        buyers = [m for m in by_category[cat] if m in corpus_codes]
        shown = Counter(corpus_codes[m] for m in buyers)
        for code, a in sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:1]:
            if code in valid and _passes(a, len(buyers), overall[code], n, p) is not None:
                out[cat] = code
    return out


def _from_purchases(counts: _Counts, bought: Mapping[int, Iterable[str]],
                    known: Mapping[str, tuple[str, ...]], valid: set[str], p: LearnParams
                    ) -> Iterable[_Found]:
    """Words over-represented among the buyers of a category, for the category's interest."""
    talkers = set(counts.members)
    cat_code = category_interests({m: c for m, c in counts.belongs.items() if m in talkers},
                                  bought, known, valid, p)
    groups: dict[str, set[int]] = defaultdict(set)
    cats_of: dict[str, set[str]] = defaultdict(set)
    for member, cats in bought.items():
        if member not in talkers:
            continue
        for cat in cats:
            code = cat_code.get(cat)
            if code is not None:
                groups[code].add(member)
                cats_of[code].add(cat)
    n = len(talkers)
    for w in _candidates(counts, p):
        users = counts.users(w)
        for code in sorted(groups):
            group = groups[code]
            a = len(users & group)
            score = _passes(a, len(users), len(group), n, p)
            if score is not None:
                inside = users & group
                yield (_word(counts, w, code, "bought", tuple(sorted(cats_of[code])), inside,
                             score), inside)


def _word(counts: _Counts, w: str, code: str, source: str, basis: tuple[str, ...],
          group: set[int], score: float) -> LearnedWord:
    """A learned word without its quotes (the second pass reads them)."""
    return LearnedWord(w, code, source, basis, counts.word_msgs.get(w, 0), counts.user_count(w),
                       len(group), round(score, 2), ())


def learned_index(words: Iterable[LearnedWord]) -> dict[str, str]:
    """Word → interest code, what aggregation looks up."""
    return {w.word: w.code for w in words}


def learned_hits(keywords: Sequence[str], index: Mapping[str, str]) -> dict[str, float]:
    """A message's learned interest hits: LEARNED_WEIGHT per distinct learned word, at most
    LEARNED_CAP per interest. They add to the hand hits of the same interest too: a hotel
    review naming 酒店 once and 早餐, 装修 besides is still mostly about the stay (房间,
    前台), and only the learned words can say so."""
    hits: dict[str, float] = {}
    seen: set[str] = set()
    for kw in keywords:
        w = kw.lower()
        code = index.get(w)
        if code is None or w in seen:
            continue
        seen.add(w)
        hits[code] = min(LEARNED_CAP, hits.get(code, 0.0) + LEARNED_WEIGHT)
    return hits
