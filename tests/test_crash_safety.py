"""Crash safety: `siyu ingest` killed with SIGKILL mid-import, again and again, then resumed.

The design promises that a batch lands whole or not at all (one transaction per batch), that a
re-run simply continues (known message ids are skipped), and that a crash between the messages
and the tag rebuild is healed by the next ingest (the stale flag is written with the messages).
This file checks those promises on a real process and a real SQLite file:

- a generated ChatLab JSONL of 20,000 messages is imported with `batch_size = 500` (40
  transactions) and killed four times in a row: twice by the test when the stored message count
  passes a threshold, twice from inside the process at an exact statement (right after a
  batch's message INSERT, and right after the tag INSERT, both before their COMMIT), then run
  to completion;
- after every kill the database is intact and consistent: the message count is exactly one of
  the cumulative batch boundaries computed from the file, no message lacks its member, chat or
  identity, members' first/last seen match their stored messages, and nothing was marked fresh;
- the resumed database equals a clean single run of the same file, table by table (surrogate
  integer ids replaced by the member id they stand for);
- two writer processes import at once, one of them holding the write lock while the other
  tries to write: both finish, nobody sees "database is locked", the journal is WAL and the
  engine waits up to 30 s for a lock; the same with the same file twice (one stores, the other
  counts duplicates), because a write transaction takes the lock before its first read;
- a kill while the schema is being created leaves an empty file the next run simply creates.

Nothing here depends on timing: a threshold kill may land anywhere in the next batch and every
assertion holds wherever it lands; the in-process kills are at exact statements.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from bot.sources import open_source
from handlers.events import MessageEvent

ROOT = Path(__file__).resolve().parent.parent
N_MESSAGES = 20_000
MEMBERS = 300
BATCH = 500
# Generous: the whole import takes a few seconds; this only stops a hung child hanging CI.
CHILD_TIMEOUT = 180.0

# Runs `siyu` (bot.cli.main) with SQLAlchemy cursor hooks chosen by environment variables, so
# the test can stop the process at an exact statement inside an open transaction:
#   SIYU_TEST_KILL_AFTER="INSERT INTO MESSAGE (:4"  SIGKILL itself after the 4th such statement
#   SIYU_TEST_HOLD_AFTER="INSERT INTO MESSAGE (:2"  after the 2nd, touch DIR/holding and wait
#                                                    (write lock held) until DIR/release exists
#   SIYU_TEST_MARK_BEFORE="INSERT INTO:1"           touch DIR/writing before the 1st write
HOOKED_SIYU = r"""
import os, signal, sys, time
from pathlib import Path
from sqlalchemy import event
from sqlalchemy.engine import Engine

