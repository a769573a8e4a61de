"""Interest circles (兴趣圈): members who talk about the same things, found with k-means.

Why circles on top of the fixed segments: value, lifecycle and motivation say how a member
relates to the shop; circles say what they care about, which is what content and activities
are planned around ("辅食 workshop for the 母婴育儿 circle").

How (all deterministic for a given `seed`):
1. Vectors: each member's interest tag scores (row-normalised) next to a TF-IDF of their
   keywords (topic words used by at least two members, the `max_keywords` most frequent),
   weighted `keyword_weight`, then every row L2-normalised so k-means on them behaves like
   cosine similarity. Members with neither interests nor shared topic words get no circle.
2. k: every k in [k_min, min(k_max, profiled - 1)] is tried (a k that makes a cluster smaller
   than `min_circle_size` is not eligible); the smallest k whose silhouette is at least
   (1 - `k_tolerance`) × the best wins (fewer, broader circles when the data cannot
   tell; the method asks for no more detail than separates groups). Up to SMALL_COMMUNITY
   members each k is a cut of one Ward tree refined by k-means, so the partition moves only
   when the data does (see `_Partitions`).
   Fewer than `min_profiled` profiled members, or a best silhouette below `min_silhouette`
   (everyone alike), gives one circle of all profiled members; fewer than `min_circle_size`
   gives none. Large communities choose k on a seeded sample of `select_sample` members and
   fit the final model with MiniBatchKMeans above `minibatch_threshold` members.
3. Names: the circle's most distinctive interest (in-circle mean score minus the mean of the
   other profiled members) and keywords (share of members using the word, same difference),
   joined with "·", e.g. "母婴育儿·辅食·奶粉"; opinion words and fragments ("好难", "不慢")
   and shopping aspects (发货, 客服) name no circle, and neither does an interest or word
   too few of its members share. A group nothing names is merged into the nearest named one.
4. Stable codes: with a previous run, new circles are matched to old ones by member overlap
   (Jaccard, optimal one-to-one assignment) and keep the old code when the overlap is at least
   `min_jaccard`; other circles get fresh codes that never reuse an old one, so "c2" in last
   week's report means the same people this week.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import cut_tree, linkage
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from persona.member_table import MemberTable
from persona.phrases import is_opinion_word, is_product_word
from persona.phrases_lexicon import ASPECTS, PEOPLE
from persona.segment_params import SegmentParams
from persona.segment_result import Circle, SegmentResult

# Keywords per member that enter the vectors: the caller lists them most frequent first, and
# a member's ten most used words say what they talk about.
KEYWORDS_PER_MEMBER = 10
# An interest or word has to reach this in-circle level before it can name the circle.
NAME_MIN_INTEREST = 0.1
NAME_MIN_WORD_SHARE = 0.2
NAME_PARTS = 3
# Up to this many profiled members, partitions start from a Ward tree (see _Partitions).
SMALL_COMMUNITY = 2000


@dataclass(slots=True)
class CircleResult:
    assignment: np.ndarray  # object array: circle code or None, in table order
    circles: list[Circle]
    info: dict[str, Any]
    next_code: int


def keyword_matrix(t: MemberTable, params: SegmentParams) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """Binary member × keyword matrix over the `max_keywords` words most members use (at
    least two; ties by word, so the vocabulary is deterministic).

    Built from the table's flat (member, word) arrays, never a per-member object, so a million
    members with ten words each take seconds.
    """
    n = len(t)
    stop = t.stop_words
    # the first KEYWORDS_PER_MEMBER of each member's ranked words, stop words left out after
    rank = _rank_in_run(t.kw_member)
    vocab_ok = np.array([w not in stop for w in t.vocab] or [False], dtype=bool)
    use = (rank < KEYWORDS_PER_MEMBER) & vocab_ok[t.kw_word] if len(t.kw_word) else rank > 0
    # columns in first-use order (member order, then rank): the matrix's internal order, and
    # so k-means' float sums, are the same whichever way the words were read
    used, first_use, inverse = _unique_small(t.kw_word[use], len(t.vocab))
    order = np.argsort(first_use, kind="stable")
    col_of = np.empty(len(order), dtype=np.int64)
    col_of[order] = np.arange(len(order))
    index = {t.vocab[j]: k for k, j in enumerate(used[order].tolist())}
    cols = col_of[inverse]
    member_rows = t.kw_member[use]
    if n < 2 or not len(cols):
        return sp.csr_matrix((n, 0), dtype=np.float64), ()
    counts = sp.csr_matrix((np.ones(len(cols)), (member_rows, cols)),
                           shape=(n, len(index)))
    counts.sum_duplicates()
    counts.data[:] = 1.0  # binary: a word counts once per member
    df = np.bincount(counts.indices, minlength=len(index))
    words = np.array(list(index), dtype=object)
    # only words that say what members talk about: "发货", "上次", "好难" are shared by members
    # of every interest, and a circle held together by them has nothing to be named by
    eligible = np.array([j for j in np.flatnonzero(df >= 2).tolist() if _topic(str(words[j]))],
                        dtype=np.int64)
    if not len(eligible):
        return sp.csr_matrix((n, 0), dtype=np.float64), ()
    # most members first, then by word; keep the top max_keywords, listed in word order
    ranked = sorted(eligible.tolist(), key=lambda j: (-int(df[j]), words[j]))
    keep = sorted(ranked[: params.max_keywords], key=lambda j: words[j])
    return sp.csr_matrix(counts[:, keep]), tuple(words[keep].tolist())


def _rank_in_run(sorted_rows: np.ndarray) -> np.ndarray:
    """Each entry's position within its run of equal values (`sorted_rows` ascending).

    Equal to `arange - searchsorted(a, a)`, in one pass instead of a binary search per
    entry: ten million (member, word) pairs at a million members."""
    n = len(sorted_rows)
    if not n:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _unique_small(values: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(values, return_index=True, return_inverse=True)` for integers in
    [0, bound), by counting instead of sorting: the words' indices into the table's
    vocabulary, millions of them at a million members (0.75 s sorted)."""
    values = values.astype(np.int64, copy=False)
    present = np.bincount(values, minlength=bound) > 0
    used = np.flatnonzero(present)
    first = np.full(bound, len(values), dtype=np.int64)
    np.minimum.at(first, values, np.arange(len(values), dtype=np.int64))
    inverse = (np.cumsum(present) - 1)[values]
    return used, first[used], inverse


