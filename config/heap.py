"""Keep the objects made at start-up out of the garbage collector's full collections.

A web process holds a few hundred thousand long-lived objects once Django, DRF, the URL conf with
every view and serializer, and the schema are loaded. CPython's oldest-generation collection
walks all of them: on the development machine one such pass cost 100-140 ms of CPU, and it
landed inside whichever request crossed the threshold, as the p99 of the list endpoints
(docs/benchmark-history.md, list latency). `gc.freeze()` moves what exists at start-up to a permanent
generation that collections skip; objects made while serving are collected as before.

The youngest generation is also collected every 10,000 net allocations instead of every 700 (and
each older one every 20 of the younger instead of 10): a page of 50 versions allocates tens of
thousands of objects, almost none in cycles, so collecting less often loses nothing. On the
version list that saved
4-6% of a request's CPU and took the slowest requests from 19-34 ms of CPU to 18-19 ms (three
interleaved rounds of 60 requests each, load average 4).

Raised thresholds alone let memory grow, though. Every DRF request is a reference cycle (the
request holds its parser context, which holds the request; the view holds the response, which
holds the view), so what a request parsed and rendered is freed by the collector, not by
reference counting: after a batch of 500 decisions about 1 MiB (the body, the parsed items, the
receipts). A young pass ran only every few batches, often while a request was still alive, so
its cycle was promoted, and the older generations waited for 20 and 400 young passes: under a
steady decision load the web processes grew by 0.5 to 1 MiB a batch (bench/soak.py,
docs/benchmark-history.md). So each request starts by collecting the two young generations
(`collect_request_garbage`): the previous request is garbage by then, and the pass walks only
what was made since the last one (1.6 ms after a batch of 500 decisions, most of it freeing that
batch; far less after a page of a list). Memory then stays flat.
"""

from __future__ import annotations

import gc

from django.core.signals import request_started

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
    request_started.connect(collect_request_garbage, dispatch_uid="config.heap.collect_request_garbage")
    return gc.get_freeze_count()


def collect_request_garbage(**_: object) -> None:
    """Collect the young generations: the cycles the previous request left (see the module docstring)."""
    gc.collect(1)
