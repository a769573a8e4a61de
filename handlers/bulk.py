"""Helpers for the bulk paths (a file import, a tag rebuild) that the live path can share."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def young_gc_only() -> Iterator[None]:
    """No automatic garbage collection inside the block; the caller collects the young
    generations itself (`gc.collect(1)`) at points where the work just made is done with.

    An import or a rebuild makes hundreds of thousands of small, acyclic objects that live
    for a while (events, rows, records, the analysis cache); each automatic full collection
    walked all of them and found nothing (about a tenth of a first import's CPU). Young
    collections at batch ends cost in proportion to what the batch made, so a long import
    still frees its cycles as it goes. The previous state is restored on the way out.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
