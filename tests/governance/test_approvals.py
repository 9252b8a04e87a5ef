"""Electronic signatures: re-authentication, binding hash, separation of duties, four eyes."""

from __future__ import annotations

import json

import pytest

from governance.errors import Conflict, Forbidden, ReauthenticationFailed, SeparationOfDuties
from governance.models import Approval, ModelVersion
from governance.records import sha256_of, signed_content
from governance.roles import Role
from governance.services import approvals, registry
from ledger import services as ledger_services
from ledger.models import Entry
from tests.governance.conftest import PASSWORD, make_user
from tests.identity import make_officer


def sign(user, version, meaning="approved", password=PASSWORD, **extra):
    return approvals.approval_sign(
        signer=user,
        version=version,
        password=password,
        meaning=meaning,
        reason="Reviewed the validation report.",
        **extra,
    )


def test_a_high_risk_version_needs_two_distinct_officers(version, olga, oscar):
    sign(olga, version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.IN_REVIEW
    sign(oscar, version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.APPROVED


def test_the_same_officer_cannot_approve_twice(version, olga):
    sign(olga, version)
    with pytest.raises(SeparationOfDuties, match="different officer"):
        sign(olga, version)
    assert Approval.objects.count() == 1


def test_a_low_risk_version_needs_one_approval(pipeline, datasets, alice, olga):
    from tests.governance.conftest import register_version

    low = registry.model_register(
        actor=alice, slug="low", name="Low", intended_purpose="x", regulated_use="other", risk_tier="low", owner=alice
    )
    from governance.services.access import access_grant

    access_grant(actor=olga, model=low, grantee=pipeline, actions=["register"])
    version = register_version(pipeline, low, datasets)
    sign(olga, version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.APPROVED


def test_it_refuses_a_signature_without_the_password(version, olga):
    with pytest.raises(ReauthenticationFailed):
        sign(olga, version, password="")
    with pytest.raises(ReauthenticationFailed):
        sign(olga, version, password="wrong")
    assert not Approval.objects.exists()


def test_it_refuses_an_approval_by_the_registrant_even_an_officer(model, datasets, olga):
    from governance.services.access import access_grant
    from tests.governance.conftest import register_version

    dual = make_user("dual", Role.PIPELINE, Role.COMPLIANCE_OFFICER)
    access_grant(actor=olga, model=model, grantee=dual, actions=["register"])
    version = register_version(dual, model, datasets, number="9.0.0")
    with pytest.raises(SeparationOfDuties) as refused:
        sign(dual, version)
    rules = {check["rule"]: check["passed"] for check in refused.value.errors["sod_checks"]}
    assert rules["signer_is_not_registrant"] is False
    assert rules["signer_is_not_card_author"] is False
    assert not Approval.objects.exists()


def test_it_refuses_an_approval_by_the_model_owner(version, alice):
    make_officer(alice)
    with pytest.raises(SeparationOfDuties, match="a model they have owned at any time"):
        sign(alice, version)


def test_an_admin_superuser_who_is_not_an_officer_cannot_sign(version):
    root = make_user("root", Role.ADMIN, is_superuser=True, is_staff=True)
    with pytest.raises(Forbidden, match="Only compliance officers"):
        sign(root, version)


def test_the_signature_binds_the_hash_of_the_version_and_card_signed(version, olga):
    approval = sign(olga, version)
    card = version.cards.get()
    assert approval.signed_sha256 == sha256_of(signed_content(version, card))
    assert approval.card == card


def test_every_separation_check_is_recorded_in_the_ledger_event(version, olga):
    approval = sign(olga, version)
    ledger_services.tree_integrate_all()
    leaf = json.loads(bytes(Entry.objects.get(idempotency_key=approval.ledger_key).leaf))
    assert leaf["type"] == "approval.signed"
    assert {c["rule"] for c in leaf["data"]["sod_checks"]} == {
        "signer_is_not_registrant",
        "signer_is_not_model_owner",
        "signer_took_no_part_in_ownership_transfer",
        "signer_is_not_card_author",
        "signer_is_not_administrator",
        "signer_has_not_approved_before",
        "signers_did_not_confirm_each_other",
    }
    assert all(c["passed"] for c in leaf["data"]["sod_checks"])
    assert leaf["data"]["signer_name"] == "Olga"


def test_a_stale_expected_hash_is_refused(version, olga):
    with pytest.raises(Conflict, match="changed since it was shown"):
        sign(olga, version, expected_sha256="0" * 64)


def test_approval_freezes_the_card(version, olga, oscar, pipeline):
    sign(olga, version)
    sign(oscar, version)
    with pytest.raises(Conflict, match="frozen"):
        registry.card_revise(actor=pipeline, version=version, content={"model_details": "changed"})


def test_a_rejection_settles_the_version_as_rejected(version, olga):
    sign(olga, version, meaning="rejected")
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.REJECTED