def circle_vectors(t: MemberTable, params: SegmentParams,
                   words: sp.csr_matrix) -> sp.csr_matrix:
    """Row-normalised [interests | keyword_weight × TF-IDF(keywords)]; empty rows = unprofiled."""
    parts = []
    if t.interests.shape[1]:
        parts.append(sp.csr_matrix(normalize(t.interests.astype(np.float64))))
    if words.shape[1]:
        tfidf = TfidfTransformer().fit_transform(words)
        parts.append(params.keyword_weight * tfidf)
    if not parts:
        return sp.csr_matrix((len(t), 0), dtype=np.float64)
    x = sp.hstack(parts, format="csr")
    x.eliminate_zeros()
    return normalize(x)


def _model(k: int, seed: int, n: int, large: bool = False) -> KMeans | MiniBatchKMeans:
    if large:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    # several restarts matter on a noisy community; on thousands one or two suffice
    return KMeans(n_clusters=k, random_state=seed, n_init=4 if n <= 5000 else 2)


class _Partitions:
    """k-means labels for any k of one data set.

    Up to SMALL_COMMUNITY members, each k starts from the cut of one Ward tree into k groups
    and k-means refines it from those centres (one run, no random restart): on a few dozen
    members, random restarts found a different local optimum when as-of moved by a second,
    and the number of circles flipped with it, while a tree cut moves only when the data
    does. Larger communities use seeded k-means++ restarts (the tree needs n² memory).
    """

    def __init__(self, x: sp.csr_matrix, seed: int) -> None:
        self.x, self.seed = x, seed
        n = x.shape[0]
        self.tree = (linkage(x.toarray(), method="ward") if 2 < n <= SMALL_COMMUNITY
                     else None)

    def labels(self, k: int) -> np.ndarray:
        n = self.x.shape[0]
        with warnings.catch_warnings():
            # duplicate points: k-means finds fewer distinct clusters (the caller checks)
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.tree is None:
                return _model(k, self.seed, n).fit_predict(self.x)
            # by merge order, so tied heights (identical members) still give k groups
            cut = cut_tree(self.tree, n_clusters=k).ravel()
            dense = self.x.toarray()
            if len(np.unique(dense, axis=0)) < k:
                return cut  # fewer distinct members than k (the caller stops there)
            centres = np.vstack([dense[cut == g].mean(axis=0) for g in range(k)])
            refined = KMeans(n_clusters=k, init=centres, n_init=1,
                             random_state=self.seed).fit_predict(dense)
            # k-means may empty a group a tie put on the edge: the cut is a partition still
            return refined if len(np.unique(refined)) == k else cut


