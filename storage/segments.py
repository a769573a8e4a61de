"""Segmentation runs: each run is stored, so runs can be compared and reported later.

A run keeps its as-of time, its parameters and its summary document (counts, circles, cards,
patterns, changes, and dynamic tags for the members that have any), plus one row per member
with the member's segment codes: persona views and invites look those up by member, and the
next run reads them back as the previous run's assignments (`assignments`). Runs stored
before that kept every assignment inside the document too; both shapes are read.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, Text, cast, delete, func, insert, literal, select, text, update
from sqlalchemy.engine import Connection, Engine

from persona.segment_result import SegmentResult, StoredAssignments
from storage.db import writing
from storage.models import MEMBER, MEMBER_SEGMENT, RUN
from storage.privacy import secure_delete
from storage.segment_rows import SqlRows

SEGMENT_FIELDS = ("value", "lifecycle", "motivation", "layer", "cluster")
_ROWS_PER_INSERT = 20_000
# Member rows of a pruned run deleted per transaction (see `SegmentStore.prune`).
_ROWS_PER_DELETE = 50_000


def json_text(doc: Mapping[str, Any]) -> str:
    """A run document as the JSON column stores it (the engine's serialiser's layout)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def stored_document(summary: Mapping[str, Any], key: str, items: Iterable[tuple[str, Any]],
                    chunk: int = 20_000) -> bytearray:
    """`json_text({**summary, key: dict(items)})` as UTF-8, `items` encoded `chunk` at a time.

    A run's dynamic tags (`SegmentResult.dynamic_rows`) were built into one dict of 420k
    members at a million, `json.dumps` held a piece per value before joining them into a str
    of two bytes a character (the labels are Chinese), and the driver made a UTF-8 copy of
    that: the stored document took the run's peak up by a third of a GB. Now one chunk's
    rows and the UTF-8 bytes exist, and `save_run` binds those as they are."""
    head = json_text({**summary, key: {}})
    out = bytearray(head[:-2].encode())  # up to the key's opening brace: the key is last
    batch: dict[str, Any] = {}
    sep = b""
    for k, v in items:
        batch[k] = v
        if len(batch) >= chunk:
            out += sep
            out += json_text(batch)[1:-1].encode()
            sep, batch = b",", {}
    if batch:
        out += sep
        out += json_text(batch)[1:-1].encode()
    out += b"}}"
    return out


class SegmentColumns(NamedTuple):
    """A run's codes column by column: row i is the member with pk `pks[i]`."""

    pks: Sequence[int]
    value: Sequence[str | None]
    lifecycle: Sequence[str | None]
    motivation: Sequence[str | None]
    layer: Sequence[str | None]
    cluster: Sequence[str | None]


class StoredRun(NamedTuple):
    id: int
    as_of: datetime
    created_at: datetime
    params: dict[str, Any]
    result: dict[str, Any]


class SegmentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_run(self, as_of: datetime, created_at: datetime, params: Mapping[str, Any],
                 result: Mapping[str, Any] | str | bytes | bytearray,
                 assignments: Mapping[int, Mapping[str, str | None]]
                 | Iterable[tuple[int, Mapping[str, str | None]]] | SegmentColumns) -> int:
        """Store a run and its per-member segments in one transaction; returns the run id.

        `result` is the document, or its JSON text already serialised (`json_text`, or as
        UTF-8: `stored_document`): then it is bound as it is, with no second serialisation
        of a few hundred megabytes (nor, as UTF-8, the driver's copy of a str).
        `assignments` maps member pk → segment codes, or is an iterable of such pairs, or
        the codes as `SegmentColumns` (a run's result as it is: no dict per member); rows
        are written in chunks, so a million members never sit in one list of row dicts.
        """
        with writing(self.engine) as conn:
            if isinstance(result, bytes | bytearray):
                # the run's row first, its document then written from the bytes as they are
                run_id = conn.execute(insert(RUN).values(
                    as_of=as_of, created_at=created_at, params=dict(params), result={},
                )).inserted_primary_key[0]
                _write_utf8(conn, int(run_id), result)
            else:
                run_id = conn.execute(insert(RUN).values(
                    as_of=as_of, created_at=created_at, params=dict(params),
                    result=_bound(conn, _document(result), result),
                )).inserted_primary_key[0]
            _insert_rows(conn, int(run_id), assignments)
        return int(run_id)

    def replace_run(self, run_id: int, result: Mapping[str, Any] | str | bytes | bytearray,
                    assignments: SegmentColumns) -> None:
        """Overwrite a stored run's document and member rows (its as-of, parameters and
        creation time stay): an erasure's recomputation of a run without the erased member.
        With SQLite's secure_delete on, so the old document's bytes do not stay behind.
        `result` as in `save_run`: UTF-8 bytes (`stored_document`) are written as they are."""
        with writing(self.engine) as conn:
            secure_delete(conn)
            if isinstance(result, bytes | bytearray):
                _write_utf8(conn, run_id, result)
            else:
                conn.execute(update(RUN).where(RUN.c.id == run_id)
                             .values(result=_bound(conn, _document(result), result)))
            conn.execute(delete(MEMBER_SEGMENT).where(MEMBER_SEGMENT.c.run_id == run_id))
            _insert_rows(conn, run_id, assignments)

    def assignments(self, run_id: int) -> StoredAssignments:
        """Every member's codes in a run, in member-id order (the order of a run's rows).

        Raw rows a chunk at a time, each code text shared by every member with that code (a
        run has a handful of distinct codes): at a million members the Row objects and five
        million separate code strings added 514 MB, resident while the run comparing with
        this one was at its peak; read this way 188 MB."""
        reader = SqlRows(self.engine)
        if not reader.supported:
            return self._assignments_by_rows(run_id)
        ids: list[str] = []
        cols: list[list[Any]] = [[] for _ in SEGMENT_FIELDS]
        shared = _Shared()
        fields = ", ".join(f"s.{f}" for f in SEGMENT_FIELDS)
        sql = (f"SELECT m.member_id, {fields} FROM {MEMBER_SEGMENT.name} s "
               f"JOIN {MEMBER.name} m ON m.id = s.member_pk WHERE s.run_id = :run "
               f"ORDER BY m.member_id{reader.sql.by_code_point}")
        for chunk in reader._rows(sql, {"run": int(run_id)}):
            mids, *codes = zip(*chunk, strict=True)
            ids.extend(mids)
            for col, values in zip(cols, codes, strict=True):
                col.extend(map(shared.__getitem__, values))
        if any(a > b for a, b in itertools.pairwise(ids)):
            order = sorted(range(len(ids)), key=ids.__getitem__)
            ids = [ids[i] for i in order]
            cols = [[col[i] for i in order] for col in cols]
        value, lifecycle, motivation, layer, cluster = cols
        return StoredAssignments(ids, value, lifecycle, motivation, layer, cluster)

    def _assignments_by_rows(self, run_id: int) -> StoredAssignments:
        """`assignments` on a backend the raw reader does not serve."""
        q = (select(MEMBER.c.member_id, *(MEMBER_SEGMENT.c[f] for f in SEGMENT_FIELDS))
             .join(MEMBER, MEMBER.c.id == MEMBER_SEGMENT.c.member_pk)
             .where(MEMBER_SEGMENT.c.run_id == run_id).order_by(MEMBER.c.member_id))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        # SQLite orders text by code point, as Python does; a server collation may not
        if any(a[0] > b[0] for a, b in itertools.pairwise(rows)):
            rows.sort(key=lambda r: r[0])
        cols = list(zip(*rows, strict=True)) if rows else [()] * (1 + len(SEGMENT_FIELDS))
        ids, value, lifecycle, motivation, layer, cluster = (list(c) for c in cols)
        return StoredAssignments(ids, value, lifecycle, motivation, layer, cluster)

    def document(self, run: StoredRun) -> dict[str, Any]:
        """A stored run as a `to_json` document, with every member's assignment inline (as
        `siyu report --json` has always printed it), whichever shape it was stored in."""
        if "assignments" in run.result:
            return dict(run.result)
        return self.assignments(run.id).document(run.result)

    def result_of(self, run: StoredRun) -> SegmentResult:
        """A stored run as a `SegmentResult` (the previous run of the next one)."""
        stored = None if "assignments" in run.result else self.assignments(run.id)
        return SegmentResult.from_json(run.result, stored)

    def comparable(self, until: datetime, before_id: int | None = None
                   ) -> tuple[StoredRun, SegmentResult] | None:
        """The newest run with as_of ≤ until as the next run compares with it: the stored run
        with its document but for the members' dynamic tags, and that as a `SegmentResult`
        (codes, circles, next circle code: all that circle matching and `changes` read).

        Nothing comparing reads the dynamic tags, and they are nearly all of a large run's
        document: at a million members (420k with dynamic tags) the whole document decoded
        stayed resident through the next run (+490 MB, +760 MB while decoding), the tags made
        into objects more. The database leaves them out, so they are never decoded here.
        `before_id`: only runs stored before that one (an erasure recomputing a run)."""
        q = select(RUN.c.id, RUN.c.as_of, RUN.c.created_at, RUN.c.params).where(
            RUN.c.as_of <= until)
        if before_id is not None:
            q = q.where(RUN.c.id < before_id)
        q = q.order_by(RUN.c.as_of.desc(), RUN.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            head = conn.execute(q).first()
            if head is None:
                return None
            doc = _summary(conn, int(head.id))
        run = StoredRun(*head, doc)
        stored = None if "assignments" in doc else self.assignments(run.id)
        return run, SegmentResult.from_json(doc, stored)

    def latest_run(self, until: datetime | None = None, before_id: int | None = None
                   ) -> StoredRun | None:
        """The newest run with as_of ≤ until (and id < before_id: the one before a run)."""
        q = select(RUN.c.id, RUN.c.as_of, RUN.c.created_at, RUN.c.params, RUN.c.result)
        if until is not None:
            q = q.where(RUN.c.as_of <= until)
        if before_id is not None:
            q = q.where(RUN.c.id < before_id)
        q = q.order_by(RUN.c.as_of.desc(), RUN.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return StoredRun(*row) if row else None

    def circle_names(self, until: datetime) -> dict[str, str]:
        """Interest circle code → name in the newest run with as_of ≤ until, read out of its
        stored document by the database: a 1M-member run's document is hundreds of MB
        decoded, and a persona shown to a person needs only these few names."""
        q = (select(RUN.c.result[("labels", "cluster")]).where(RUN.c.as_of <= until)
             .order_by(RUN.c.as_of.desc(), RUN.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            names = conn.execute(q).scalar()
        return {str(k): str(v) for k, v in (names or {}).items()}

    def run(self, run_id: int) -> StoredRun | None:
        q = select(RUN.c.id, RUN.c.as_of, RUN.c.created_at, RUN.c.params, RUN.c.result)
        with self.engine.connect() as conn:
            row = conn.execute(q.where(RUN.c.id == run_id)).first()
        return StoredRun(*row) if row else None

    def member_segments(self, run_id: int, pks: Iterable[int] | None = None
                        ) -> dict[int, dict[str, str | None]]:
        q = select(MEMBER_SEGMENT).where(MEMBER_SEGMENT.c.run_id == run_id)
        wanted = None if pks is None else set(pks)
        out: dict[int, dict[str, str | None]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(q).mappings():
                if wanted is None or row["member_pk"] in wanted:
                    out[row["member_pk"]] = {f: row[f] for f in SEGMENT_FIELDS}
        return out

    def prune(self, keep: int, protect: Iterable[int] = ()) -> tuple[int, int]:
        """Delete every run but the newest `keep` (by as-of, then id) and those in `protect`;
        returns (runs, member rows) deleted.

        A run is a row per member: at a million members each stored run added a million rows
        and their index entries beside every member's older ones (6.9 → 10.3 GB over 23 runs,
        the store slowing from 4.4 to 6–10 s). The member rows go a chunk at a time, each chunk
        its own transaction, so a live bot writing to the same SQLite file waits for one chunk,
        not a whole run; the run's own row goes with the last chunk. A crash between chunks
        leaves an old run with fewer rows, which the next prune finishes.
        """
        protected = set(protect)
        with self.engine.connect() as conn:
            ids = conn.scalars(select(RUN.c.id)
                               .order_by(RUN.c.as_of.desc(), RUN.c.id.desc())).all()
        old = [int(i) for i in ids[keep:] if i not in protected]
        rows = sum(self._drop_run(run_id) for run_id in old)
        return len(old), rows

    def _drop_run(self, run_id: int) -> int:
        rows = 0
        of_run = MEMBER_SEGMENT.c.run_id == run_id
        while True:
            with writing(self.engine) as conn:
                # the chunk's last member by the primary key (run_id, member_pk): no sort
                last = conn.scalar(select(MEMBER_SEGMENT.c.member_pk).where(of_run)
                                   .order_by(MEMBER_SEGMENT.c.member_pk)
                                   .offset(_ROWS_PER_DELETE - 1).limit(1))
                chunk = delete(MEMBER_SEGMENT).where(of_run)
                if last is not None:
                    chunk = chunk.where(MEMBER_SEGMENT.c.member_pk <= last)
                rows += conn.execute(chunk).rowcount
                if last is None:
                    conn.execute(delete(RUN).where(RUN.c.id == run_id))
                    return rows

    def run_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(RUN)) or 0)


class _Shared(dict[Any, Any]):
    """Each text looked up is the first equal text met: `map(shared.__getitem__, codes)`
    keeps one object per distinct code, with no Python step per value."""

    def __missing__(self, key: Any) -> Any:
        self[key] = key
        return key


def _summary(conn: Connection, run_id: int) -> dict[str, Any]:
    """A run's stored document without its "dynamic_tags", that key dropped by the database
    (the other keys in their stored order)."""
    name = conn.dialect.name
    if name == "sqlite":
        sql = f"SELECT json_remove(result, '$.dynamic_tags') FROM {RUN.name} WHERE id = :id"
    elif name == "postgresql":
        sql = ("SELECT json_object_agg(e.key, e.value ORDER BY e.n)::text "
               f"FROM {RUN.name} r, json_each(r.result) WITH ORDINALITY AS e(key, value, n) "
               "WHERE r.id = :id AND e.key <> 'dynamic_tags'")
    else:
        doc = conn.scalar(select(RUN.c.result).where(RUN.c.id == run_id))
        return {k: v for k, v in (doc or {}).items() if k != "dynamic_tags"}
    found = conn.scalar(text(sql), {"id": run_id})
    return json.loads(found) if found else {}


def _write_utf8(conn: Connection, run_id: int, document: bytes | bytearray) -> None:
    """A run's document from its JSON text in UTF-8, bound as bytes and made text by the
    database (no str of it on this side): SQLite takes a blob cast to text as those bytes,
    PostgreSQL decodes them."""
    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):
        conn.execute(update(RUN).where(RUN.c.id == run_id)
                     .values(result=json.loads(bytes(document))))
        return
    sql = (f"UPDATE {RUN.name} SET result = CAST(? AS TEXT) WHERE id = ?" if name == "sqlite"
           else f"UPDATE {RUN.name} SET result = convert_from(%s, 'UTF8')::json WHERE id = %s")
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, (document, run_id))
    finally:
        cur.close()


def _document(result: Mapping[str, Any] | str) -> Any:
    # a str bound as Text: the JSON type's serialiser would encode it a second time.
    return literal(result, Text) if isinstance(result, str) else dict(result)


def _bound(conn: Connection, doc: Any, result: Mapping[str, Any] | str) -> Any:
    # PostgreSQL will not put a text parameter into a json column without an explicit
    # CAST; SQLite must not get one (CAST AS JSON there means numeric affinity).
    if isinstance(result, str) and conn.dialect.name == "postgresql":
        return cast(doc, JSON)
    return doc


def _insert_rows(conn: Connection, run_id: int,
                 assignments: Mapping[int, Mapping[str, str | None]]
                 | Iterable[tuple[int, Mapping[str, str | None]]] | SegmentColumns) -> None:
    """A run's member rows, written in chunks, so a million members never sit in one list
    of row dicts."""
    if isinstance(assignments, SegmentColumns):
        pairs: Iterable[tuple[int, Mapping[str, str | None]]] = (
            (pk, dict(zip(SEGMENT_FIELDS, codes, strict=True)))
            for pk, *codes in zip(*assignments, strict=True))
    elif isinstance(assignments, Mapping):
        pairs = assignments.items()
    else:
        pairs = assignments
    if conn.dialect.name in ("sqlite", "postgresql"):
        # Plain tuples straight to the driver: a million rows through the Core statement's
        # per-row parameter processing took most of the store time. SQLite takes them by
        # executemany; PostgreSQL by COPY, one stream instead of a round trip per chunk
        # (10–12 s against SQLite's 2–2.6 s at 100k members with row inserts).
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        columns = f"(run_id, member_pk, {', '.join(SEGMENT_FIELDS)})"
        tuples = (zip(itertools.repeat(run_id), *assignments, strict=False)
                  if isinstance(assignments, SegmentColumns) else
                  ((run_id, pk, *(seg.get(f) for f in SEGMENT_FIELDS))
                   for pk, seg in pairs))
        try:
            if conn.dialect.name == "sqlite":
                cur.executemany(f"INSERT INTO {MEMBER_SEGMENT.name} {columns} "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", tuples)
            else:
                with cur.copy(f"COPY {MEMBER_SEGMENT.name} {columns} FROM STDIN") as copy:
                    for row in tuples:
                        copy.write_row(row)
        finally:
            cur.close()
        return
    rows: list[dict[str, Any]] = []
    for pk, seg in pairs:
        rows.append({"run_id": run_id, "member_pk": pk,
                     **{f: seg.get(f) for f in SEGMENT_FIELDS}})
        if len(rows) >= _ROWS_PER_INSERT:
            conn.execute(insert(MEMBER_SEGMENT), rows)
            rows = []
    if rows:
        conn.execute(insert(MEMBER_SEGMENT), rows)
