"""Ledger receipts for write responses: seq and leaf hash, and on request an inclusion proof."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from api.errors import bad_request
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services


def wants_checkpoint(request: Request) -> bool:
    wait = request.query_params.get("wait", "")
    if wait not in ("", "entry", "checkpoint"):
        raise bad_request("`wait` must be entry or checkpoint.", field="wait")
    return wait == "checkpoint"


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
