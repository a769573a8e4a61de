"""A segmentation run as reported and stored: assignments, circles, cards and the summary.

`SegmentResult.to_json` is the `siyu segment --json` document (DESIGN.md); `to_stored_json`
and `StoredAssignments` are what storage keeps of a run, and `from_json` reads either back so
it can be the `previous` of the next run. `Circle` and `PersonaCard` are here, not beside the
code that finds and writes them (persona/clusters.py, persona/cards.py), because they are
parts of this document: the JSON contract changes in this one module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from persona.member_table import DynamicTag
from persona.segment_params import (
    DIMENSIONS,
    GOAL_LABELS,
    LAYER_CODES,
    LIFECYCLE_CODES,
    NONE_KEY,
    SEGMENT_LABELS,
    VALUE_CODES,
    SegmentError,
    SegmentParams,
)
from persona.signals import MOTIVATION_CODES

FORMAT_VERSION = 1
# A stored run (`SegmentResult.to_stored_json`): the summary without the per-member
# assignments, which live in storage's member_segment rows; dynamic tags kept for the members
# that have any.
STORED_FORMAT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Circle:
    """One interest circle as reported: codes for machines, a Chinese label for people."""

    code: str
    label: str
    size: int
    top_interests: tuple[str, ...] = ()
    top_interest_labels: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "size": self.size,
                "top_interests": list(self.top_interests),
                "top_interest_labels": list(self.top_interest_labels),
                "keywords": list(self.keywords)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Circle:
        return cls(data["code"], data["label"], int(data["size"]),
                   tuple(data.get("top_interests", ())),
                   tuple(data.get("top_interest_labels", ())), tuple(data.get("keywords", ())))


@dataclass(slots=True)
class PersonaCard:
    """One segment as a named representative; `to_json` is an element of the run's "cards"."""

    dimension: str
    code: str
    label: str
    size: int
    share: float
    name: str
    role: str
    persona_name: str
    lead: bool = False
    focus: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    interests: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    pain_points: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[dict[str, Any]] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)
    motivation: dict[str, Any] | None = None
    channels: dict[str, Any] = field(default_factory=dict)
    scene: dict[str, Any] = field(default_factory=dict)
    example_members: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": {"dimension": self.dimension, "code": self.code, "label": self.label},
            "size": self.size, "share": self.share, "lead": self.lead,
            "name": self.name, "role": self.role, "persona_name": self.persona_name,
            "focus": self.focus, "profile": self.profile, "interests": self.interests,
            "needs": self.needs, "pain_points": self.pain_points, "quotes": self.quotes,
            "goals": self.goals, "motivation": self.motivation, "channels": self.channels,
            "scene": self.scene, "example_members": self.example_members,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PersonaCard:
        seg = data["segment"]
        return cls(
            dimension=seg["dimension"], code=seg["code"], label=seg["label"],
            size=int(data["size"]), share=float(data["share"]), name=data["name"],
            role=data["role"], persona_name=data["persona_name"],
            lead=bool(data.get("lead")), focus=list(data.get("focus", ())),
            profile=dict(data.get("profile") or {}), interests=list(data.get("interests", ())),
            needs=list(data.get("needs", ())), pain_points=list(data.get("pain_points", ())),
            quotes=list(data.get("quotes", ())), goals=list(data.get("goals", ())),
            motivation=data.get("motivation"), channels=dict(data.get("channels") or {}),
            scene=dict(data.get("scene") or {}),
            example_members=list(data.get("example_members", ())),
        )