def hook(var, when, action):
    spec = os.environ.get(var)
    if not spec:
        return
    prefix, nth = spec.rsplit(":", 1)
    seen = [0]
    def fire(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith(prefix):
            seen[0] += 1
            if seen[0] == int(nth):
                action()
    event.listen(Engine, when, fire)

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def hold():
    d = Path(os.environ["SIYU_TEST_DIR"])
    (d / "holding").touch()
    deadline = time.monotonic() + 60
    while not (d / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)

def mark():
    (Path(os.environ["SIYU_TEST_DIR"]) / "writing").touch()

hook("SIYU_TEST_KILL_AFTER", "after_cursor_execute", kill)
hook("SIYU_TEST_HOLD_AFTER", "after_cursor_execute", hold)
hook("SIYU_TEST_MARK_BEFORE", "before_cursor_execute", mark)
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _sample_community() -> ModuleType:
    """scripts/ is not a package: load the generator by path, once, as test_sample_community."""
    name = "sample_community"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Corpus:
    dir: Path
    big: Path
    small: Path
    config: Path
    # Stored message count after each committed batch of `big`, in order.
    bounds: list[int]


def batch_bounds(path: Path, batch_size: int) -> list[int]:
    """The message counts a correct import of `path` can stop at, from the file alone.

    The ingestor flushes after every `batch_size` messages it analyses (the account's own
    messages are skipped before that, and are not counted); a batch stores the ids it has not
    seen before. So after k committed batches the table holds the distinct ids among the first
    k * batch_size analysed messages.
    """
    seen: set[str] = set()
    analysed = 0
    bounds: list[int] = []
    for item in open_source(path):
        if isinstance(item, MessageEvent) and not item.is_self:
            seen.add(item.id)
            analysed += 1
            if analysed % batch_size == 0:
                bounds.append(len(seen))
    if analysed % batch_size:
        bounds.append(len(seen))
    return bounds


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    d = tmp_path_factory.mktemp("crash")
    sc = _sample_community()
    big, small = d / "BIG.jsonl", d / "small.jsonl"
    sc.write_bulk_jsonl(big, N_MESSAGES, seed=7, members=MEMBERS)
    sc.write_bulk_jsonl(small, 3_000, seed=11, members=80)  # another group, other people
    config = d / "siyu.toml"
    config.write_text(f"batch_size = {BATCH}\n", encoding="utf-8")
    return Corpus(d, big, small, config, batch_bounds(big, BATCH))


# ---- running and watching the child ------------------------------------------------------------
@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def wait(self) -> int:
        return self.proc.wait(timeout=CHILD_TIMEOUT)

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def report(self) -> dict[str, object]:
        return json.loads(self.out.read_text(encoding="utf-8"))


def siyu(corpus: Corpus, db: Path, files: Sequence[Path], tag: str,
         hooks: dict[str, str] | None = None) -> Child:
    """Start `python -m bot.cli ingest` (or the hooked equivalent) as a separate process."""
    env = {k: v for k, v in os.environ.items() if k != "SIYU_DB"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["SIYU_TEST_DIR"] = str(corpus.dir)
    env.update(hooks or {})
    program = ["-c", HOOKED_SIYU] if hooks else ["-m", "bot.cli"]
    args = ["--db", f"sqlite:///{db}", "--config", str(corpus.config), "ingest", "--json",
            *map(str, files)]
    out, err = corpus.dir / f"{tag}.out", corpus.dir / f"{tag}.err"
    with out.open("wb") as fo, err.open("wb") as fe:
        proc = subprocess.Popen([sys.executable, *program, *args], cwd=corpus.dir, env=env,
                                stdout=fo, stderr=fe)
    return Child(proc, out, err)


def message_count(db: Path) -> int:
    """Committed messages, read without ever creating the file (0 before the schema exists)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return int(con.execute("SELECT count(*) FROM message").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0  # schema still being created


def kill_when(child: Child, db: Path, at_least: int) -> None:
    """SIGKILL the child as soon as `at_least` messages are committed (it must still run)."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    while message_count(db) < at_least:
        assert child.proc.poll() is None, (
            f"siyu exited ({child.proc.returncode}) before {at_least} messages: {child.stderr()}")
        assert time.monotonic() < deadline, "import made no progress"
        time.sleep(0.005)
    child.proc.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL


def assert_still_waiting(child: Child, for_seconds: float = 1.0) -> None:
    """The child is blocked (on a lock): still running `for_seconds` later."""
    time.sleep(for_seconds)
    assert child.proc.poll() is None, (
        f"siyu exited ({child.proc.returncode}) instead of waiting: {child.stderr()}")


def wait_for(path: Path, child: Child, give_up: float = CHILD_TIMEOUT) -> bool:
    """Until `path` exists (True); False if the child ends or `give_up` seconds pass first."""
    deadline = time.monotonic() + give_up
    while not path.exists():
        if child.proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# ---- what a database must look like ------------------------------------------------------------
def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_consistent(db: Path, bounds: list[int]) -> int:
    """Everything a kill must never break; returns the message count."""
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA foreign_key_check") == []
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    count = int(rows(db, "SELECT count(*) FROM message")[0][0])
    assert count == 0 or count in bounds, f"{count} messages: not a whole number of batches"
    assert rows(db, """SELECT count(*) FROM message WHERE member_pk NOT IN (SELECT id FROM member)
                       OR chat_id NOT IN (SELECT id FROM chat)""") == [(0,)]
    # Exactly one identity per member (one platform here), none pointing nowhere.
    assert rows(db, """SELECT count(*) FROM member m WHERE (SELECT count(*) FROM identity i
                       WHERE i.member_pk = m.id) != 1""") == [(0,)]
    assert rows(db, "SELECT count(*) FROM identity WHERE member_pk NOT IN (SELECT id FROM member)"
                ) == [(0,)]
    # First/last seen are exactly the span of the member's stored messages (NULL for none).
    spans = rows(db, """SELECT m.member_id, m.first_seen, m.last_active, min(g.ts), max(g.ts)
                        FROM member m LEFT JOIN message g ON g.member_pk = m.id GROUP BY m.id""")
    wrong = [s for s in spans if (s[1], s[2]) != (s[3], s[4])]
    assert wrong == [], f"first/last seen disagree with stored messages: {wrong[:3]}"
    return count


def assert_nothing_marked_fresh(db: Path) -> None:
    """No tag rebuild has committed yet, so every member is still waiting for one: stale, or
    claimed by the rebuild that was killed (a claim consumes the flag; see Store.stale_members)."""
    assert rows(db, "SELECT count(*) FROM tag") == [(0,)]
    assert rows(db, "SELECT count(*) FROM member WHERE NOT tags_stale AND id NOT IN "
                    "(SELECT member_pk FROM tag_claim)") == [(0,)]


def canonical_dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table as sorted rows, with what may legitimately differ between runs taken out.

    Integer surrogate keys (member.id, identity.id, tag.id …) depend on insert order, so they
    are dropped and `member_pk` is replaced by the stable member id it points to. Everything
    else — message ids, texts, signals, origins, members' names and spans, identities, tags
    with their scores, evidence and computed_at — must be identical.
    """
    con = sqlite3.connect(db)
    try:
        member_ids = dict(con.execute("SELECT id, member_id FROM member").fetchall())
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        dump: dict[str, list[tuple[object, ...]]] = {}
        for table in sorted(tables):
            info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
            # member_pk stays even as a table's primary key (tag_claim): it maps to member_id.
            keep = [c[1] for c in info
                    if c[1] == "member_pk" or not (c[5] and c[2].upper() == "INTEGER")]
            out = []
            for row in con.execute(f'SELECT {", ".join(keep)} FROM "{table}"'):
                rec = dict(zip(keep, row, strict=True))
                if "member_pk" in rec:
                    rec["member_pk"] = member_ids.get(rec["member_pk"], ("?", rec["member_pk"]))
                out.append(tuple(rec.items()))
            dump[table] = sorted(out, key=repr)
        return dump
    finally:
        con.close()


def assert_same_database(got: Path, want: Path) -> None:
    a, b = canonical_dump(got), canonical_dump(want)
    assert sorted(a) == sorted(b)
    for table in sorted(a):
        have, want_rows = set(a[table]), set(b[table])
        missing = [r for r in b[table] if r not in have]
        extra = [r for r in a[table] if r not in want_rows]
        assert (missing, extra) == ([], []), (
            f"table {table}: {len(missing)} rows missing, {len(extra)} extra; "
            f"e.g. missing {missing[:1]} extra {extra[:1]}")
        assert a[table] == b[table], f"table {table}: same rows, different multiplicity"


# ---- the tests --------------------------------------------------------------------------------
def test_bounds_cover_the_file(corpus: Corpus) -> None:
    """The generated file really is many transactions (guards the numbers below)."""
    assert len(corpus.bounds) >= 30
    assert corpus.bounds == sorted(set(corpus.bounds))


def test_kill_nine_four_times_then_resume_equals_a_clean_run(corpus: Corpus) -> None:
    bounds = corpus.bounds
    clean_db = corpus.dir / "clean.db"
    clean = siyu(corpus, clean_db, [corpus.big], "clean")  # meanwhile, on the other core
    db = corpus.dir / "killed.db"
    counts: list[int] = []

    def after_kill() -> int:
        count = assert_consistent(db, bounds)
        assert_nothing_marked_fresh(db)
        assert not counts or count >= counts[-1]
        counts.append(count)
        return count

    # 1. From outside, once about a sixth of the batches are in.
    kill_when(siyu(corpus, db, [corpus.big], "run1"), db, bounds[len(bounds) // 6])
    done = bounds.index(after_kill()) + 1  # batches committed so far

    # 2. From inside, right after the 4th new batch's message INSERT, before its COMMIT:
    #    the re-run skips the stored batches, commits three more and loses the fourth whole.
    child = siyu(corpus, db, [corpus.big], "run2",
                 {"SIYU_TEST_KILL_AFTER": "INSERT INTO MESSAGE (:4"})
    assert child.wait() == -signal.SIGKILL
    assert after_kill() == bounds[done + 3 - 1]
    done += 3

    # 3. From outside again, past 60 % of the batches.
    kill_when(siyu(corpus, db, [corpus.big], "run3"), db, bounds[len(bounds) * 3 // 5])
    assert after_kill() > bounds[done - 1]

    # 4. From inside, in the tag rebuild after the last batch: every message is in, no tag is.
    child = siyu(corpus, db, [corpus.big], "run4", {"SIYU_TEST_KILL_AFTER": "INSERT INTO TAG (:1"})
    assert child.wait() == -signal.SIGKILL
    assert after_kill() == bounds[-1]

    # 5. To completion: heals the stale tags, imports nothing twice.
    final = siyu(corpus, db, [corpus.big], "final")
    assert final.wait() == 0, final.stderr()
    report = final.report()
    assert (report["new"], report["duplicate"]) == (0, bounds[-1]), report
    assert report["personas_updated"] == rows(db, "SELECT count(*) FROM member")[0][0]
    assert assert_consistent(db, bounds) == bounds[-1]
    assert rows(db, "SELECT count(*) FROM member WHERE tags_stale") == [(0,)]
    assert rows(db, "SELECT count(*) FROM tag_claim") == [(0,)]

    assert clean.wait() == 0, clean.stderr()
    assert clean.report()["new"] == bounds[-1]
    assert_same_database(db, clean_db)


def test_two_writers_at_once_wait_for_each_other(corpus: Corpus) -> None:
    """WAL, a 30 s busy timeout, and a real lock conflict that both imports get through."""
    from storage.db import make_engine

    db = corpus.dir / "shared.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()

    # The first writer stops inside its second batch's transaction, holding the write lock.
    first = siyu(corpus, db, [corpus.big], "first",
                 {"SIYU_TEST_HOLD_AFTER": "INSERT INTO MESSAGE (:2"})
    assert wait_for(corpus.dir / "holding", first), first.stderr()
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    # The second one starts now and gets as far as its first write transaction, whose
    # BEGIN IMMEDIATE needs that lock: it waits there (within the busy timeout).
    second = siyu(corpus, db, [corpus.small], "second",
                  {"SIYU_TEST_MARK_BEFORE": "BEGIN IMMEDIATE:1"})
    assert wait_for(corpus.dir / "writing", second), second.stderr()
    assert_still_waiting(second)
    assert message_count(db) == corpus.bounds[0]  # nothing of the second file got in meanwhile
    (corpus.dir / "release").touch()

    assert second.wait() == 0, second.stderr()
    assert first.wait() == 0, first.stderr()
    for child in (first, second):
        assert "locked" not in child.stderr(), child.stderr()
    small_total = batch_bounds(corpus.small, BATCH)[-1]
    assert (first.report()["new"], second.report()["new"]) == (corpus.bounds[-1], small_total)
    assert message_count(db) == corpus.bounds[-1] + small_total
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


# ---- what BEGIN IMMEDIATE and a transactional schema give ---------------------------------------
# Python's sqlite3 module (in its default, legacy transaction mode) sends BEGIN only before the
# first INSERT/UPDATE/DELETE, and commits DDL on its own. storage/db.py takes that job over: a
# write transaction (storage.db.writing) starts with BEGIN IMMEDIATE, so its reads (is this
# message already stored?) happen under the write lock, and the schema and its version row are
# created in one transaction. Before that, the two tests below failed: the second importer of
# the same file died on UNIQUE constraint failed: message.id, and a kill mid-schema left a
# file every later run refused (没有 meta 表 / 结构版本为 ?).
def test_two_writers_importing_the_same_file(corpus: Corpus) -> None:
    """The first holds its second batch open; the second needs the lock for its first batch.
    Both must finish, and every message is stored once: whatever one of them stored, the
    other counts as a duplicate (its check runs under the lock, after the other's commit)."""
    work = corpus.dir / "same"
    work.mkdir()
    db = work / "same.db"
    setup = Corpus(work, corpus.big, corpus.small, corpus.config, corpus.bounds)
    first = siyu(setup, db, [corpus.small], "first",
                 {"SIYU_TEST_HOLD_AFTER": "INSERT INTO MESSAGE (:2"})
    assert wait_for(work / "holding", first), first.stderr()
    # The second waits for the lock at the start of its first batch, before its check.
    second = siyu(setup, db, [corpus.small], "second",
                  {"SIYU_TEST_MARK_BEFORE": "BEGIN IMMEDIATE:1"})
    assert wait_for(work / "writing", second), second.stderr()
    assert_still_waiting(second)
    (work / "release").touch()
    results = (second.wait(), first.wait())
    stderr = second.stderr() + first.stderr()
    assert results == (0, 0) and "Error" not in stderr, stderr[-2000:]
    total = batch_bounds(corpus.small, BATCH)[-1]
    # Once released, their batches take turns in whatever order the lock goes (the second
    # may store a batch the first has not reached yet): each message is new exactly once.
    reports = [first.report(), second.report()]
    seen = [r["new"] + r["duplicate"] for r in reports]
    assert seen[0] == seen[1] >= total, reports
    assert sum(r["new"] for r in reports) == total, reports
    assert message_count(db) == total


@pytest.mark.parametrize("statement", ["CREATE TABLE:2", "INSERT INTO META (:1"])
def test_kill_while_creating_the_schema(corpus: Corpus, statement: str) -> None:
    """A kill before the first batch must cost nothing: the next run creates or finishes the
    schema and imports everything."""
    db = corpus.dir / f"schema-{statement.split()[0].lower()}.db"
    child = siyu(corpus, db, [corpus.small], "schema-kill", {"SIYU_TEST_KILL_AFTER": statement})
    assert child.wait() == -signal.SIGKILL
    # Nothing of the schema survives the kill: the file is empty, as if never opened.
    assert rows(db, "SELECT count(*) FROM sqlite_master") == [(0,)]
    assert message_count(db) == 0
    again = siyu(corpus, db, [corpus.small], "schema-again")
    assert again.wait() == 0, again.stderr()
    assert message_count(db) == batch_bounds(corpus.small, BATCH)[-1]
