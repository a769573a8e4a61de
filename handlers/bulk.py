"""Helpers for the bulk paths (a file import, a tag rebuild, a segmentation run)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No automatic garbage collection inside the block; the previous state is restored on
    the way out.

    The bulk paths make hundreds of thousands to millions of small, acyclic objects that live
    for a while (events, rows, records, the analysis cache; a run's tag keys, dynamic tags
    and the previous run's assignments): every automatic full collection walked all of them
    and found nothing (about a tenth of a first import's CPU; 51 s of a 122 s segmentation
    input build at a million members). A long import or rebuild collects the young
    generations itself (`gc.collect(1)`) where a batch's work is done with, which costs in
    proportion to what the batch made, so it still frees its cycles as it goes; whatever
    cycles a segmentation run leaves are collected when it ends.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
