"""Ledger receipts of the facts a page shows, and checking one against a signed checkpoint.

A receipt is where a fact sits in the log: its sequence number and leaf hash. Verifying it
recomputes the leaf hash from the stored leaf bytes, opens the latest signed checkpoint with the
published verifier keys, and checks the RFC 9162 inclusion proof of the leaf against the root in
that signed note (never against a root read from the database).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from governance import receipts as governance_receipts
from governance import reconciliation, selectors
from governance.errors import NotVisible
from governance.reconciliation.engine import ABSENT, shown
from ledger import selectors as ledger_selectors
from ledger.errors import NotInLog
from model_ledger_verify import checkpoints, merkle, notes


@dataclass(frozen=True)
class Receipt:
    """One fact's place in the log; `seq` is None while the event waits to be sequenced."""

    label: str
    key: str
    seq: int | None = None
    leaf_hash: str = ""


def receipt_list(facts: list[tuple[str, str]]) -> list[Receipt]:
    """Return a receipt for each (label, ledger key), skipping empty keys."""
    receipts = []
    for label, key in facts:
        if not key:
            continue
        entry = ledger_selectors.entry_by_key(key)
        if entry is None:
            receipts.append(Receipt(label, key))
        else:
            receipts.append(Receipt(label, key, entry.seq, bytes(entry.leaf_hash).hex()))
    return receipts


def receipt_now(label: str, key: str) -> Receipt:
    """Return the receipt of a fact just written, sequencing it and signing a checkpoint over it.

    Call after the write committed: the receipt then comes with a proof that can be checked.
    """
    fact = governance_receipts.receipts([key], proofs=True)[0]
    return Receipt(label, key, fact.seq, fact.leaf_hash.hex())


def can_read_ledger(user: AbstractBaseUser) -> bool:
    """Whether the user may read any entry (auditors, officers and admins hold the permission)."""
    return user.has_perm("ledger.view_entry")


@dataclass
class Verification:
    seq: int
    leaf_hash: str
    size: int = 0
    root: str = ""
    checkpoint: str = ""
    key_names: list[str] = field(default_factory=list)
    proof: list[str] = field(default_factory=list)
    leaf: str = ""  # base64 of the exact leaf bytes, for the browser's own check
    event: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    # "this record differs from ledger entry #N: …" when a record shown differs from the leaf.
    differs: str = ""

    @property
    def verified(self) -> bool:
        return bool(self.steps) and all(step["passed"] for step in self.steps)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "verified": self.verified,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.size,
            "root": self.root,
            "checkpoint": self.checkpoint,
            "proof": self.proof,
            "leaf": self.leaf,
            "steps": self.steps,
            "differs": self.differs,
        }


def _subject_visible(user: AbstractBaseUser, event: dict[str, Any]) -> bool:
    subject = event.get("subject", "")
    if not isinstance(subject, str) or not subject.startswith("model:"):
        return False
    return selectors.model_list(user).filter(slug=subject.removeprefix("model:")).exists()


def entry_verify(user: AbstractBaseUser, seq: int) -> Verification:
    """Check entry `seq` against the latest signed checkpoint; return each step's outcome.

    Readers of the ledger may check any entry, others the entries about models they may read.
    Raise NotVisible otherwise, or when there is no such entry. Signs a checkpoint first when
    none covers the entry yet (as the API does for `?wait=checkpoint`).
    """
    try:
        entry = ledger_selectors.entry_get(seq)
    except NotInLog:
        raise NotVisible(f"There is no entry {seq}.") from None
    leaf = bytes(entry.leaf)
    event = json.loads(leaf)
    if not (can_read_ledger(user) or _subject_visible(user, event)):
        raise NotVisible(f"There is no entry {seq}.")
    result = Verification(
        seq=seq, leaf_hash=bytes(entry.leaf_hash).hex(), leaf=base64.b64encode(leaf).decode(), event=event
    )
    computed = merkle.leaf_hash(leaf)
    result.steps.append(
        {
            "step": "leaf",
            "passed": computed == bytes(entry.leaf_hash),
            "detail": "SHA-256(0x00 ‖ leaf bytes) equals the stored leaf hash."
            if computed == bytes(entry.leaf_hash)
            else "The stored leaf bytes do not hash to the stored leaf hash.",
        }
    )
    latest = governance_receipts.checkpoint_covering(seq)
    result.checkpoint = latest.note
    verifiers = [notes.Verifier.from_string(key.verifier_key) for key in ledger_selectors.signing_key_list()]
    result.key_names = [verifier.name for verifier in verifiers]
    try:
        checkpoint = checkpoints.open_checkpoint(latest.note, verifiers, origin=settings.LEDGER_ORIGIN)
    except notes.NoteError as exc:
        result.steps.append({"step": "checkpoint", "passed": False, "detail": f"The checkpoint does not open: {exc}."})
        _record_step(result, event)
        return result
    result.size, result.root = checkpoint.size, checkpoint.root.hex()
    result.steps.append(
        {
            "step": "checkpoint",
            "passed": True,
            "detail": f"The checkpoint of size {checkpoint.size} carries a valid Ed25519 signature "
            f"by {', '.join(result.key_names)}.",
        }
    )
    proof = ledger_selectors.inclusion_proof(seq, checkpoint.size)
    result.proof = [node.hex() for node in proof]
    try:
        merkle.verify_inclusion(seq, checkpoint.size, computed, proof, checkpoint.root)
    except merkle.ProofError as exc:
        result.steps.append({"step": "inclusion", "passed": False, "detail": f"The inclusion proof fails: {exc}."})
    else:
        result.steps.append(
            {
                "step": "inclusion",
                "passed": True,
                "detail": f"The {len(proof)}-hash inclusion proof leads from leaf {seq} to the signed root.",
            }
        )
    _record_step(result, event)
    return result


def _record_step(result: Verification, event: dict[str, Any]) -> None:
    """Compare the records this entry describes, as stored now, with what the entry says."""
    key = event.get("idempotency_key")
    if not isinstance(key, str):
        return
    records = reconciliation.facts_for_entry(key, result.seq)
    if not records:
        return
    failed = [(record, fact) for record, facts in records for fact in facts if not fact.ok]
    if failed:
        record, fact = failed[0]
        said = "" if fact.ledger is ABSENT else f", the entry says {shown(fact.ledger)}"
        result.differs = f"This record differs from ledger entry #{result.seq}."
        detail = f"{record}: {fact.field} is stored as {shown(fact.stored)}{said}."
    else:
        checked = sum(len(facts) for _, facts in records)
        detail = f"The record shown ({records[0][0]}) agrees with the entry on all {checked} facts it states."
    result.steps.append({"step": "record", "passed": not failed, "detail": detail})
