"""Record kinds of operations: deployments, decisions (with their payloads) and reviews."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from governance.models import Decision, DecisionReview, Deployment
from governance.reconciliation.engine import Fact, Kind, Leaf, Row, actor, bound, by_key, by_pattern, moment
from governance.reconciliation.fast import decision_suspects
from model_ledger_verify import canonical

DEPLOYMENT = Kind(
    name="deployment",
    model=Deployment,
    columns=(
        "pk",
        "model__slug",
        "version__version",
        "environment",
        "started_at",
        "ended_at",
        "end_reason",
        "deployed_by__username",
        "ended_by__username",
        "rollback_of__ledger_key",
        "change_ticket",
        "ci_run_id",
        "config_version",
        "notes",
        "gates",
        "ledger_key",
    ),
    natural_key=lambda row: (
        f"deployment {row['pk']} of {row['model__slug']} {row['version__version']} to {row['environment']}"
    ),
    leaves=(
        Leaf("recorded", by_key()),
        # Keyed by id, not by the row's end key: blanking a row's end must not hide its leaf.
        Leaf("ended", by_pattern("deployment.ended:{}"), required=lambda row: row["ended_at"] is not None),
    ),
    fields=(
        bound("model", column="model__slug"),
        bound("version", column="version__version"),
        bound("environment"),
        moment("started_at"),
        *(bound(name) for name in ("change_ticket", "ci_run_id", "config_version", "notes", "gates")),
        bound("rollback_of", column="rollback_of__ledger_key"),
        actor("deployed_by", "deployed_by__username"),
        moment("ended_at", leaf="ended"),
        bound("end_reason", path="reason", leaf="ended"),
        actor("ended_by", "ended_by__username", leaf="ended"),
    ),
)


def payload_commitment(salt: bytes, subject_ref: str, snapshot: Any) -> str:
    """Return the salted commitment (`decisions.commitment`), by the C encoder when it can.

    For strings, integers, booleans and null with BMP keys, sorted-key compact JSON from the
    standard library is byte-identical to RFC 8785; where it is not (a float, an astral-plane
    key), the hash simply differs and the caller retries with `canonical.dumps`, so a match is
    always a true match.
    """
    payload = {"input_snapshot": snapshot, "subject_ref": subject_ref}
    try:
        data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (TypeError, ValueError, UnicodeEncodeError):
        return ""
    return hashlib.sha256(salt + data).hexdigest()


def _exact_commitment(salt: bytes, subject_ref: str, snapshot: Any) -> str:
    try:
        data = canonical.dumps({"subject_ref": subject_ref, "input_snapshot": snapshot})
    except canonical.CanonicalError:
        return ""
    return hashlib.sha256(salt + data).hexdigest()


def _payload_facts(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    """The payload opens the leaf's commitment, unless its erasure is itself in the ledger."""
    logged, erased = leaves["recorded"], leaves["erased"]
    if row["payload__pk"] is None or row["payload__erased_at"] is not None:
        if erased is None:
            what = "payload missing" if row["payload__pk"] is None else "payload erased"
            return [Fact("payload", False, None, what)]
        return [Fact("payload", True, erased["seq"], "erased")]
    if logged is None:
        return []
    promised = logged["data"]["payload_commitment"]
    salt = bytes(row["payload__salt"] or b"")
    subject, snapshot = row["payload__subject_ref"], row["payload__input_snapshot"]
    ok = payload_commitment(salt, subject, snapshot) == promised or _exact_commitment(salt, subject, snapshot) == (
        promised
    )
    facts = [Fact("payload", ok, logged["seq"], {"subject_ref": subject, "input_snapshot": snapshot})]
    if erased is not None:
        facts.append(Fact("erased_at", False, erased["seq"], None, "erased"))
    return facts


DECISION = Kind(
    name="decision",
    model=Decision,
    columns=(
        "pk",
        "model__slug",
        "version__version",
        "decision_id",
        "occurred_at",
        "input_sha256",
        "output_label",
        "output_score",
        "reasons",
        "mode",
        "reviewer",
        "overridden",
        "override_reason",
        "final_label",
        "payload_commitment",
        "posted_by__username",
        "posted_at",
        "ledger_key",
        "payload__pk",
        "payload__subject_ref",
        "payload__input_snapshot",
        "payload__salt",
        "payload__erased_at",
    ),
    natural_key=lambda row: f"decision {row['decision_id']} of {row['model__slug']}",
    leaves=(
        Leaf("recorded", by_key()),
        # Looked up only for a payload that is gone: the erasure's own leaf must say so.
        Leaf(
            "erased",
            lambda row: (
                f"decision.payload_erased:{row['pk']}"
                if row["payload__pk"] is None or row["payload__erased_at"] is not None
                else None
            ),
            required=lambda row: False,
        ),
    ),
    fields=(
        bound("model", column="model__slug"),
        bound("version", column="version__version"),
        bound("decision_id"),
        moment("occurred_at"),
        *(
            bound(name)
            for name in (
                "input_sha256",
                "output_label",
                "output_score",
                "reasons",
                "mode",
                "reviewer",
                "overridden",
                "override_reason",
                "final_label",
                "payload_commitment",
            )
        ),
        moment("posted_at"),
        actor("posted_by", "posted_by__username"),
    ),
    more=_payload_facts,
    fast=decision_suspects,
)

DECISION_REVIEW = Kind(
    name="decision review",
    model=DecisionReview,
    columns=(
        "pk",
        "decision__model__slug",
        "decision__decision_id",
        "decision__ledger_key",
        "reviewer__username",
        "action",
        "reason_code",
        "reason",
        "final_label",
        "reviewed_at",
        "ledger_key",
    ),
    natural_key=lambda row: (
        f"review {row['pk']} of decision {row['decision__decision_id']} of {row['decision__model__slug']}"
    ),
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="decision__model__slug"),
        bound("decision_id", column="decision__decision_id"),
        bound("decision", column="decision__ledger_key"),
        *(bound(name) for name in ("action", "reason_code", "reason", "final_label")),
        moment("reviewed_at"),
        actor("reviewer", "reviewer__username"),
    ),
)

KINDS = (DEPLOYMENT, DECISION, DECISION_REVIEW)
