"""Electronic signatures on versions (21 CFR 11.50, 11.70, 11.200) with separation of duties."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events, selectors
from governance.errors import (
    Conflict,
    InvalidInput,
    ReauthenticationFailed,
    SeparationOfDuties,
)
from governance.models import Approval, ModelVersion
from governance.records import rfc3339, sha256_of, signed_content
from governance.roles import role_title
from governance.selectors import separation
from governance.selectors.approvals import SIGNABLE, approvals_required
from governance.services.registry import status_change


@transaction.atomic
def approval_sign(
    *,
    signer: AbstractBaseUser,
    version: ModelVersion,
    password: str,
    meaning: str,
    reason: str,
    card_revision: int | None = None,
    expected_sha256: str | None = None,
) -> Approval:
    """Record an electronic signature on `version` and move its status if it settles.

    The signer re-enters their password in the same request (11.200). The signature binds the
    SHA-256 of the version record and the card revision signed (11.70); when `expected_sha256`
    is given (what the signer was shown), it must match. Separation of duties is checked on the
    server and each rule's outcome is recorded. High-risk models need two approvals from
    distinct officers. Raise Forbidden, ReauthenticationFailed, SeparationOfDuties, Conflict or
    InvalidInput; nothing is written unless the signature stands.
    """
    access.require(signer, "approve", version)
    if meaning not in Approval.Meaning.values:
        raise InvalidInput(
            "Unknown meaning.",
            errors={"meaning": [f"One of {', '.join(Approval.Meaning.values)}."]},
        )
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("A signature needs a reason.", errors={"reason": ["This field is required."]})
    if not isinstance(password, str) or not password or not signer.check_password(password):
        raise ReauthenticationFailed("Re-enter your password to sign.", errors={"password": ["Incorrect password."]})
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.status not in SIGNABLE:
        raise Conflict(f"{version} is {version.status}; only registered or in-review versions are signed.")
    cards = version.cards.order_by("-revision")
    card = cards.filter(revision=card_revision).first() if card_revision is not None else cards.first()
    if card_revision is not None and card is None:
        raise InvalidInput("No such card revision.", errors={"card_revision": ["Not found."]})
    if card is not None and card_revision is None and cards.first() != card:
        raise Conflict("Sign the latest card revision.")
    if meaning in (Approval.Meaning.APPROVED, Approval.Meaning.RISK_ACCEPTED) and card is None:
        raise Conflict(f"{version} has no model card to approve.")
    signed_sha256 = sha256_of(signed_content(version, card))
    if expected_sha256 is not None and expected_sha256 != signed_sha256:
        raise Conflict(
            "The record changed since it was shown to you; review it again.",
            errors={"expected_sha256": [f"Now {signed_sha256}."]},
        )
    grant = selectors.officer_grant_of(signer)
    checks = separation.separation_checks(signer, version, meaning, grant)
    failed = [check for check in checks if not check["passed"]]
    if failed:
        raise SeparationOfDuties(
            "Separation of duties forbids this signature. " + " ".join(check["description"] for check in failed),
            errors={"sod_checks": checks},
        )
    now = timezone.now()
    approval = Approval.objects.create(
        version=version,
        card=card,
        signer=signer,
        signer_name=signer.get_full_name() or signer.get_username(),
        signer_role=role_title(signer),
        meaning=meaning,
        reason=reason,
        signed_at=now,
        signed_sha256=signed_sha256,
        sod_checks=checks,
        ledger_key=f"approval.signed:{uuid.uuid4()}",
    )
    events.record(
        type="approval.signed",
        actor=signer,
        subject=f"model:{version.model.slug}",
        key=approval.ledger_key,
        data={
            "model": version.model.slug,
            "version": version.version,
            "signer": signer.get_username(),
            "signer_name": approval.signer_name,
            "signer_role": approval.signer_role,
            "meaning": meaning,
            "reason": reason,
            "signed_at": rfc3339(now),
            "signed_sha256": signed_sha256,
            "card_revision": card.revision if card else None,
            "authentication": approval.authentication,
            "sod_checks": checks,
            # How the signer became an officer: the seq of their `role.granted` event and its two people.
            "role_grant": separation.role_grant_record(grant),
        },
    )
    _settle(signer, version)
    return approval


def _settle(signer: AbstractBaseUser, version: ModelVersion) -> None:
    signatures = version.approvals.all()
    if signatures.filter(meaning=Approval.Meaning.REJECTED).exists():
        status_change(
            actor=signer,
            version=version,
            to=ModelVersion.Status.REJECTED,
            reason="rejected by signature",
        )
        return
    approvers = signatures.filter(meaning=Approval.Meaning.APPROVED).values("signer").distinct().count()
    if approvers >= approvals_required(version.model):
        status_change(
            actor=signer,
            version=version,
            to=ModelVersion.Status.APPROVED,
            reason=f"{approvers} approval(s) from distinct officers",
        )
    elif version.status == ModelVersion.Status.REGISTERED:
        status_change(
            actor=signer,
            version=version,
            to=ModelVersion.Status.IN_REVIEW,
            reason="first signature",
        )
