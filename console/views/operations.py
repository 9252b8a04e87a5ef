"""Decisions (search, explanation and proof) and alerts (acknowledge, resolve)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import queries
from console.auth import console_page
from console.forms import AlertNoteForm, DecisionSearchForm
from governance.errors import Conflict, InvalidInput
from governance.services import alerts as alert_services


@console_page
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    form = DecisionSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {"form": form, "q": q, "decisions": queries.decision_search(request.user, q)}
    return render(request, "console/decisions.html", context)


@console_page
@require_GET
def decision(request: HttpRequest, slug: str, decision_id: str) -> HttpResponse:
    return render(request, "console/decision.html", queries.decision_page(request.user, slug, decision_id))


@console_page
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    context = {
        "open": queries.alert_rows(request.user),
        "resolved": queries.alert_rows(request.user, resolved=True),
    }
    return render(request, "console/alerts.html", context)


def _handle(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    alert = queries.alert_get(request.user, pk)
    form = AlertNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if action == "acknowledge":
            alert_services.alert_acknowledge(actor=request.user, alert=alert, note=note)
        else:
            alert_services.alert_resolve(actor=request.user, alert=alert, note=note)
    except (Conflict, InvalidInput) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Alert {alert.pk} {action}d.")
    return redirect("console:alerts")


@console_page
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, "acknowledge")


@console_page
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, "resolve")
