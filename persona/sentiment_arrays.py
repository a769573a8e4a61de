"""The complaint model's sums for many messages at once, in numpy.

`SentimentModel.negative_probability` needs five numbers of a cleaned message: Σ w·idf and
Σ idf² over its distinct known character 1–3-grams, and the praise and blame of its lexicon
words (each the longest at its position, turned round after a negator) with their counts. In
Python that is a slice, a hash and a dict look-up per n-gram and per position, ≈ 60 µs a
chat line: half the analyser's time. Here every character becomes a small integer (its rank in
the model's alphabet), every n-gram of length k a base-B number of k digits, and the look-ups
are hash-table probes (`_Table`) of each length's keys, for a whole batch of messages in one
go (`handlers/ingest_pool.py` sends a thousand at a time).

The same results, number for number, as the loops (tests/test_sentiment_identity.py):
* the lexicon sums are added position by position, left to right, by `np.bincount`, a plain
  C loop over its input in order: the loop's floats exactly;
* the n-gram sums are added in order of the n-grams' rank in the model. The loop summed in
  the order of a Python set of strings, which follows the process's string hash seed, so its
  last bits already varied from one process to the next (14 % of probabilities, none of them
  at the two stored decimals, over 172,000 texts: docs/performance.md). The rank order does
  not vary, and one message alone or in a batch of a thousand is summed the same way.

An n-gram that holds a character the model never saw gets a digit 0, which no key of that
length has, so it matches nothing, as in the loop; messages are joined by "\\n", which a
cleaned message never holds, so no n-gram spans two of them.

Pure: numpy arrays in, lists out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_SEP = "\n"


@dataclass(frozen=True, slots=True)
class Sums:
    """Per message: Σ w·idf, Σ idf², praise, blame, praise words, blame words."""

    dot: list[float]
    norm: list[float]
    pos: list[float]
    neg: list[float]
    npos: list[int]
    nneg: list[int]


# Fibonacci hashing: the key times 2^64/φ, its top bits the slot.
_MULT = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = -1


class _Table:
    """An open-addressing hash table of int64 keys in numpy arrays, looked up a whole array
    of keys at a time: one gather per probe instead of `searchsorted`'s fifteen or so over
    sorted keys (which was half of this module's time)."""

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        self.bits = max(4, len(keys).bit_length() + 1)  # at most half full
        size = 1 << self.bits
        self.mask = size - 1
        self.keys = np.full(size, _EMPTY, dtype=np.int64)
        self.values = np.zeros(size, dtype=values.dtype)
        pending = np.arange(len(keys))
        slot = self._home(keys)
        while pending.size:  # every key to its first free slot on from its home
            at = slot[pending]
            free = self.keys[at] == _EMPTY
            taken, first = np.unique(at[free], return_index=True)
            won = pending[free][first]
            self.keys[taken] = keys[won]
            self.values[taken] = values[won]
            placed = np.zeros(len(keys), dtype=bool)
            placed[won] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & self.mask

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _MULT) >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of `keys` are in the table (a mask) and, for those, their values."""
        found = np.full(len(keys), _EMPTY, dtype=np.int64)
        pending = np.arange(len(keys))
        slot = self._home(keys)
        while pending.size:
            there = self.keys[slot]
            hit = there == keys[pending]
            found[pending[hit]] = slot[hit]
            go = ~hit & (there != _EMPTY)
            pending, slot = pending[go], (slot[go] + 1) & self.mask
        hit = found != _EMPTY
        return hit, self.values[found[hit]]


def _alphabet(strings: list[str]) -> tuple[np.ndarray, int]:
    """Code point -> digit (1..B-1) for every character of `strings`, 0 for every other (the
    last slot answers for every code point above the highest), and the base B."""
    alphabet = sorted(set("".join(strings)))
    digit = np.zeros(max((ord(c) for c in alphabet), default=0) + 2, dtype=np.int64)
    digit[[ord(c) for c in alphabet]] = np.arange(1, len(alphabet) + 1)
    return digit, len(alphabet) + 1


class ModelArrays:
    """The model's n-gram weights and lexicon as integer keys (built once per model)."""

    def __init__(self, table: Mapping[str, tuple[float, float]], lexicon: Mapping[str, float],
                 gram_sizes: Sequence[int], word_sizes: Sequence[int],
                 negators: frozenset[str], degree: frozenset[str]) -> None:
        # the n-grams in rank order: the order their weights are summed in
        self.grams = [g for g in table if len(g) in gram_sizes]
        words = [w for w in lexicon if len(w) in word_sizes]
        self._digit, self.base = _alphabet(self.grams + words)
        self.longest = max([*gram_sizes, *word_sizes, 1])
        if self.base ** self.longest >= 2 ** 63:
            raise ValueError("sentiment model: too many distinct characters for 64-bit keys")
        self.weights = np.array([table[g][0] for g in self.grams], dtype=np.float64)
        self.squares = np.array([table[g][1] for g in self.grams], dtype=np.float64)
        length = np.array([len(g) for g in self.grams], dtype=np.int64)
        self._grams = {k: self._table([g for g in self.grams if len(g) == k],
                                      np.flatnonzero(length == k))
                       for k in gram_sizes}
        self._words = {k: self._table(same, np.array([lexicon[w] for w in same],
                                                     dtype=np.float64))
                       for k in sorted(word_sizes)
                       for same in [[w for w in words if len(w) == k]]}
        self._negators = np.array(sorted(ord(c) for c in negators), dtype=np.uint32)
        self._degree = np.array(sorted(ord(c) for c in degree), dtype=np.uint32)

    def _table(self, strings: list[str], values: np.ndarray) -> _Table:
        return _Table(self._keys_of(strings), values)

    def _keys_of(self, strings: list[str]) -> np.ndarray:
        if not strings:
            return np.zeros(0, dtype=np.int64)
        size = len(strings[0])
        digits = self._digits("".join(strings)).reshape(len(strings), size)
        keys = np.zeros(len(strings), dtype=np.int64)
        for j in range(size):
            keys = keys * self.base + digits[:, j]
        return keys

    def _digits(self, text: str) -> np.ndarray:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self._digit[np.minimum(codes, len(self._digit) - 1)]

    def sums(self, cleaned: Sequence[str], lexicon: bool) -> Sums:
        """The five numbers of each cleaned message (`lexicon`: also the lexicon's four)."""
        n = len(cleaned)
        joined = _SEP.join(cleaned)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        digits = self._digits(joined)
        message = np.cumsum(codes == ord(_SEP))  # which message each position is in
        keys = {1: digits}  # the k-gram starting at each position, as a base-B number
        for k in range(2, self.longest + 1):
            keys[k] = keys[k - 1][:-1] * self.base + digits[k - 1:]

        found_m, found_r = [], []
        for k, index in self._grams.items():
            hit, rows = index.find(keys[k])
            found_m.append(message[:len(hit)][hit])
            found_r.append(rows)
        size = len(self.weights)
        # distinct (message, n-gram) pairs, by message, then by n-gram rank
        pairs = np.concatenate(found_m) * size + np.concatenate(found_r)
        pairs.sort()
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
        at, rows = pairs // max(size, 1), pairs % max(size, 1)
        dot = np.bincount(at, self.weights[rows], minlength=n)
        norm = np.bincount(at, self.squares[rows], minlength=n)
        if not lexicon:
            zero = [0.0] * n
            return Sums(dot.tolist(), norm.tolist(), zero, zero, [0] * n, [0] * n)

        # the longest lexicon word at each position: shorter lengths first, longer overwrite
        value = np.full(len(digits), np.nan)
        for k, index in self._words.items():
            hit, values = index.find(keys[k])
            value[:len(hit)][hit] = values
        where = np.flatnonzero(~np.isnan(value))
        v = value[where]
        negator = np.isin(codes, self._negators)
        degree = np.isin(codes, self._degree)
        # a negator just before, or two before with a degree word between; the separator is
        # neither, so a message's first two positions look at nothing of another message
        before = np.zeros(len(codes) + 2, dtype=bool)
        before[2:] = negator
        before2 = before[where]  # negator at position - 2
        before1 = before[where + 1]  # negator at position - 1
        deg = np.zeros(len(codes) + 1, dtype=bool)
        deg[1:] = degree
        turned = before1 | (before2 & deg[where])
        v = np.where(turned, -v, v)
        at = message[where]
        praise = v > 0
        blame = ~praise
        return Sums(dot.tolist(), norm.tolist(),
                    np.bincount(at[praise], v[praise], minlength=n).tolist(),
                    np.bincount(at[blame], -v[blame], minlength=n).tolist(),
                    np.bincount(at[praise], minlength=n).tolist(),
                    np.bincount(at[blame], minlength=n).tolist())
