"""The review queue, the models, a model and a version."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import queries
from console.auth import console_page
from console.forms import QueueFilterForm, SignatureForm


@console_page
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None, models=queries.model_slugs(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    rows = queries.review_queue(
        request.user,
        model=filters.get("model", ""),
        risk_tier=filters.get("risk_tier", ""),
        state=filters.get("status", ""),
    )
    return render(request, "console/queue.html", {"form": form, "rows": rows})


@console_page
@require_GET
def models(request: HttpRequest) -> HttpResponse:
    return render(request, "console/models.html", {"models": queries.model_rows(request.user)})


@console_page
@require_GET
def model(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "console/model.html", queries.model_page(request.user, slug))


@console_page
@require_GET
def version(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    context = queries.version_page(request.user, slug, version)
    offer = context["offer"]
    if offer.allowed:
        context["form"] = SignatureForm.for_preview(offer.preview)
    return render(request, "console/version.html", context)