@dataclass(slots=True)
class StoredAssignments:
    """Every member's codes of one run, in member-id order: what storage keeps as rows
    (`storage.segments.SegmentStore.assignments`) or an older document kept inline."""

    member_ids: list[str]
    value: list[str]
    lifecycle: list[str]
    motivation: list[str | None]
    layer: list[str]
    cluster: list[str | None]
    # only when the document carried them inline; else from its "dynamic_tags"
    dynamic_tags: list[tuple[DynamicTag, ...]] | None = None

    @classmethod
    def from_document(cls, assignments: Mapping[str, Mapping[str, Any]]) -> StoredAssignments:
        """The inline "assignments" of a `to_json` document (and runs stored before rows)."""
        ids = sorted(assignments)
        rows = [assignments[m] for m in ids]
        return cls(ids, [r["value"] for r in rows], [r["lifecycle"] for r in rows],
                   [r.get("motivation") for r in rows], [r["layer"] for r in rows],
                   [r.get("cluster") for r in rows],
                   [tuple(DynamicTag.from_json(d) for d in r.get("dynamic_tags", ()))
                    for r in rows])

    def document(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The `to_json` document of a stored run (`to_stored_json`) with these codes: every
        member's assignment inline, dynamic tags from the stored run's sparse ones."""
        doc = dict(stored)
        dynamic: Mapping[str, Any] = doc.pop("dynamic_tags", None) or {}
        tz = SegmentParams.from_json(doc.get("params")).tz
        doc["version"] = FORMAT_VERSION
        out: dict[str, dict[str, Any]] = {}
        for i, m in enumerate(self.member_ids):
            out[m] = {"value": self.value[i], "lifecycle": self.lifecycle[i],
                      "motivation": self.motivation[i], "layer": self.layer[i],
                      "cluster": self.cluster[i],
                      "dynamic_tags": [DynamicTag.from_row(r, tz).to_json(tz)
                                       for r in dynamic.get(m, ())]}
        doc["assignments"] = out
        return doc


@dataclass(slots=True)
class SegmentResult:
    """One segmentation run: per-member assignments (in member-id order) and the summaries.

    `to_json` is the `siyu segment --json` document; `from_json` reads a stored run back so it
    can be the `previous` of the next run.
    """

    as_of: datetime
    params: SegmentParams
    member_ids: list[str]
    value: list[str]
    lifecycle: list[str]
    motivation: list[str | None]
    layer: list[str]
    cluster: list[str | None]
    dynamic_tags: list[tuple[DynamicTag, ...]]
    circles: list[Circle]
    clustering: dict[str, Any]
    cards: list[PersonaCard]
    patterns: list[dict[str, Any]]
    importance: dict[str, list[dict[str, Any]]]
    next_cluster_code: int
    changes: dict[str, Any] | None = None
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def column(self, dimension: str) -> list[str | None]:
        """Codes of one dimension (value, lifecycle, motivation, layer, cluster)."""
        if dimension not in (*DIMENSIONS, "cluster"):
            raise SegmentError(f"dimension: 未知维度 {dimension!r} (unknown dimension)")
        return getattr(self, dimension)

    def counts(self) -> dict[str, dict[str, int]]:
        """Members per code for each dimension; every code listed, zeros included."""
        out: dict[str, dict[str, int]] = {}
        for dim, codes in (("value", VALUE_CODES), ("lifecycle", LIFECYCLE_CODES),
                           ("motivation", (*MOTIVATION_CODES, NONE_KEY)),
                           ("layer", LAYER_CODES)):
            # one Counter pass over the column (C speed) instead of an object array compared
            # once per code: a million members, 0.7 s; no code (None or "") counts as NONE_KEY
            seen = Counter(self.column(dim))
            unset = sum(k for c, k in seen.items() if not c)
            out[dim] = {c: seen.get(c, 0) + (unset if c == NONE_KEY else 0) for c in codes}
        return out

    def assignment(self, member_id: str) -> dict[str, Any] | None:
        """One member's segments and dynamic tags, or None when the member was not in the run."""
        if self._index is None:
            self._index = {m: i for i, m in enumerate(self.member_ids)}
        i = self._index.get(member_id)
        if i is None:
            return None
        return self._assignment(i)

    def members_in(self, code: str) -> list[str]:
        """Members holding a segment or circle code (codes are distinct across dimensions)."""
        for dim in (*DIMENSIONS, "cluster"):
            col = self.column(dim)
            hits = [m for m, c in zip(self.member_ids, col, strict=True) if c == code]
            if hits:
                return hits
        return []

    def _assignment(self, i: int) -> dict[str, Any]:
        tz = self.params.tz
        return {"value": self.value[i], "lifecycle": self.lifecycle[i],
                "motivation": self.motivation[i], "layer": self.layer[i],
                "cluster": self.cluster[i],
                "dynamic_tags": [d.to_json(tz) for d in self.dynamic_tags[i]]}

    def to_json(self) -> dict[str, Any]:
        """The `siyu segment --json` document: the summary and every member's assignment."""
        return {**self._summary(FORMAT_VERSION), "assignments": self._assignments()}

    def to_stored_json(self) -> dict[str, Any]:
        """The document a stored run keeps: the summary, and dynamic tags only for the members
        that have any. The codes of every member are stored as rows beside it (a million
        assignments inside the document were a third of a large run's time and its largest
        peak of memory); `from_json` takes them back as `StoredAssignments`."""
        return {**self.stored_summary(), "dynamic_tags": dict(self.dynamic_rows())}

    def stored_summary(self) -> dict[str, Any]:
        """`to_stored_json` but its last key, "dynamic_tags" (`dynamic_rows`): storage
        serialises those a chunk of members at a time, never as one dict of 420k members."""
        return self._summary(STORED_FORMAT_VERSION)

    def dynamic_rows(self) -> Iterator[tuple[str, list[list[Any]]]]:
        """(member id, its dynamic tags as stored rows) for each member with any, in
        member-id order: `to_stored_json`'s "dynamic_tags", one member at a time."""
        for m, dyn in zip(self.member_ids, self.dynamic_tags, strict=True):
            if dyn:
                yield m, [d.to_row() for d in dyn]

    def _summary(self, version: int) -> dict[str, Any]:
        tz = self.params.tz
        labels = {dim: dict(lab) for dim, lab in SEGMENT_LABELS.items()}
        labels["cluster"] = {c.code: c.label for c in self.circles}
        return {
            "version": version,
            "as_of": self.as_of.astimezone(tz).isoformat(timespec="seconds"),
            "goal": self.params.goal,
            "goal_label": GOAL_LABELS[self.params.goal],
            "counts": self.counts(),
            "labels": labels,
            "clusters": [c.to_json() for c in self.circles],
            "clustering": dict(self.clustering),
            "cards": [c.to_json() for c in self.cards],
            "patterns": list(self.patterns),
            "importance": dict(self.importance),
            "changes": self.changes,
            "params": self.params.to_json(),
            "next_cluster_code": self.next_cluster_code,
        }

    def _assignments(self) -> dict[str, dict[str, Any]]:
        """Every member's assignment. Members without dynamic tags (most of them) share one
        dict per combination of codes: the JSON is the same, and a million members no longer
        mean a million dicts (the stored run and `to_json` were a third of a large run)."""
        shared: dict[tuple[Any, ...], dict[str, Any]] = {}
        out: dict[str, dict[str, Any]] = {}
        for i, (m, v, lc, mo, la, cl, dyn) in enumerate(zip(
                self.member_ids, self.value, self.lifecycle, self.motivation, self.layer,
                self.cluster, self.dynamic_tags, strict=True)):
            if dyn:
                out[m] = self._assignment(i)
                continue
            key = (v, lc, mo, la, cl)
            seg = shared.get(key)
            if seg is None:
                seg = shared[key] = {"value": v, "lifecycle": lc, "motivation": mo,
                                     "layer": la, "cluster": cl, "dynamic_tags": []}
            out[m] = seg
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], stored: StoredAssignments | None = None
                  ) -> SegmentResult:
        """A run: a `to_json` document, or a stored one (`to_stored_json`) with its members'
        codes as `stored`. Raises SegmentError naming the key when the document is unusable."""
        try:
            params = SegmentParams.from_json(doc.get("params"))
            as_of = datetime.fromisoformat(doc["as_of"])
            if "assignments" in doc or stored is None:
                stored = StoredAssignments.from_document(doc["assignments"])
            dynamic: Mapping[str, Any] = doc.get("dynamic_tags") or {}
            circles = [Circle.from_json(c) for c in doc.get("clusters", ())]
            codes = [c.code for c in circles] + list(stored.cluster)
            next_code = doc.get("next_cluster_code") or 1 + max(
                (int(c[1:]) for c in codes if c and c[1:].isdigit()), default=0)
            return cls(
                as_of=as_of, params=params, member_ids=list(stored.member_ids),
                value=list(stored.value), lifecycle=list(stored.lifecycle),
                motivation=list(stored.motivation), layer=list(stored.layer),
                cluster=list(stored.cluster),
                dynamic_tags=stored.dynamic_tags if stored.dynamic_tags is not None else [
                    tuple(DynamicTag.from_row(d, params.tz) for d in dynamic[m])
                    if m in dynamic else () for m in stored.member_ids],
                circles=circles, clustering=dict(doc.get("clustering") or {}),
                cards=[PersonaCard.from_json(c) for c in doc.get("cards", ())],
                patterns=list(doc.get("patterns", ())),
                importance=dict(doc.get("importance") or {}),
                next_cluster_code=int(next_code), changes=doc.get("changes"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SegmentError(f"segment run JSON: 无法读取 {exc} (unusable stored run)") from exc
