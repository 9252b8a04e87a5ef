"""The facts a sealed report shows, checked against the ledger leaves that state them.

A report embeds ``evidence.json`` (format ``ledger-evidence/1``, docs/ledger-format.md): the
signed checkpoint note, every cited leaf's exact bytes with its RFC 9162 inclusion proof, and
every fact shown as ``{record, field, seq, member, value}``; an edition that may not disclose a
leaf's content lists it under ``withheld`` with its hash and proof only, and no fact from it.
:func:`check_evidence` proves each leaf and each withheld entry into the checkpoint and compares
each fact's value with the leaf's member, both as RFC 8785 canonical JSON, so ``1`` never equals
``true`` and key order never matters. It imports no Django: ``ledgerctl verify-report`` and
``manage.py verify_report`` both call it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from model_ledger_verify import canonical, checkpoints, merkle, notes

EVIDENCE_FORMAT = "ledger-evidence/1"
EVIDENCE_NAME = "evidence.json"
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024

__all__ = ["EVIDENCE_FORMAT", "EVIDENCE_NAME", "EvidenceError", "check_evidence", "member_of", "read_embedded"]


class EvidenceError(Exception):
    """The evidence does not hold; the message names the first bad fact or leaf."""


def read_embedded(reader: Any, name: str, *, limit: int = MAX_EVIDENCE_BYTES) -> bytes | None:
    """Return the bytes of the embedded file ``name`` in a pyHanko reader, or None if absent.

    Raise EvidenceError when it appears more than once or is larger than ``limit``.
    """
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except (KeyError, TypeError):
        return None
    specs = [names[i + 1] for i in range(0, len(names) - 1, 2) if str(names[i]) == name]
    if not specs:
        return None
    if len(specs) > 1:
        raise EvidenceError(f"the report embeds more than one {name}")
    try:
        data = specs[0].get_object()["/EF"]["/F"].get_object().data
    except Exception as exc:
        raise EvidenceError(f"{name} cannot be read: {exc}") from exc
    if len(data) > limit:
        raise EvidenceError(f"{name} is larger than {limit} bytes")
    return data


def member_of(leaf: dict[str, Any], member: str) -> Any:
    """Return the value at ``member`` ("actor", or "data.<name>") of a decoded leaf.

    Raise KeyError when the leaf has no such member.
    """
    if member == "actor":
        return leaf["actor"]
    head, _, name = member.partition(".")
    if head != "data" or not name:
        raise KeyError(member)
    return leaf["data"][name]


def _same(a: Any, b: Any) -> bool:
    try:
        return canonical.dumps(a) == canonical.dumps(b)
    except canonical.CanonicalError:
        return False


def _leaves(evidence: dict[str, Any], checkpoint: checkpoints.Checkpoint) -> dict[int, dict[str, Any]]:
    leaves = evidence.get("leaves")
    if not isinstance(leaves, list):
        raise EvidenceError("evidence leaves are missing or not a list")
    decoded: dict[int, dict[str, Any]] = {}
    for number, item in enumerate(leaves):
        what = f"evidence leaf {number}"
        if not isinstance(item, dict) or not isinstance(item.get("seq"), int) or isinstance(item.get("seq"), bool):
            raise EvidenceError(f"{what} has no integer seq")
        seq = item["seq"]
        try:
            leaf = base64.b64decode(item.get("leaf", ""), validate=True)
            proof = [bytes.fromhex(h) for h in item.get("proof", [])]
        except (binascii.Error, TypeError, ValueError) as exc:
            raise EvidenceError(f"{what} (seq {seq}) is not base64 with a hex proof: {exc}") from exc
        try:
            merkle.verify_inclusion(seq, checkpoint.size, merkle.leaf_hash(leaf), proof, checkpoint.root)
        except merkle.ProofError as exc:
            raise EvidenceError(
                f"ledger entry seq {seq} in the evidence is not proven in the checkpoint of size "
                f"{checkpoint.size}: {exc}"
            ) from exc
        try:
            value = canonical.loads(leaf)
        except canonical.CanonicalError as exc:
            raise EvidenceError(f"ledger entry seq {seq} in the evidence is not canonical JSON: {exc}") from exc
        if not isinstance(value, dict) or value.get("seq") != seq:
            raise EvidenceError(f"ledger entry seq {seq} in the evidence says it is another entry")
        decoded[seq] = value
    return decoded


def _withheld(evidence: dict[str, Any], checkpoint: checkpoints.Checkpoint, carried: dict[int, Any]) -> set[int]:
    """Prove each withheld entry (seq, leaf hash, inclusion proof, no bytes) into the checkpoint."""
    withheld = evidence.get("withheld", [])
    if not isinstance(withheld, list):
        raise EvidenceError("evidence withheld entries are not a list")
    seqs: set[int] = set()
    for number, item in enumerate(withheld):
        what = f"withheld entry {number}"
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise EvidenceError(f"{what} has no integer seq")
        if seq in carried or seq in seqs:
            raise EvidenceError(f"ledger entry seq {seq} is both carried and withheld, or withheld twice")
        try:
            leaf_hash = bytes.fromhex(item.get("leaf_hash", ""))
            proof = [bytes.fromhex(h) for h in item.get("proof", [])]
        except (TypeError, ValueError) as exc:
            raise EvidenceError(f"{what} (seq {seq}) has no hex leaf hash and proof: {exc}") from exc
        if len(leaf_hash) != 32:
            raise EvidenceError(f"{what} (seq {seq}) has no 32-byte leaf hash")
        try:
            merkle.verify_inclusion(seq, checkpoint.size, leaf_hash, proof, checkpoint.root)
        except merkle.ProofError as exc:
            raise EvidenceError(
                f"withheld ledger entry seq {seq} is not proven in the checkpoint of size {checkpoint.size}: {exc}"
            ) from exc
        seqs.add(seq)
    return seqs


def check_evidence(raw: bytes, verifiers: Sequence[notes.Verifier]) -> tuple[int, int, int]:
    """Check embedded evidence bytes; return (facts checked, leaves proven, withheld entries
    proven).

    The checkpoint must be signed by one of ``verifiers``, every leaf must prove into it, and
    every fact must equal the member of its leaf. An entry an edition withholds (``withheld``:
    seq, leaf hash and inclusion proof, without its bytes) must prove into it too, and no fact
    may cite it. Raise EvidenceError naming the first fact or leaf that does not hold.
    """
    try:
        evidence = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EvidenceError(f"evidence.json is not JSON: {exc}") from exc
    if not isinstance(evidence, dict) or evidence.get("format") != EVIDENCE_FORMAT:
        raise EvidenceError(f"evidence.json is not of format {EVIDENCE_FORMAT}")
    note, origin = evidence.get("checkpoint"), evidence.get("origin")
    if not isinstance(note, str) or not isinstance(origin, str):
        raise EvidenceError("evidence checkpoint or origin is missing")
    try:
        checkpoint = checkpoints.open_checkpoint(note, list(verifiers), origin=origin)
    except notes.NoteError as exc:
        raise EvidenceError(f"the evidence checkpoint is not signed by a trusted ledger key: {exc}") from exc
    leaves = _leaves(evidence, checkpoint)
    withheld = _withheld(evidence, checkpoint, leaves)
    facts = evidence.get("facts")
    if not isinstance(facts, list):
        raise EvidenceError("evidence facts are missing or not a list")
    for number, fact in enumerate(facts):
        if not isinstance(fact, dict):
            raise EvidenceError(f"evidence fact {number} is not an object")
        label = f"fact {number} ({fact.get('record')}: {fact.get('field')})"
        leaf = leaves.get(fact.get("seq"))
        if fact.get("seq") in withheld:
            raise EvidenceError(f"{label}: its ledger entry seq {fact['seq']} is withheld from this edition")
        if leaf is None:
            raise EvidenceError(f"{label}: its ledger entry seq {fact.get('seq')} is not in the evidence")
        try:
            said = member_of(leaf, str(fact.get("member")))
        except (KeyError, TypeError):
            raise EvidenceError(f"{label}: ledger entry seq {fact['seq']} has no {fact.get('member')}") from None
        if not _same(fact.get("value"), said):
            raise EvidenceError(
                f"{label}: the report shows {json.dumps(fact.get('value'), ensure_ascii=False)} but ledger "
                f"entry seq {fact['seq']} says {json.dumps(said, ensure_ascii=False)}"
            )
    return len(facts), len(leaves), len(withheld)
