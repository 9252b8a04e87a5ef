"""Proofs built from stored nodes must equal the in-memory RFC 6962 reference, for every size."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ledger import selectors, services
from ledger.errors import BadProofRequest
from ledger.models import Entry
from model_ledger_verify import merkle
from tests.ledger.helpers import fill

TREE = 700


@pytest.fixture
def tree(db) -> list[bytes]:
    fill(TREE)
    services.checkpoint_sign()
    return [bytes(h) for h in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]


def test_stored_proofs_equal_the_reference_for_every_size_up_to_300(tree):
    rng = random.Random(6962)
    for size in range(1, 301):
        leaves = tree[:size]
        root = merkle.root(leaves)
        assert selectors.root_at(size) == root
        for index in {0, size - 1, rng.randrange(size)}:
            proof = selectors.inclusion_proof(index, size, checkpoint_bound=False)
            assert proof == merkle.inclusion_proof(index, leaves)
            merkle.verify_inclusion(index, size, leaves[index], proof, root)
        for size1 in {0, 1, size // 2, size - 1, rng.randrange(size + 1)}:
            proof = selectors.consistency_proof(size1, size, checkpoint_bound=False)
            assert proof == merkle.consistency_proof(size1, leaves)


@given(data=st.data())
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_stored_proofs_equal_the_reference_at_random_larger_sizes(tree, data):
    size = data.draw(st.integers(min_value=301, max_value=TREE))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=0, max_value=size))
    leaves = tree[:size]
    assert selectors.inclusion_proof(index, size) == merkle.inclusion_proof(index, leaves)
    assert selectors.consistency_proof(size1, size) == merkle.consistency_proof(size1, leaves)


def test_a_proof_takes_one_query(tree):
    # The tiles, the partial tiles and the checkpoint bound come back together.
    with CaptureQueriesContext(connection) as queries:
        selectors.inclusion_proof(123, TREE)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        selectors.consistency_proof(77, TREE)
    assert len(queries) == 1


@pytest.fixture
def small_tree(db) -> None:
    fill(20)
    services.checkpoint_sign()


@pytest.mark.parametrize(
    ("index", "size", "message"),
    [
        (0, 21, "beyond the latest signed checkpoint"),
        (-1, 10, "not within"),
        (10, 10, "not within"),
        (0, -5, "cannot be negative"),
    ],
)
def test_it_refuses_inclusion_proofs_out_of_range(small_tree, index, size, message):
    with pytest.raises(BadProofRequest, match=message):
        selectors.inclusion_proof(index, size)


def test_it_refuses_consistency_proofs_out_of_range(small_tree):
    with pytest.raises(BadProofRequest, match="between 0 and size2"):
        selectors.consistency_proof(11, 10)
    with pytest.raises(BadProofRequest, match="beyond the latest signed checkpoint"):
        selectors.consistency_proof(1, 21)


def test_a_multi_proof_equals_the_single_proofs_and_takes_one_query(tree):
    rng = random.Random(9162)
    for size in (1, 2, 255, 256, 257, 513, TREE):
        indexes = {0, size - 1, *(rng.randrange(size) for _ in range(12))}
        with CaptureQueriesContext(connection) as queries:
            proofs = selectors.inclusion_proofs(indexes, size, checkpoint_bound=False)
        assert len(queries) == 1
        assert proofs == {index: selectors.inclusion_proof(index, size, checkpoint_bound=False) for index in indexes}
    assert selectors.inclusion_proofs([], TREE) == {}


def test_a_multi_proof_refuses_an_index_out_of_range(small_tree):
    with pytest.raises(BadProofRequest, match="not within"):
        selectors.inclusion_proofs([3, 20], 20)
    with pytest.raises(BadProofRequest, match="beyond the latest signed checkpoint"):
        selectors.inclusion_proofs([3], 21)
