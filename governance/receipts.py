"""Receipts for facts written to the ledger, with the one checkpoint policy every caller shares.

A receipt is where a fact sits in the log: its sequence number and leaf hash, and on request an
RFC 9162 inclusion proof against a signed checkpoint. The policy: prove against the latest
checkpoint when it already covers every fact asked about, and sign a new one only when it does
not (so a busy API, the console and report generation do not each sign a checkpoint per write).
The API, the console and the report builder all call `receipts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger import witnessing
from ledger.models import Checkpoint


@dataclass(frozen=True)
class Inclusion:
    """A fact's inclusion proof against the signed checkpoint of `tree_size`."""

    tree_size: int
    proof: list[bytes]
    checkpoint: str


@dataclass(frozen=True)
class Receipt:
    """One fact's place in the log, and its inclusion proof when one was asked for."""

    key: str
    seq: int
    leaf_hash: bytes
    inclusion: Inclusion | None = None


def checkpoint_covering(seq: int, *, witnessed: bool = False) -> Checkpoint:
    """Return the latest signed checkpoint when it covers entry `seq`; otherwise sign one.

    With `witnessed` (sealed reports), the latest checkpoint that meets the witness policy is
    preferred, and a newly signed one is first sent to the witnesses to cosign before it is quoted.
    """
    latest = witnessing.checkpoint_published() if witnessed else ledger_selectors.checkpoint_latest()
    if latest is None or latest.size <= seq:
        latest = ledger_services.checkpoint_sign()
        if witnessed:
            witnessing.checkpoint_witness(latest)
    return latest


def receipts(keys: list[str], *, proofs: bool = False, also_cover: int = -1) -> list[Receipt]:
    """Return one receipt per ledger key (in order), sequencing in-process until all are in the log.

    Call after the write committed. With `proofs`, each receipt carries its inclusion proof
    against a checkpoint covering all of them, and entry `also_cover` too (signed only when none
    does yet).
    """
    if not keys:
        return []
    entries = ledger_services.entries_wait(keys)
    last = max([entry.seq for entry in entries.values()] + [also_cover])
    checkpoint = checkpoint_covering(last) if proofs else None
    result = []
    for key in keys:
        entry = entries[key]
        inclusion = None
        if checkpoint is not None:
            proof = ledger_selectors.inclusion_proof(entry.seq, checkpoint.size)
            inclusion = Inclusion(checkpoint.size, proof, checkpoint.note)
        result.append(Receipt(key, entry.seq, bytes(entry.leaf_hash), inclusion))
    return result