def _choose_k(x: sp.csr_matrix, params: SegmentParams
              ) -> tuple[int | None, dict[str, float], np.ndarray | None]:
    """Best k by silhouette; the labels too when `x` is the whole data."""
    n = x.shape[0]
    tried: dict[str, float] = {}
    fits: list[tuple[float, int, np.ndarray]] = []
    parts = _Partitions(x, params.seed)
    for k in range(params.k_min, min(params.k_max, n - 1) + 1):
        labels = parts.labels(k)
        sizes = np.bincount(labels, minlength=k)
        if np.count_nonzero(sizes) < k:
            break  # fewer distinct members than k: larger k cannot do better
        if sizes.min() < params.min_circle_size:
            # silhouette likes splitting off near-duplicates; a circle that would dissolve
            # for being too small would leave its members without one
            continue
        sample = params.silhouette_sample if n > params.silhouette_sample else None
        score = float(silhouette_score(x, labels, sample_size=sample,
                                       random_state=params.seed))
        tried[str(k)] = round(score, 4)
        fits.append((score, k, labels))
    if not fits:
        return None, tried, None
    top = max(score for score, _, _ in fits)
    _, k, labels = next(f for f in fits if f[0] >= top - abs(top) * params.k_tolerance)
    return k, tried, labels


def find_circles(t: MemberTable, params: SegmentParams,
                 previous: SegmentResult | None = None) -> CircleResult:
    """Assign interest circles (see the module docstring)."""
    n = len(t)
    words, vocab = keyword_matrix(t, params)
    x = circle_vectors(t, params, words)
    profiled = np.flatnonzero(np.diff(x.indptr) > 0) if x.shape[1] else np.zeros(0, np.int64)
    xp = x[profiled]
    m = len(profiled)
    info: dict[str, Any] = {"method": "none", "k": 0, "silhouette": None, "tried": {},
                            "profiled": int(m),
                            "features": {"interests": len(t.interest_codes),
                                         "keywords": len(vocab)}}
    labels = np.full(m, -1, dtype=np.int64)
    if m >= params.min_circle_size:
        k, tried, sample_labels = (None, {}, None)
        if m >= params.min_profiled:
            if m > params.select_sample:
                rng = np.random.default_rng(params.seed)
                pick = np.sort(rng.choice(m, params.select_sample, replace=False))
                k, tried, _ = _choose_k(xp[pick], params)
            else:
                k, tried, sample_labels = _choose_k(xp, params)
        info["tried"] = tried
        if k is not None and tried[str(k)] >= params.min_silhouette:
            if sample_labels is None:
                large = m > params.minibatch_threshold
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    sample_labels = _model(k, params.seed, m, large).fit_predict(xp)
                info["method"] = "minibatch_kmeans" if large else "kmeans"
            else:
                info["method"] = "kmeans"
            labels = np.asarray(sample_labels, dtype=np.int64)
            info["k"] = k
            info["silhouette"] = tried[str(k)]
        else:
            labels[:] = 0
            info["method"] = "single"
            info["k"] = 1

    # the profiled rows' copy (≈ the whole matrix: most members are profiled) is done with:
    # gone before naming the groups copies rows of its own
    del xp
    # Groups of member indices (table order), largest first; tiny groups dissolve, and so do
    # groups nothing can name (their members join the nearest named one).
    in_circle = np.zeros(n, dtype=bool)
    in_circle[profiled] = True
    groups = [profiled[labels == j] for j in np.unique(labels[labels >= 0])]
    groups = [g for g in groups if len(g) >= params.min_circle_size]
    groups = _merge_nameless(t, words, vocab, x, groups, in_circle)
    del x  # the vectors, too, before the circles are described
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    codes, next_code = assign_codes(groups, t.ids, previous, params.min_jaccard)

    assignment = np.full(n, None, dtype=object)
    for g, code in zip(groups, codes, strict=True):
        assignment[g] = code
    circles = [_describe(t, words, vocab, g, in_circle, code) for g, code in zip(
        groups, codes, strict=True)]
    _dedupe_labels(circles)
    order = sorted(range(len(circles)), key=lambda j: (-circles[j].size, _code_num(codes[j])))
    info["unclustered"] = int(n - sum(len(g) for g in groups))
    info["k"] = len(groups) if info["k"] else 0
    return CircleResult(assignment, [circles[j] for j in order], info, next_code)


