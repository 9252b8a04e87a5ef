"""Ledger receipts for write responses: seq and leaf hash, and on request an inclusion proof."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from api.errors import bad_request
from governance import receipts as governance_receipts


def wait_mode(request: Request, *, allow_none: bool = False) -> str:
    """Return what the caller waits for: `entry` (the default), `checkpoint`, or `none`.

    `none` (durably queued, not yet sequenced) only where the view offers it: batch writers.
    """
    wait = request.query_params.get("wait", "") or "entry"
    allowed = ("none", "entry", "checkpoint") if allow_none else ("entry", "checkpoint")
    if wait not in allowed:
        raise bad_request(f"`wait` must be {', '.join(allowed[:-1])} or {allowed[-1]}.", field="wait")
    return wait


def wants_checkpoint(request: Request) -> bool:
    return wait_mode(request) == "checkpoint"


def accepted(keys: list[str]) -> list[dict[str, Any]]:
    """Receipts for `?wait=none`: the idempotency keys under which the entries will appear."""
    return [{"idempotency_key": key} for key in keys]


def receipts(keys: list[str], *, checkpoint: bool = False) -> list[dict[str, Any]]:
    """Return one receipt per ledger key, integrating in-process until they are in the log.

    Call after the write committed. With `checkpoint`, include each entry's inclusion proof
    against a checkpoint covering them (governance.receipts: signed only when none does yet).
    """
    result = []
    for fact in governance_receipts.receipts(keys, proofs=checkpoint):
        receipt: dict[str, Any] = {"idempotency_key": fact.key, "seq": fact.seq, "leaf_hash": fact.leaf_hash.hex()}
        if fact.inclusion is not None:
            receipt["inclusion"] = {
                "tree_size": fact.inclusion.tree_size,
                "proof": [node.hex() for node in fact.inclusion.proof],
                "checkpoint": fact.inclusion.checkpoint,
            }
        result.append(receipt)
    return result


def receipt(request: Request, key: str) -> dict[str, Any]:
    return receipts([key], checkpoint=wants_checkpoint(request))[0]
