"""The web process's collector settings: a frozen start-up heap, and no garbage left between requests."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.core.signals import request_started

from config import heap


class _Node:
    """A reference cycle that holds a large payload, as a DRF request and its parsed body do."""

    def __init__(self) -> None:
        self.me = self
        self.payload = bytearray(1 << 20)


@pytest.fixture
def web_process_collector():
    """freeze_startup_heap() as config/wsgi.py calls it, undone afterwards for the other tests."""
    thresholds = gc.get_threshold()
    heap.freeze_startup_heap()
    yield
    request_started.disconnect(dispatch_uid="config.heap.collect_request_garbage")
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _cycle() -> weakref.ref:
    node = _Node()
    return weakref.ref(node)


def test_it_frees_the_cycles_a_request_left_when_the_next_one_starts(web_process_collector):
    gc.disable()  # only the collection under test may run
    try:
        left = _cycle()
        assert left() is not None  # reference counting alone cannot free a cycle
        request_started.send(sender=None)
        assert left() is None
    finally:
        gc.enable()


def test_it_raises_the_thresholds_and_freezes_the_start_up_heap(web_process_collector):
    assert gc.get_threshold() == heap.GC_THRESHOLDS
    assert gc.get_freeze_count() > 0
