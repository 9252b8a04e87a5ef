"""Keep the objects made at start-up out of the garbage collector's full collections.

A web process holds a few hundred thousand long-lived objects once Django, DRF, the URL conf with
every view and serializer, and the schema are loaded. CPython's oldest-generation collection
walks all of them: on the development machine one such pass cost 100-140 ms of CPU, and it
landed inside whichever request crossed the threshold, as the p99 of the list endpoints
(docs/benchmarks.md, list latency). `gc.freeze()` moves what exists at start-up to a permanent
generation that collections skip; objects made while serving are collected as before.

The youngest generation is also collected every 10,000 net allocations instead of every 700 (and
each older one every 20 of the younger instead of 10): a page of 50 versions allocates tens of
thousands of objects, almost none in cycles, so collecting less often loses nothing. On the
version list that saved
4-6% of a request's CPU and took the slowest requests from 19-34 ms of CPU to 18-19 ms (three
interleaved rounds of 60 requests each, load average 4).
"""

from __future__ import annotations

import gc

# (youngest, middle, oldest): collections of the younger generation between two of the next.
GC_THRESHOLDS = (10_000, 20, 20)


def freeze_startup_heap() -> int:
    """Import every view now rather than on the first request, freeze the heap, and set the
    collector's thresholds (GC_THRESHOLDS). Return the number of objects frozen.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — resolving the URL conf imports every view module
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return gc.get_freeze_count()
