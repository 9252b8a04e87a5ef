"""Separation of duties for signatures, judged over history rather than the current state.

A signer may not sign a version they registered, one whose card they wrote, or one of a model
they owned at any time since the version was registered, or whose ownership transfer they
requested or accepted in that time (so handing a model to a colleague, signing, and taking it back
does not launder the signature). An administrator or superuser may not sign at all: the admin and
compliance officer roles are exclusive. Each officer approves a version once, and for a high-risk
model neither approving officer's role may have been confirmed by the other.

Each rule is returned with its outcome and a sentence saying what it forbids; `approval_sign`
records them all in the signature's leaf, with the ledger seq of the signer's officer role grant.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from governance import selectors
from governance.models import Approval, ModelVersion, OwnershipTransfer, RegisteredModel
from governance.roles import Role, roles_of

RULES = {
    "signer_is_not_registrant": "Nobody may sign a version they registered.",
    "signer_is_not_model_owner": (
        "Nobody may sign a version of a model they have owned at any time since that version was registered."
    ),
    "signer_took_no_part_in_ownership_transfer": (
        "Nobody may sign a version of a model whose ownership transfer they requested or accepted since "
        "that version was registered."
    ),
    "signer_is_not_card_author": "Nobody may sign a version whose model card they wrote.",
    "signer_is_not_administrator": (
        "Nobody who holds the admin role or superuser status may sign: administrator and compliance "
        "officer are exclusive roles."
    ),
    "signer_has_not_approved_before": (
        "Nobody may approve a version twice: each approval comes from a different officer."
    ),
    "signers_did_not_confirm_each_other": (
        "For a high-risk model, neither approving officer's role may have been confirmed by the other approver."
    ),
}


def owners_since(version: ModelVersion) -> set[int]:
    """Return the ids of everyone who has owned the version's model since it was registered."""
    owners = {version.model.owner_id}
    moves = OwnershipTransfer.objects.filter(
        model_id=version.model_id, state=OwnershipTransfer.State.ACCEPTED, decided_at__gte=version.registered_at
    ).values_list("from_owner_id", "to_owner_id")
    for before, after in moves:
        owners |= {before, after}
    return owners


def transfer_parties_since(version: ModelVersion) -> set[int]:
    """Return who requested, or accepted, a transfer of the model since the version was registered."""
    parties: set[int] = set()
    transfers = OwnershipTransfer.objects.filter(
        Q(requested_at__gte=version.registered_at) | Q(decided_at__gte=version.registered_at),
        model_id=version.model_id,
    ).values_list("requested_by_id", "to_owner_id", "state")
    for requested_by, to_owner, state in transfers:
        parties.add(requested_by)
        if state == OwnershipTransfer.State.ACCEPTED:
            parties.add(to_owner)
    return parties


def _mutual_confirmation(signer: AbstractBaseUser, version: ModelVersion, grant: dict | None) -> bool:
    """Return True when the signer and another approver of the version confirmed each other's role."""
    others = set(
        version.approvals.filter(meaning=Approval.Meaning.APPROVED)
        .exclude(signer=signer)
        .values_list("signer_id", flat=True)
    )
    if not others:
        return False
    if grant is not None and grant["confirmed_by_id"] in others:
        return True
    for other in version.approvals.filter(signer_id__in=others).select_related("signer"):
        theirs = selectors.officer_grant_of(other.signer)
        if theirs is not None and theirs["confirmed_by_id"] == signer.pk:
            return True
    return False


def separation_checks(
    signer: AbstractBaseUser, version: ModelVersion, meaning: str, grant: dict | None = None
) -> list[dict[str, Any]]:
    """Return every separation-of-duties rule for this signature with its outcome.

    `grant` is the signer's officer role grant (selectors.officer_grant_of), looked up if omitted.
    """
    if grant is None:
        grant = selectors.officer_grant_of(signer)
    roles = roles_of(signer)
    authors = set(version.cards.values_list("author_id", flat=True))
    outcomes = {
        "signer_is_not_registrant": signer.pk != version.registered_by_id,
        "signer_is_not_model_owner": signer.pk not in owners_since(version),
        "signer_took_no_part_in_ownership_transfer": signer.pk not in transfer_parties_since(version),
        "signer_is_not_card_author": signer.pk not in authors,
        "signer_is_not_administrator": not (signer.is_superuser or Role.ADMIN in roles),
    }
    if meaning == Approval.Meaning.APPROVED:
        already = version.approvals.filter(signer=signer, meaning=Approval.Meaning.APPROVED).exists()
        outcomes["signer_has_not_approved_before"] = not already
        if version.model.risk_tier == RegisteredModel.RiskTier.HIGH:
            outcomes["signers_did_not_confirm_each_other"] = not _mutual_confirmation(signer, version, grant)
    return [{"rule": rule, "passed": passed, "description": RULES[rule]} for rule, passed in outcomes.items()]


def role_grant_record(grant: dict | None) -> dict[str, Any] | None:
    """Return what a signature's leaf says about the signer's officer role grant."""
    if grant is None:
        return None
    return {
        "seq": grant["seq"],
        "key": grant["grant_key"],
        "bootstrap": grant["bootstrap"],
        "proposed_by": grant["proposed_by"],
        "confirmed_by": grant["confirmed_by"],
        "confirmed_at": grant["confirmed_at"],
    }
