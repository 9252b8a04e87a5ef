"""The ledger: latest checkpoint, recent entries, checking one entry, verifying offline."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from console import queries
from console.auth import console_page
from console.receipts import can_read_ledger, entry_verify
from ledger import selectors as ledger_selectors
from ledger import witness_alerts, witnessing


def _checkpoint_context() -> dict:
    latest = ledger_selectors.checkpoint_latest()
    return {
        "checkpoint": latest,
        "root": bytes(latest.root).hex() if latest else "",
        "size": ledger_selectors.tree_size(),
        "keys": list(ledger_selectors.signing_key_list()),
        "origin": settings.LEDGER_ORIGIN,
        "witnesses": witnessing.witness_statuses(),
        "witness_policy": witnessing.configured()[1].threshold,
        "witness_alerts": witness_alerts.witness_alerts_open(),
    }


@console_page
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    readable = can_read_ledger(request.user)
    context = {**_checkpoint_context(), "readable": readable, "entries": queries.recent_entries() if readable else []}
    return render(request, "console/ledger.html", context)


@console_page
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "console/ledger_offline.html", _checkpoint_context())


@console_page
@require_POST
def verify(request: HttpRequest, seq: int) -> HttpResponse:
    """Check one entry's inclusion in the latest signed checkpoint (JSON for the page's script)."""
    result = entry_verify(request.user, seq)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(result.as_json())
    return render(request, "console/verify.html", {"result": result})