def _merge_nameless(t: MemberTable, words: sp.csr_matrix, vocab: tuple[str, ...],
                    x: sp.csr_matrix, groups: list[np.ndarray], in_circle: np.ndarray
                    ) -> list[np.ndarray]:
    """Dissolve, smallest first, every group that no interest or topic word names: its
    members join the named group whose centre is nearest (cosine), or none when they share
    nothing with any.

    A circle is shown to a person as its words; one without ("兴趣圈5") tells the operator
    nothing, and k-means makes such a group of members held together only by how little
    they say. Naming depends on the other groups, so it is rechecked after every merge.
    """
    groups = list(groups)
    while groups:
        nameless = [j for j, g in enumerate(groups)
                    if not _describe(t, words, vocab, g, in_circle, "").label]
        if not nameless:
            return groups
        drop = min(nameless, key=lambda j: (len(groups[j]), int(groups[j][0])))
        moving = groups.pop(drop)
        if not groups:
            return []
        centres = normalize(np.vstack([np.asarray(x[g].mean(axis=0)) for g in groups]))
        sims = np.asarray(x[moving] @ centres.T)
        best = sims.argmax(axis=1)
        for j in range(len(groups)):
            joining = moving[(best == j) & (sims.max(axis=1) > 0)]
            groups[j] = np.sort(np.concatenate([groups[j], joining]))
    return groups


def _code_num(code: str) -> int:
    return int(code[1:]) if code[1:].isdigit() else 0


