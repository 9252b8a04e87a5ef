"""The msgspec fast path for decision batches answers exactly as DRF's validation, or not at all."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.fastbatch import decision_items
from api.serializers.operations import DecisionBatchInSerializer, DecisionInSerializer
from api.views.base import parse_batch
from api.views.operations import _tidy_decision
from governance.errors import InvalidInput

GOOD = {
    "decision_id": "d-1",
    "version": "1.0.0",
    "occurred_at": "2026-12-07T21:00:00.123456Z",
    "subject_ref": "applicant-1",
    "input_snapshot": {"income_band": "3", "nested": [1, None, True]},
    "input_sha256": "a" * 64,
    "output_label": "approve",
    "output_score": "0.75",
    "reasons": [{"code": "R01", "text": "Utilisation", "contribution": "-0.31"}, {"code": "R02", "text": "Age"}],
    "mode": "automated",
}


def drf(body: Any) -> list[dict[str, Any]] | None:
    """DRF's answer: the validated items, or None when it refuses the batch."""
    envelope = DecisionBatchInSerializer(data=body)
    if not envelope.is_valid():
        return None
    try:
        return parse_batch(
            DecisionInSerializer, envelope.validated_data["decisions"], refused="no", tidy=_tidy_decision
        )
    except InvalidInput:
        return None


def agree(body: Any) -> list[dict[str, Any]] | None:
    fast, slow = decision_items(copy.deepcopy(body)), drf(copy.deepcopy(body))
    if fast is not None:
        assert slow is not None, body
        assert [list(item) for item in fast] == [list(item) for item in slow]  # same keys, same order
        assert fast == slow
    return fast


def test_it_validates_an_ordinary_batch_as_drf_does():
    minimal = {
        key: GOOD[key] for key in ("decision_id", "version", "occurred_at", "input_sha256", "output_label", "mode")
    }
    assert agree({"decisions": [GOOD, {**minimal, "decision_id": "d-2"}]}) is not None
    assert agree({"decisions": [{**GOOD, "occurred_at": "2026-12-07T22:00:00+01:00"}]}) is not None
    assert agree({"decisions": [{**GOOD, "overridden": True, "override_reason": "Officer", "extra": 1}]}) is not None
    # A NUL in any text is DRF's to refuse (found by the property test below).
    assert agree({"decisions": [{**GOOD, "output_label": "\x00"}]}) is None


@pytest.mark.parametrize(
    "change",
    [
        {"decision_id": " d-1"},
        {"decision_id": ""},
        {"decision_id": "d" * 81},
        {"decision_id": "-bad"},
        {"version": 1},
        {"version": None},
        {"occurred_at": "2026-12-07T21:00:00"},
        {"occurred_at": "2026-12-07 21:00:00Z"},
        {"occurred_at": "2026-12-07T21:00:00.1234567Z"},
        {"occurred_at": "2026-02-30T21:00:00Z"},
        {"occurred_at": "0001-01-01T00:00:00+01:00"},
        {"input_sha256": "A" * 64},
        {"input_sha256": "a" * 64 + "\n"},
        {"output_label": "  "},
        {"output_score": "1e3"},
        {"output_score": ""},
        {"output_score": "abc1"},
        {"reasons": [{"code": "R", "text": "t", "contribution": "x"}]},
        {"reasons": {"code": "R"}},
        {"reasons": [{"code": "R"}]},
        {"mode": "robot"},
        {"mode": 1},
        {"overridden": "true"},
        {"overridden": True},
        {"overridden": True, "override_reason": " "},
        {"subject_ref": "\ud800"},
        {"final_label": "x" * 201},
        {"reviewer": "officer "},
    ],
)
def test_it_agrees_with_drf_on_each_doubtful_field(change):
    agree({"decisions": [GOOD, {**GOOD, **change}]})


@pytest.mark.parametrize(
    "body", [{}, {"decisions": []}, {"decisions": [GOOD] * 1001}, {"decisions": "x"}, {"decisions": [1]}, [GOOD]]
)
def test_it_leaves_malformed_batches_to_drf(body):
    assert decision_items(copy.deepcopy(body)) is None


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=5),
    st.sampled_from(["d-1", "1.0.0", "0.5", "automated", "human_review", "2026-12-07T21:00:00Z", "a" * 64]),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(GOOD), "overridden", "override_reason", "reviewer"]), values))
def test_it_agrees_with_drf_on_arbitrary_changes(change):
    agree({"decisions": [{**GOOD, **change}]})


def test_the_endpoint_takes_the_fast_path_for_an_ordinary_batch_and_drf_for_the_rest(world, client_for, monkeypatch):
    from api.views import operations
    from tests.api.test_workflows import CREDIT_DECISIONS, batch

    calls = []
    real = operations.parse_batch
    monkeypatch.setattr(operations, "parse_batch", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    client = client_for("pipeline_granted")
    assert client.post(CREDIT_DECISIONS, {"decisions": batch(world, 500, 3)}, format="json").status_code == 201
    assert calls == []
    padded = [{**item, "output_label": f" {item['output_label']} "} for item in batch(world, 600, 2)]
    assert client.post(CREDIT_DECISIONS, {"decisions": padded}, format="json").status_code == 201
    assert calls == [1]
    refused = client.post(CREDIT_DECISIONS, {"decisions": [{**padded[0], "mode": "robot"}]}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["0"]
