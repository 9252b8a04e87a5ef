"""Owners and officers record the classification, risk register entries and human-oversight
measures of a model, and officers the validation findings of a version: each page lists the
entries in force and records a new revision."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console.assurance_forms import FORMS
from console.auth import console_page
from console.views.manage import _refused
from governance import access, selectors
from governance.errors import Conflict, InvalidInput
from governance.selectors.assurance import assurance_list
from governance.services import assurance


@console_page
@require_http_methods(["GET", "POST"])
def assurance_page(request: HttpRequest, slug: str, kind: str, version: str | None = None) -> HttpResponse:
    if kind not in FORMS or (kind == "finding") != (version is not None):
        raise Http404("No such record kind.")
    version = selectors.version_get(request.user, slug, version) if version else None
    model = version.model if version else selectors.model_get(request.user, slug)
    form_class, heading, columns = FORMS[kind]
    may_record = access.can(request.user, assurance.SPECS[kind].action, version or model)
    form = form_class(request.POST if request.method == "POST" else None) if may_record else None
    status = 200
    if request.method == "POST":
        access.require(request.user, assurance.SPECS[kind].action, version or model)
        status = 400  # unless recorded, below
        if form.is_valid():
            data = dict(form.cleaned_data)
            entry_id = data.pop("entry_id", "classification")
            try:
                result = assurance.assurance_record(
                    actor=request.user, kind=kind, model=model, version=version, entry_id=entry_id, **data
                )
            except (InvalidInput, Conflict) as exc:
                _refused(form, exc)
            else:
                messages.success(request, f"Recorded {entry_id} revision {result.record.revision}.")
                return redirect(request.path)
    rows = assurance_list(request.user, kind, model=model, version=version)
    context = {
        "model": model,
        "version": version,
        "heading": heading,
        "columns": columns,
        "rows": [
            [str(getattr(row, c)) for c in columns] + [row.revision, row.recorded_by, row.recorded_at] for row in rows
        ],
        "form": form,
    }
    return render(request, "console/assurance.html", context, status=status)
