"""Owners and officers manage models from the console: register one, grant and revoke access, set
thresholds and policies, send a version to review, deploy or roll back. Each page is offered only
to those the access table allows, and each service checks again on submit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.auth import console_page
from console.manage_forms import AccessChangeForm, DeployForm, ModelRegisterForm, PolicyForm
from governance import access, selectors
from governance.errors import Conflict, GovernanceError, InvalidInput
from governance.selectors import gates
from governance.services import access as access_services
from governance.services import deployments, policies, registry


def _refused(form: forms.Form, exc: GovernanceError) -> None:
    """Show a service's refusal on the form: per field where it names one, else at the top."""
    form.add_error(None, exc.message)
    if isinstance(exc, InvalidInput):
        for name, problems in (exc.errors or {}).items():
            text = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
            form.add_error(name if name in form.fields else None, text)


@console_page
@require_http_methods(["GET", "POST"])
def model_new(request: HttpRequest) -> HttpResponse:
    access.require(request.user, "register_model")
    form = ModelRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        owner = get_user_model().objects.filter(username=data.pop("owner")).first()
        if owner is None:
            form.add_error("owner", "No such user.")
        else:
            try:
                model = registry.model_register(actor=request.user, owner=owner, **data)
            except (InvalidInput, Conflict) as exc:
                _refused(form, exc)
            else:
                messages.success(request, f"Model {model.slug} registered; its owner is {owner.get_username()}.")
                return redirect("console:model", model.slug)
    return render(request, "console/model_new.html", {"form": form})


def _principal(name: str) -> Any:
    kind, _, group = name.partition(":")
    if kind == "group" and group:
        return Group.objects.filter(name=group).first()
    return get_user_model().objects.filter(username=name).first()


@console_page
@require_http_methods(["GET", "POST"])
def model_access(request: HttpRequest, slug: str) -> HttpResponse:
    model = selectors.model_get(request.user, slug)
    access.require(request.user, "manage", model)
    form = AccessChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verb = "revoke" if request.POST.get("verb") == "revoke" else "grant"
        grantee = _principal(form.cleaned_data["principal"])
        if grantee is None:
            form.add_error("principal", "No such user or group.")
        else:
            change = access_services.access_grant if verb == "grant" else access_services.access_revoke
            try:
                change(
                    actor=request.user,
                    model=model,
                    grantee=grantee,
                    actions=form.cleaned_data["actions"],
                    reason=form.cleaned_data["reason"],
                )
            except (InvalidInput, Conflict) as exc:
                _refused(form, exc)
            else:
                done = "Granted" if verb == "grant" else "Revoked"
                messages.success(
                    request, f"{done} {', '.join(form.cleaned_data['actions'])} for {form.cleaned_data['principal']}."
                )
                return redirect("console:model-access", model.slug)
    context = {"model": model, "form": form, "grants": access.grant_rows(model)}
    return render(request, "console/model_access.html", context)


def _policy_initial(model: Any) -> dict[str, Any]:
    thresholds = model.thresholds.filter(superseded_at__isnull=True).order_by("metric")
    monitoring = model.monitoring_policies.filter(superseded_at__isnull=True).first()
    retraining = model.retraining_policies.filter(superseded_at__isnull=True).first()
    initial: dict[str, Any] = {"thresholds": "\n".join(f"{t.metric} {t.operator} {t.value}" for t in thresholds)}
    for policy, names in (
        (monitoring, ("expected_interval_minutes", "psi_threshold", "ks_threshold", "min_volume")),
        (retraining, ("drift_windows", "accuracy_metric", "accuracy_floor", "max_age_days")),
    ):
        if policy is not None:
            initial.update({name: getattr(policy, name) for name in names})
    return initial


@console_page
@require_http_methods(["GET", "POST"])
def model_policies(request: HttpRequest, slug: str) -> HttpResponse:
    model = selectors.model_get(request.user, slug)
    access.require(request.user, "oversee", model)
    form = PolicyForm(request.POST or None, initial=_policy_initial(model))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        text = {name: ("" if data[name] is None else str(data[name])) for name in ("psi_threshold", "ks_threshold")}
        try:
            with transaction.atomic():  # all three, or none
                policies.thresholds_set(actor=request.user, model=model, thresholds=data["thresholds"])
                policies.monitoring_policy_set(
                    actor=request.user,
                    model=model,
                    expected_interval_minutes=data["expected_interval_minutes"],
                    min_volume=data["min_volume"],
                    **text,
                )
                policies.retraining_policy_set(
                    actor=request.user,
                    model=model,
                    drift_windows=data["drift_windows"],
                    accuracy_metric=data["accuracy_metric"],
                    accuracy_floor="" if data["accuracy_floor"] is None else str(data["accuracy_floor"]),
                    max_age_days=data["max_age_days"],
                )
        except (InvalidInput, Conflict) as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Thresholds and policies of {model.slug} set.")
            return redirect("console:model", model.slug)
    return render(request, "console/model_policies.html", {"model": model, "form": form})


@console_page
@require_POST
def version_review(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    row = selectors.version_get(request.user, slug, version)
    try:
        registry.version_request_review(actor=request.user, version=row)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{row} sent to the review queue.")
    return redirect("console:version", slug, version)


@console_page
@require_http_methods(["GET", "POST"])
def version_deploy(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    row = selectors.version_get(request.user, slug, version)
    access.require(request.user, "register", row)
    form = DeployForm(request.POST or request.GET or None)
    environment = form.data.get("environment") or "production"
    if request.method == "POST" and form.is_valid():
        try:
            deployment = deployments.deployment_start(
                actor=request.user,
                version=row,
                environment=form.cleaned_data["environment"],
                change_ticket=form.cleaned_data["change_ticket"],
                reason=form.cleaned_data["reason"],
            )
        except (InvalidInput, Conflict) as exc:
            _refused(form, exc)
        else:
            verb = "rolled back to" if deployment.rollback_of_id else "deployed"
            messages.success(request, f"{row.model.slug} {verb} {row.version} in {deployment.environment}.")
            return redirect("console:model", slug)
    serving = row.model.deployments.filter(environment=environment, ended_at__isnull=True).select_related("version")
    context = {
        "model": row.model,
        "version": row,
        "form": form,
        "report": gates.gates_evaluate(version=row, environment=environment),
        "serving": serving.first(),
    }
    return render(request, "console/version_deploy.html", context)
