"""The ledger: latest checkpoint, recent entries, checking one entry, verifying offline."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from console import exports
from console.auth import console_page
from console.browse import browse
from console.filters import LedgerFilterForm
from console.receipts import can_read_ledger, entry_verify
from ledger import browse as entries
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
        "witnessed": witnessing.witnessed_for(latest.size) if latest else None,
    }


@console_page
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """The checkpoint, keys and witnesses; for readers of the log, its entries newest first, by
    event type, subject and day, paged, with a CSV export."""
    context = {**_checkpoint_context(), "readable": can_read_ledger(request.user)}
    form = LedgerFilterForm(request.GET)
    if not context["readable"]:
        return render(request, "console/ledger.html", {**context, "form": form, "entries": []})

    def rows(form: LedgerFilterForm) -> EntryPage:
        return EntryPage(form.entry_filters())

    return browse(
        request,
        form=form,
        rows=rows,
        export=exports.ENTRIES,
        filename="ledger-entries.csv",
        template="console/ledger.html",
        name="entries",
        context=context,
        stream=lambda found: entries.entry_rows(found.queryset, found.filters),
    )


class EntryPage:
    """Entries matching the filters, as a paginator reads them: a count and parsed slices."""

    def __init__(self, filters: entries.EntryFilters) -> None:
        self.filters = filters
        self.queryset = entries.entry_search(filters)

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict]:
        rows = (entries.envelope(e) for e in self.queryset.only("seq", "leaf", "leaf_hash")[index])
        return [row for row in rows if entries.matches(row, self.filters)]


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
