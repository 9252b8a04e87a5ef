"""Electronic signatures: the signature form and the receipt of a signature."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console import queries
from console.auth import console_page, refuse
from console.forms import SignatureForm
from console.receipts import receipt_list, receipt_now
from governance import access, selectors, signin
from governance.errors import (
    Conflict,
    GovernanceError,
    InvalidInput,
    ReauthenticationFailed,
    SeparationOfDuties,
)
from governance.selectors.approvals import approval_progress, sign_offer
from governance.services import approvals


@console_page
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    """GET: the signature form, offered only within separation of duties. POST: sign; the
    approval service checks permission, separation of duties and the password again."""
    row = selectors.version_get(request.user, slug, version)
    offer = sign_offer(request.user, row)
    status = 200
    if request.method == "POST":
        access.require(request.user, "approve", row)
        if signin.locked_out(request, request.user.get_username()):
            context = {"message": signin.lockout_message(signin.retry_at(request, request.user.get_username()))}
            return render(request, "console/locked_out.html", context, status=429)
        form = SignatureForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                approval = approvals.approval_sign(
                    signer=request.user,
                    version=row,
                    password=data["password"],
                    meaning=data["meaning"],
                    reason=data["reason"],
                    card_revision=data["card_revision"],
                    expected_sha256=data["expected_sha256"],
                )
            except ReauthenticationFailed as exc:
                # Counted as a failed sign-in; the lockout middleware answers for the one that locks.
                signin.failed(request, request.user.get_username())
                form.add_error("password", exc.errors.get("password") or exc.message)
            except SeparationOfDuties as exc:
                form.add_error(None, exc.message)
                status = 403
            except (Conflict, InvalidInput) as exc:
                _add_errors(form, exc)
                status = 409 if isinstance(exc, Conflict) else 400
            else:
                receipt_now("Signature", approval.ledger_key)
                messages.success(request, f"Signed: {approval.get_meaning_display().lower()} {row}.")
                return redirect("console:approval", slug=slug, version=version, pk=approval.pk)
    elif not offer.allowed:
        return refuse(request, 403, " ".join(offer.reasons))
    else:
        form = SignatureForm.for_preview(offer.preview)
    context = {"model": row.model, "version": row, "offer": offer, "form": form}
    return render(request, "console/sign.html", context, status=status)


def _add_errors(form: SignatureForm, exc: GovernanceError) -> None:
    """Put the service's per-field errors on the form's fields; the message on the form."""
    form.add_error(None, exc.message)
    for name, problems in exc.errors.items():
        if name in form.fields and name not in form.errors and isinstance(problems, list):
            form.add_error(name, [str(problem) for problem in problems])


@console_page
def approval(request: HttpRequest, slug: str, version: str, pk: int) -> HttpResponse:
    signature = queries.approval_get(request.user, slug, version, pk)
    context = {
        "model": signature.version.model,
        "version": signature.version,
        "approval": signature,
        "approved": (approved := approval_progress(signature.version)),
        "required": (required := approvals.approvals_required(signature.version.model)),
        "remaining": max(required - approved, 0),
        "receipts": receipt_list([("Signature", signature.ledger_key)]),
    }
    return render(request, "console/approval.html", context)
