"""Forgetting a member: the one road `siyu forget` and the chat command /删除 take.

Erasure alone (storage/privacy.py) removes her rows and scrubs her name and ids from what
others said and from stored documents. What she contributed to stored segmentation runs is
subtler: a run's counts, circles, persona cards ("典型画像：杭州", "客单价约 199 元"), core
needs and patterns are aggregates that may be made of her data without naming her. Each run
that counted her is therefore recomputed — segmentation run again as of that run's as_of and
with its stored parameters, over the data held now (she is gone), and the run's document and
member rows replaced in place, oldest first so each compares against its recomputed
predecessor. Recomputing rather than patching: only the pure segmentation knows which card,
word or pattern she moved, and it is deterministic, so the result is what the run would have
been without her.

The interest words learned from the community (handlers/learn.py) are learned again
without her first: their counts and quotes (message ids) must not keep her words.

Then SQLite's WAL is checkpointed and truncated (storage/privacy.py: `wipe_files`) so her
bytes are in neither file; the erasure and the rewrite ran with secure_delete on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handlers.bulk import paused_gc
from handlers.learn import relearn
from handlers.segments import member_codes, segment_as_of
from handlers.settings import Settings
from persona.segment_params import SegmentParams
from storage.members import MemberRow
from storage.privacy import Erasure, PrivacyStore
from storage.repo import Store
from storage.segments import SegmentStore, stored_document


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting one member did, for the summary a person reads."""

    member: MemberRow
    erasure: Erasure
    runs_recomputed: int
    # False: another process kept the SQLite file busy (VACUUM could not take the write
    # lock, or a reader held the WAL through every retry); the summary says what to do.
    files_clean: bool

    @property
    def messages(self) -> int:
        return self.erasure.removed.get("message", 0)

    @property
    def orders(self) -> int:
        return self.erasure.removed.get("orders", 0)


def forget(store: Store, settings: Settings, labels: Mapping[str, str],
           member: MemberRow) -> Forgotten:
    """Erase `member`, suppress her platform ids, recompute the runs that counted her, and
    clear the SQLite WAL."""
    erasure = erase_now(store, member)
    clean = finish_forget(store, settings, labels, erasure)
    return Forgotten(member, erasure, len(erasure.runs), clean)


def erase_now(store: Store, member: MemberRow) -> Erasure:
    """Step one, quick (about a second): her rows gone, her name and ids scrubbed, her
    platform ids suppressed. The live bot does this on the message path, so her next message
    already finds her suppressed."""
    return PrivacyStore(store.engine).erase(member.pk)


def finish_forget(store: Store, settings: Settings, labels: Mapping[str, str],
                  erasure: Erasure) -> bool:
    """Step two, slow (one segmentation per stored run she was in, then VACUUM: 10–35 s
    measured in docs/privacy.md): the runs that counted her recomputed, the files cleaned.
    The live bot runs it off the message path; False when the file stayed busy."""
    relearn(store, settings)  # the learned words' counts and quotes, without her
    recompute_runs(store, settings, labels, erasure.runs)
    return PrivacyStore(store.engine).wipe_files()


def recompute_runs(store: Store, settings: Settings, labels: Mapping[str, str],
                   run_ids: Sequence[int]) -> None:
    """Run segmentation again for each stored run, as of its own as_of with its stored
    parameters, and replace its document and member rows in place (oldest first)."""
    runs = SegmentStore(store.engine)
    for run_id in sorted(run_ids):
        run = runs.run(run_id)
        if run is None:
            continue
        params = SegmentParams.from_json(run.params)
        with paused_gc():
            # as the bot's own run does, compared with the run stored before this one
            pks, result, _ = segment_as_of(store, settings, labels, runs, run.as_of, params,
                                           before_id=run.id)
            runs.replace_run(run.id, stored_document(result.stored_summary(), "dynamic_tags",
                                                     result.dynamic_rows()),
                             member_codes(pks, result))
