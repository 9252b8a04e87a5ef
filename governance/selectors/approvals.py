"""Reads about signatures: how many a version needs, the separation-of-duties rules for a signer,
what a signature would sign now, and whether a signer could sign (what the console offers)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from governance import access
from governance.models import Approval, ModelCard, ModelVersion, RegisteredModel
from governance.records import sha256_of, signed_content
from governance.selectors import separation

SIGNABLE = frozenset({ModelVersion.Status.REGISTERED, ModelVersion.Status.IN_REVIEW})


def approvals_required(model: RegisteredModel) -> int:
    """Return how many distinct officers must approve: two for high-risk models (four eyes)."""
    return 2 if model.risk_tier == RegisteredModel.RiskTier.HIGH else 1


def separation_checks(
    signer: AbstractBaseUser, version: ModelVersion, card: ModelCard | None, meaning: str
) -> list[dict[str, Any]]:
    """Return every separation-of-duties rule for this signature with its outcome (see
    governance.selectors.separation: judged over the version's history, not the current state)."""
    return separation.separation_checks(signer, version, meaning)


def signature_preview(version: ModelVersion) -> dict[str, Any]:
    """Return what a signature would sign now: the latest card revision and the content hash."""
    card = version.cards.order_by("-revision").first()
    content = signed_content(version, card)
    return {"card_revision": card.revision if card else None, "signed_sha256": sha256_of(content)}


@dataclass
class SignOffer:
    """Whether to offer `user` the signature form for a version, and why not when not."""

    allowed: bool
    reasons: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    preview: dict[str, Any] = field(default_factory=dict)
    content: str = ""
    # Approval progress: distinct officers who approved so far, and how many the model needs.
    approved: int = 0
    required: int = 1
    datasets: list[Any] = field(default_factory=list)

    @property
    def this_one(self) -> int:
        """Which approval this signature would be, counting from 1."""
        return min(self.approved + 1, self.required)

    @property
    def held(self) -> int:
        return sum(1 for check in self.checks if check["passed"])


def sign_offer(user: AbstractBaseUser, version: ModelVersion) -> SignOffer:
    """Ask the approval rules whether `user` could sign an approval of `version` now.

    The approval service checks all of it again when the signature is submitted.
    """
    if not access.can(user, "approve", version):
        return SignOffer(False, [access.denial("approve", version)])
    if version.status not in SIGNABLE:
        return SignOffer(False, [f"The version is {version.get_status_display().lower()}; nothing to sign."])
    card = version.cards.order_by("-revision").first()
    checks = separation_checks(user, version, card, Approval.Meaning.APPROVED)
    reasons = [check["description"] for check in checks if not check["passed"]]
    if card is None:
        reasons.append("The version has no model card to approve.")
    preview = signature_preview(version)
    content = json.dumps(signed_content(version, card), indent=2, ensure_ascii=False)
    return SignOffer(
        not reasons,
        reasons,
        checks,
        preview,
        content,
        approved=approval_progress(version),
        required=approvals_required(version.model),
        datasets=list(version.dataset_links.select_related("dataset").order_by("role")),
    )


def approval_progress(version: ModelVersion) -> int:
    """Return how many distinct officers have approved `version` so far."""
    approved = version.approvals.filter(meaning=Approval.Meaning.APPROVED)
    return approved.values("signer_id").distinct().count()
