"""Onboarding a model with `ledgerctl` only, against a live server: an owner registers it and sets
its policies, an officer grants the pipeline, the pipeline registers a version and sends it to
review, and everyone can ask who they are."""

from __future__ import annotations

import json

import pytest

from model_ledger_verify.client.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(live_server, eager_tasks):
    from django.contrib.auth.models import User
    from knox.models import AuthToken

    from governance.roles import Role
    from tests.identity import add_roles

    def person(name: str, role: str) -> str:
        user = User.objects.create_user(name, password="pw-123456789", first_name=name.title())
        add_roles(user, role)
        return AuthToken.objects.create(user)[1]

    return {
        "url": live_server.url,
        "owner": person("olivia", Role.MODEL_OWNER),
        "officer": person("otto", Role.COMPLIANCE_OFFICER),
        "pipeline": person("pipe", Role.PIPELINE),
        "auditor": person("audrey", Role.AUDITOR),
    }


def ledgerctl(capsys, people, who: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--url", people["url"], "--token", people[who]])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_owner_an_officer_and_a_pipeline_onboard_a_model(people, capsys, tmp_path):
    code, out, err = ledgerctl(
        capsys, people, "owner", "register-model", "card-fraud", "--name", "Card fraud",
        "--purpose", "Flag card payments for review.", "--risk-tier", "high", "--owner", "olivia",
        "--runbook", "https://wiki.example/card-fraud",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("registered model card-fraud (high risk, owner olivia; ledger seq ")

    # A pipeline that may not see the model is told there is no such model; once granted, it may.
    code, _, err = ledgerctl(capsys, people, "pipeline", "submit-review", "card-fraud", "1.0.0")
    assert code == 1 and "HTTP 404" in err
    code, out, err = ledgerctl(capsys, people, "officer", "grant", "card-fraud", "pipe", "register", "log")
    assert (code, out.split(" (")[0]) == (0, "granted register, log on card-fraud for pipe"), err
    code, out, _ = ledgerctl(capsys, people, "pipeline", "whoami")
    assert out.splitlines() == [
        "pipe (Pipe): pipeline",
        "  may: register_dataset",
        "  card-fraud: log, register, review, view",
    ]

    (tmp_path / "thresholds.json").write_text(json.dumps([{"metric": "auc", "operator": "min", "value": "0.80"}]))
    (tmp_path / "monitoring.json").write_text(
        json.dumps({"expected_interval_minutes": 60, "psi_threshold": "0.2", "ks_threshold": "0.1"})
    )
    (tmp_path / "retraining.json").write_text(json.dumps({"drift_windows": 3, "max_age_days": 365}))
    policies = [f"--{name}={tmp_path / name}.json" for name in ("thresholds", "monitoring", "retraining")]
    code, out, err = ledgerctl(capsys, people, "owner", "set-policy", "card-fraud", *policies)
    assert code == 0, err
    assert [line.split(" (")[0] for line in out.splitlines()] == [
        "set the thresholds of card-fraud",
        "set the monitoring policy of card-fraud",
        "set the retraining policy of card-fraud",
    ]
    code, _, err = ledgerctl(capsys, people, "auditor", "set-policy", "card-fraud", policies[0])
    assert code == 1 and "you lack the `oversee` right on card-fraud" in err

    code, _, err = ledgerctl(
        capsys, people, "pipeline", "register-version", "--model", "card-fraud", "--version", "1.0.0",
        "--artifact-uri", "s3://models/card-fraud/1.0.0", "--dataset", "training=" + "a" * 64,
    )  # fmt: skip
    assert code == 1  # the dataset is not registered: refused, nothing written
    from django.contrib.auth.models import User

    from governance.models import RegisteredModel
    from governance.services import registry

    registry.dataset_register(
        actor=User.objects.get(username="pipe"), name="train", uri="s3://d/train", sha256="a" * 64, size_bytes=1
    )
    model = RegisteredModel.objects.get(slug="card-fraud")
    registry.version_register(
        actor=User.objects.get(username="pipe"),
        model=model,
        version="1.0.0",
        artifact_sha256="b" * 64,
        artifact_uri="s3://models/card-fraud/1.0.0",
        datasets=[{"sha256": "a" * 64, "role": "training"}],
    )
    code, out, err = ledgerctl(capsys, people, "pipeline", "submit-review", "card-fraud", "1.0.0")
    assert code == 0, err
    assert out.startswith("card-fraud 1.0.0 is in_review (ledger seq ")

    code, out, err = ledgerctl(capsys, people, "officer", "revoke", "card-fraud", "pipe", "log")
    assert code == 0, err
    code, out, _ = ledgerctl(capsys, people, "pipeline", "whoami", "--json")
    assert json.loads(out)["models"] == [{"slug": "card-fraud", "actions": ["register", "view"]}]


def test_only_officers_and_admins_grant_and_the_refusal_says_why(people, capsys):
    ledgerctl(
        capsys, people, "owner", "register-model", "churn", "--name", "Churn", "--purpose", "Retention offers.",
        "--risk-tier", "low", "--owner", "olivia",
    )  # fmt: skip
    code, _, err = ledgerctl(capsys, people, "owner", "grant", "churn", "pipe", "register")
    assert code == 1
    assert "(HTTP 403, permission_denied)" in err and "you lack the `manage` right on churn" in err
    code, _, err = ledgerctl(capsys, people, "pipeline", "register-model", "x", "--name", "X", "--purpose", "x",
                             "--risk-tier", "low", "--owner", "olivia")  # fmt: skip
    assert code == 1 and "you lack the `register_model` right" in err
