"""Separation of duties judged over history: handing a model to a colleague, signing, and taking
it back does not launder a signature; nor does taking part in a transfer; messages say the rule."""

from __future__ import annotations

import pytest

from governance.errors import SeparationOfDuties
from governance.models import Approval, ModelVersion
from governance.roles import Role
from governance.services import approvals, registry
from governance.services.access import ownership_transfer_accept, ownership_transfer_request
from tests.governance.conftest import PASSWORD, make_user, register_version


def sign(user, version):
    return approvals.approval_sign(
        signer=user, version=version, password=PASSWORD, meaning="approved", reason="Reviewed the validation report."
    )


def failed_rules(refused) -> set[str]:
    return {check["rule"] for check in refused.value.errors["sod_checks"] if not check["passed"]}


@pytest.fixture
def owning_officer(db):
    return make_user("ophelia", Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER)


@pytest.fixture
def owned(owning_officer, pipeline, datasets, olga):
    """A high-risk model owned by an officer, with a version registered by the pipeline."""
    from governance.services.access import access_grant

    model = registry.model_register(
        actor=owning_officer,
        slug="churn",
        name="Churn",
        intended_purpose="Predict churn.",
        regulated_use="credit",
        risk_tier="high",
        owner=owning_officer,
        runbook="https://wiki/churn",
    )
    access_grant(actor=olga, model=model, grantee=pipeline, actions=["register"])
    return register_version(pipeline, model, datasets)


def test_the_ownership_transfer_round_trip_is_refused(owned, owning_officer, alice):
    """Refused as owner; hands the model to a colleague who accepts; still refused; takes it back."""
    with pytest.raises(SeparationOfDuties) as refused:
        sign(owning_officer, owned)
    assert failed_rules(refused) == {"signer_is_not_model_owner"}
    transfer = ownership_transfer_request(actor=owning_officer, model=owned.model, to_owner=alice)
    ownership_transfer_accept(actor=alice, transfer=transfer)
    owned.model.refresh_from_db()
    assert owned.model.owner == alice
    with pytest.raises(SeparationOfDuties) as refused:
        sign(owning_officer, owned)
    assert failed_rules(refused) == {"signer_is_not_model_owner", "signer_took_no_part_in_ownership_transfer"}
    message = str(refused.value)
    assert "Nobody may sign a version of a model they have owned at any time since that version was registered" in (
        message
    )
    assert "whose ownership transfer they requested or accepted" in message
    back = ownership_transfer_request(actor=alice, model=owned.model, to_owner=owning_officer)
    ownership_transfer_accept(actor=owning_officer, transfer=back)
    with pytest.raises(SeparationOfDuties):
        sign(owning_officer, owned)
    assert not Approval.objects.exists()
    owned.refresh_from_db()
    assert owned.status == ModelVersion.Status.REGISTERED


def test_an_officer_who_requested_a_transfer_may_not_sign(version, olga, oscar, alice):
    bob = make_user("bob", Role.MODEL_OWNER)
    transfer = ownership_transfer_request(actor=olga, model=version.model, to_owner=bob)
    ownership_transfer_accept(actor=bob, transfer=transfer)
    with pytest.raises(SeparationOfDuties, match="ownership transfer they requested or accepted") as refused:
        sign(olga, version)
    assert failed_rules(refused) == {"signer_took_no_part_in_ownership_transfer"}
    sign(oscar, version)  # an officer with no part in it still may


def test_owning_the_model_before_the_version_was_registered_does_not_count(owning_officer, pipeline, datasets, olga):
    """The rule looks back to the version's registration, not to the beginning of time."""
    from governance.services.access import access_grant

    alice = make_user("alice-2", Role.MODEL_OWNER)
    model = registry.model_register(
        actor=owning_officer,
        slug="fraud",
        name="Fraud",
        intended_purpose="x",
        regulated_use="other",
        risk_tier="low",
        owner=owning_officer,
    )
    transfer = ownership_transfer_request(actor=owning_officer, model=model, to_owner=alice)
    ownership_transfer_accept(actor=alice, transfer=transfer)
    access_grant(actor=olga, model=model, grantee=pipeline, actions=["register"])
    later = register_version(pipeline, model, datasets)
    approval = sign(owning_officer, later)
    assert all(check["passed"] for check in approval.sod_checks)


def test_refusals_say_what_is_forbidden(version, datasets):
    dual = make_user("dual", Role.PIPELINE, Role.COMPLIANCE_OFFICER)
    from governance.services.access import access_grant

    access_grant(
        actor=make_user("olive", Role.COMPLIANCE_OFFICER), model=version.model, grantee=dual, actions=["register"]
    )
    mine = register_version(dual, version.model, datasets, number="9.0.0")
    with pytest.raises(SeparationOfDuties) as refused:
        sign(dual, mine)
    message = str(refused.value)
    assert "Nobody may sign a version they registered." in message
    assert "Nobody may sign a version whose model card they wrote." in message
    assert "you did not" not in message and "you does not" not in message
