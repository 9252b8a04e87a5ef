"""The review queue, the models, a model and a version."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import compare as comparing
from console import exports, queries
from console.auth import console_page
from console.browse import browse, wants_csv
from console.filters import CompareForm, ModelFilterForm, VersionSearchForm
from console.forms import QueueFilterForm, SignatureForm
from governance import selectors
from governance.selectors import browse as browsing


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
    """Models by a word of their slug, name or purpose, risk tier and day registered; CSV export."""
    return browse(
        request,
        form=ModelFilterForm(request.GET),
        rows=lambda form: browsing.model_browse(request.user, form.filters()).select_related("owner"),
        export=exports.MODELS,
        filename="models.csv",
        template="console/models.html",
        name="models",
    )


@console_page
@require_GET
def model(request: HttpRequest, slug: str) -> HttpResponse:
    """The model, with its versions searched and paged (and exported as CSV)."""
    context = {"model": selectors.model_get(request.user, slug)} if wants_csv(request) else None
    context = context or queries.model_page(request.user, slug)
    model = context["model"]
    return browse(
        request,
        form=VersionSearchForm(request.GET),
        rows=lambda form: browsing.version_search(request.user, model, form.filters()).select_related(
            "registered_by", "parent"
        ),
        export=exports.VERSIONS,
        filename=f"{model.slug}-versions.csv",
        template="console/model.html",
        name="version_rows",
        context=context,
    )


@console_page
@require_GET
def compare(request: HttpRequest, slug: str) -> HttpResponse:
    """Any two versions of a model side by side: card, metrics, datasets and gates."""
    form = CompareForm(request.GET)
    if not form.is_valid():
        model = selectors.model_get(request.user, slug)
        return render(request, "console/compare.html", {"model": model, "form": form}, status=400)
    context = comparing.compare_page(request.user, slug, form.cleaned_data["a"], form.cleaned_data["b"])
    return render(request, "console/compare.html", {**context, "form": form})


@console_page
@require_GET
def version(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    context = queries.version_page(request.user, slug, version)
    offer = context["offer"]
    if offer.allowed:
        context["form"] = SignatureForm.for_preview(offer.preview)
    return render(request, "console/version.html", context)