def assign_codes(groups: list[np.ndarray], ids: list[str], previous: SegmentResult | None,
                 min_jaccard: float) -> tuple[list[str], int]:
    """Codes for the groups: the matched previous code, else a fresh one; and the next free
    number. Matching maximises the summed Jaccard overlap (Hungarian algorithm)."""
    if previous is None:
        return [f"c{j + 1}" for j in range(len(groups))], len(groups) + 1
    prev_codes = sorted({c for c in previous.cluster if c} | {c.code for c in previous.circles},
                        key=_code_num)
    next_code = max([previous.next_cluster_code, *(_code_num(c) + 1 for c in prev_codes)])
    codes: list[str | None] = [None] * len(groups)
    if groups and prev_codes:
        pos = {c: j for j, c in enumerate(prev_codes)}
        prev_lab = np.array([pos.get(c, -1) if c else -1 for c in previous.cluster],
                            dtype=np.int64)
        cur_lab = np.full(len(ids), -1, dtype=np.int64)
        for j, g in enumerate(groups):
            cur_lab[g] = j
        _, cur_i, prev_i = np.intersect1d(np.asarray(ids, dtype=object),
                                          np.asarray(previous.member_ids, dtype=object),
                                          assume_unique=True, return_indices=True)
        a, b = cur_lab[cur_i], prev_lab[prev_i]
        both = (a >= 0) & (b >= 0)
        inter = np.zeros((len(groups), len(prev_codes)))
        np.add.at(inter, (a[both], b[both]), 1)
        size_new = np.array([len(g) for g in groups], dtype=np.float64)
        size_old = np.bincount(prev_lab[prev_lab >= 0], minlength=len(prev_codes))
        jaccard = inter / (size_new[:, None] + size_old[None, :] - inter)
        rows, cols = linear_sum_assignment(jaccard, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            if jaccard[r, c] >= min_jaccard and jaccard[r, c] > 0:
                codes[r] = prev_codes[c]
    out: list[str] = []
    for code in codes:
        if code is None:
            code = f"c{next_code}"
            next_code += 1
        out.append(code)
    return out, next_code


def _describe(t: MemberTable, words: sp.csr_matrix, vocab: tuple[str, ...], group: np.ndarray,
              profiled: np.ndarray, code: str) -> Circle:
    """Name a circle by what sets it apart from the other profiled members."""
    inside = np.zeros(len(t), dtype=bool)
    inside[group] = True
    outside = profiled & ~inside
    interests = _distinct_interests(t, inside, outside) if t.interests.shape[1] else []
    keywords = (_distinct_words(words, vocab, inside, outside, {t.label(c) for c in interests})
                if words.shape[1] else [])
    labels = [t.label(c) for c in interests]
    parts = labels[:1] + keywords[:2]
    parts += [lab for lab in labels[1:] if lab not in parts][: NAME_PARTS - len(parts)]
    # empty when nothing names the circle: find_circles merges such a group away
    label = "·".join(parts[:NAME_PARTS])
    return Circle(code, label, len(group), tuple(interests), tuple(labels),
                  tuple(keywords))


def _distinct_interests(t: MemberTable, inside: np.ndarray, outside: np.ndarray) -> list[str]:
    """Up to three interest codes the circle talks about more than the others do."""
    mean_in = t.interests[inside].mean(axis=0)
    mean_out = t.interests[outside].mean(axis=0) if outside.any() else np.zeros_like(mean_in)
    diff = mean_in - mean_out
    cand = [j for j in range(len(mean_in)) if mean_in[j] >= NAME_MIN_INTEREST
            and (diff[j] > 0 or not outside.any())]
    cand.sort(key=lambda j: (-round(float(diff[j]), 6), -float(mean_in[j]),
                             t.interest_codes[j]))
    if not cand:  # nothing distinctive: fall back to what the circle talks about most
        cand = sorted((j for j in range(len(mean_in)) if mean_in[j] >= NAME_MIN_INTEREST),
                      key=lambda j: (-float(mean_in[j]), t.interest_codes[j]))[:2]
    return [t.interest_codes[j] for j in cand[:3]]


def _distinct_words(words: sp.csr_matrix, vocab: tuple[str, ...], inside: np.ndarray,
                    outside: np.ndarray, taken: set[str]) -> list[str]:
    """Up to three keywords more of the circle uses than of the others, none already named
    by an interest label in `taken`."""
    share_in = np.asarray(words[inside].mean(axis=0)).ravel()
    count_in = np.asarray(words[inside].sum(axis=0)).ravel()
    share_out = (np.asarray(words[outside].mean(axis=0)).ravel() if outside.any()
                 else np.zeros_like(share_in))
    diff_w = share_in - share_out
    cand_w = [j for j in range(len(vocab)) if share_in[j] >= NAME_MIN_WORD_SHARE
              and count_in[j] >= 2 and diff_w[j] > 0 and vocab[j] not in taken
              and _topic(vocab[j])]
    cand_w.sort(key=lambda j: (-round(float(diff_w[j]), 6), -float(share_in[j]), vocab[j]))
    if not cand_w:  # no distinctive word: the words most of the circle uses
        cand_w = sorted((j for j in range(len(vocab)) if count_in[j] >= 2
                         and share_in[j] >= NAME_MIN_WORD_SHARE
                         and vocab[j] not in taken and _topic(vocab[j])),
                        key=lambda j: (-float(share_in[j]), vocab[j]))
    return [vocab[j] for j in cand_w[:3]]


def _topic(word: str) -> bool:
    """Can the word name what a circle talks about? Not an opinion or fragment ("好难", "不慢")
    and not how shopping went (发货, 客服, 价格): every circle complains about those."""
    if is_opinion_word(word) or ASPECTS.get(word) in ("delivery", "service", "price"):
        return False
    # a thing ("螺蛳粉", "油烟机") or a person the circle is about ("宝宝"), not a time (周末)
    return is_product_word(word) or word in ASPECTS or word in PEOPLE


def _dedupe_labels(circles: list[Circle]) -> None:
    """Two circles named alike get their code appended, so a manager can tell them apart."""
    seen: dict[str, int] = {}
    for c in circles:
        seen[c.label] = seen.get(c.label, 0) + 1
    for j, c in enumerate(circles):
        if seen[c.label] > 1:
            circles[j] = Circle(c.code, f"{c.label}（{c.code}）", c.size, c.top_interests,
                                c.top_interest_labels, c.keywords)
