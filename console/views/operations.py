"""Decisions (search, explanation and proof) and alerts (acknowledge, resolve)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import exports, queries
from console.auth import console_page
from console.browse import browse
from console.filters import AlertFilterForm, DecisionFilterForm
from console.forms import AlertNoteForm
from governance.errors import Conflict, InvalidInput
from governance.selectors import browse as browsing
from governance.services import alerts as alert_services


@console_page
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    """Decisions by subject or id, model, version, day range, outcome and override; CSV export."""
    form = DecisionFilterForm(request.GET, models=queries.model_slugs(request.user))
    return browse(
        request,
        form=form,
        rows=lambda form: browsing.decision_browse(request.user, form.filters()),
        export=exports.DECISIONS,
        filename="decisions.csv",
        template="console/decisions.html",
        name="decisions",
        context={"outcomes": browsing.decision_outcomes(request.user)},
    )


@console_page
@require_GET
def decision(request: HttpRequest, slug: str, decision_id: str) -> HttpResponse:
    return render(request, "console/decision.html", queries.decision_page(request.user, slug, decision_id))


@console_page
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """Alerts by model, state, kind and day opened, newest first, with the actions the caller may
    take on each; CSV export."""
    form = AlertFilterForm(request.GET, models=queries.model_slugs(request.user))
    return browse(
        request,
        form=form,
        rows=lambda form: queries.alert_rows(request.user, browsing.alert_browse(request.user, form.filters())),
        export=(exports.ALERTS[0], lambda pair: exports.ALERTS[1](pair[0])),
        filename="alerts.csv",
        template="console/alerts.html",
        name="alerts",
    )


def _handle(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    alert = queries.alert_get(request.user, pk)
    form = AlertNoteForm(request.POST)
    if not form.is_valid():  # refused, never acted on with the note dropped
        problems = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, f"The note is not valid: {problems}")
        return redirect("console:alerts")
    note = form.cleaned_data["note"]
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
