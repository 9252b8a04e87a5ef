"""Keep the objects made at start-up out of the garbage collector's full collections.

A web process holds a few hundred thousand long-lived objects once Django, DRF, the URL conf with
every view and serializer, and the schema are loaded. CPython's oldest-generation collection
walks all of them: on the development machine one such pass cost 100-140 ms of CPU, and it
landed inside whichever request crossed the threshold, as the p99 of the list endpoints
(docs/benchmarks.md, list latency). `gc.freeze()` moves what exists at start-up to a permanent
generation that collections skip; objects made while serving are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Import every view now rather than on the first request, then freeze the heap.

    Return the number of objects frozen.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — resolving the URL conf imports every view module
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
