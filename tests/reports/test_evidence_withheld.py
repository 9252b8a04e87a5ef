"""An edition may withhold a leaf: evidence.json then carries its seq, hash and inclusion proof,
not its bytes, and no fact from it. The pure checker proves each withheld entry into the
checkpoint and refuses anything else, with no Django and no database."""

from __future__ import annotations

import base64
import json

import pytest

from model_ledger_verify import merkle, notes
from model_ledger_verify.evidence import EVIDENCE_FORMAT, EvidenceError, check_evidence
from tests.reports.helpers import ORIGIN, make_ledger

LEAVES = [f'{{"seq":{i}}}'.encode() for i in range(7)]


def _evidence(carried=(0,), withheld=(3, 6), facts=()) -> dict:
    ledger = make_ledger()
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]

    def proof(seq):
        return [h.hex() for h in merkle.inclusion_proof(seq, hashes)]

    return {
        "format": EVIDENCE_FORMAT,
        "origin": ORIGIN,
        "checkpoint": ledger.checkpoint,
        "key": ledger.key,
        "leaves": [{"seq": s, "leaf": base64.b64encode(LEAVES[s]).decode(), "proof": proof(s)} for s in carried],
        "withheld": [{"seq": s, "leaf_hash": hashes[s].hex(), "proof": proof(s)} for s in withheld],
        "facts": list(facts),
    }


def _check(evidence: dict) -> tuple[int, int, int]:
    key = evidence.pop("key")
    return check_evidence(json.dumps(evidence).encode(), [notes.Verifier.from_string(key)])


def test_it_proves_carried_leaves_and_withheld_entries():
    assert _check(_evidence()) == (0, 1, 2)


def test_it_refuses_a_withheld_entry_with_another_hash():
    evidence = _evidence()
    evidence["withheld"][1]["leaf_hash"] = merkle.leaf_hash(b'{"seq":5}').hex()
    with pytest.raises(EvidenceError, match="withheld ledger entry seq 6 is not proven"):
        _check(evidence)


def test_it_refuses_an_entry_both_carried_and_withheld():
    with pytest.raises(EvidenceError, match="seq 3 is both carried and withheld"):
        _check(_evidence(carried=(0, 3)))


def test_it_refuses_a_fact_citing_a_withheld_entry():
    fact = {"record": "r", "field": "seq", "seq": 3, "member": "actor", "value": "user:olga"}
    with pytest.raises(EvidenceError, match="seq 3 is withheld from this edition"):
        _check(_evidence(facts=[fact]))


def test_evidence_without_withheld_entries_checks_as_before():
    evidence = _evidence(carried=(0, 3), withheld=())
    del evidence["withheld"]
    assert _check(evidence) == (0, 2, 0)
