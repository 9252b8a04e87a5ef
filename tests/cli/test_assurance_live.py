"""`ledgerctl` records the classification, risks, oversight measures and findings on a live server."""

from __future__ import annotations

import pytest

from model_ledger_verify.client.cli import main
from tests.cli.test_ledgerctl_live import world  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _token(user) -> str:
    from knox.models import AuthToken

    return AuthToken.objects.create(user)[1]


def test_an_owner_and_an_officer_record_assurance_facts(world, capsys):
    from django.contrib.auth.models import User

    from governance.models import Classification, OversightMeasure, RegisteredModel, RiskEntry, ValidationFinding
    from governance.services import registry
    from tests.governance.world import register_version

    owner, pipeline = User.objects.get(username="olivia"), User.objects.get(username="pipe")
    model = RegisteredModel.objects.get(slug="credit")
    datasets = [
        registry.dataset_register(actor=pipeline, name=n, uri=f"s3://d/{n}", sha256=f"{i + 1:x}" * 64, size_bytes=9)[0]
        for i, n in enumerate(("train", "validation", "test"))
    ]
    register_version(pipeline, model, datasets)
    common = ["--url", world["url"], "--token"]
    classify = ["classify", "credit", "--purpose", "Score applicants", "--annex-iii", "5(b)"]
    assert main([*classify, *common, _token(owner)]) == 0
    assert "Recorded classification classification revision 1" in capsys.readouterr().out
    risk = ["record-risk", "credit", "r-01", "--hazard", "Proxy discrimination", "--residual", "medium"]
    assert main([*risk, *common, _token(owner)]) == 0
    oversight = ["record-oversight", "credit", "o-01", "--measure", "Declines reviewed", "--responsible", "Ops"]
    assert main([*oversight, *common, _token(owner)]) == 0
    finding = ["record-finding", "credit", "1.0.0", "f-01", "--title", "Short back-test", "--severity", "low"]
    assert main([*finding, *common, _token(owner)]) == 1  # owners do not validate their own model
    assert main([*finding, *common, _token(world["officers"][0])]) == 0
    capsys.readouterr()
    accepted = ["record-risk", "credit", "r-02", "--hazard", "x", "--residual", "low", "--acceptance", "accepted"]
    assert main([*accepted, *common, _token(owner)]) == 1
    assert "acceptance_note" in capsys.readouterr().err
    assert Classification.objects.get().annex_iii == "5(b)"
    assert RiskEntry.objects.get().residual_level == "medium"
    assert OversightMeasure.objects.get().responsible == "Ops"
    assert ValidationFinding.objects.get().title == "Short back-test"
    out = world["tmp"] / "annex-iv.pdf"
    report = ["report", "annex-iv", "credit", "1.0.0", "--out", str(out), *common, world["auditor"]]
    assert main(report) == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(b"%PDF")
