"""Ledger receipts for write responses: seq and leaf hash, and on request an inclusion proof."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from api.errors import bad_request
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services


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

    Call after the write committed. With `checkpoint`, sign a checkpoint covering them and
    include each entry's inclusion proof against it.
    """
    entries = ledger_services.entries_wait(keys)
    signed = ledger_services.checkpoint_sign() if checkpoint else None
    result = []
    for key in keys:
        entry = entries[key]
        receipt: dict[str, Any] = {
            "idempotency_key": key,
            "seq": entry.seq,
            "leaf_hash": bytes(entry.leaf_hash).hex(),
        }
        if signed is not None:
            proof = ledger_selectors.inclusion_proof(entry.seq, signed.size)
            receipt["inclusion"] = {
                "tree_size": signed.size,
                "proof": [node.hex() for node in proof],
                "checkpoint": signed.note,
            }
        result.append(receipt)
    return result


def receipt(request: Request, key: str) -> dict[str, Any]:
    return receipts([key], checkpoint=wants_checkpoint(request))[0]
