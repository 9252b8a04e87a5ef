"""`ledgerctl` end to end against a live server: the pipeline's and the auditor's day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from model_ledger_verify.client.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server, settings, tmp_path, eager_tasks):
    from django.contrib.auth.models import User
    from knox.models import AuthToken

    from governance.roles import Role
    from governance.services import registry
    from governance.services.access import access_grant
    from tests.identity import add_roles

    settings.DEBUG = True  # development report seal, generated in tmp_path
    settings.VAR_DIR = tmp_path / "var"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "reports")},
        },
    }

    def person(name: str, role: str) -> User:
        user = User.objects.create_user(name, password="pw-123456789")
        add_roles(user, role)
        return user

    owner, pipeline = person("olivia", Role.MODEL_OWNER), person("pipe", Role.PIPELINE)
    officers = [person("o1", Role.COMPLIANCE_OFFICER), person("o2", Role.COMPLIANCE_OFFICER)]
    auditor = person("audrey", Role.AUDITOR)
    model = registry.model_register(
        actor=owner,
        slug="credit",
        name="Credit",
        intended_purpose="x",
        regulated_use="credit",
        risk_tier="high",
        owner=owner,
        runbook="https://runbook",
    )
    access_grant(actor=officers[0], model=model, grantee=pipeline, actions=["register", "log"])
    return {
        "url": live_server.url,
        "pipeline": AuthToken.objects.create(pipeline)[1],
        "auditor": AuthToken.objects.create(auditor)[1],
        "officers": officers,
        "tmp": tmp_path,
    }


def run(capsys, world, token: str, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--url", world["url"], "--token", world[token]] if argv[0] != "hash-dataset" else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_pipeline_registers_signs_off_deploys_logs_and_an_auditor_verifies(world, capsys, monkeypatch):
    tmp = world["tmp"]
    (tmp / "train").mkdir()
    (tmp / "train" / "part-0.csv").write_text("x,y\n1,0\n")
    (tmp / "model.bin").write_bytes(b"weights")
    spec = {
        "model": "credit",
        "version": "1.0.0",
        "artifact": {"path": str(tmp / "model.bin"), "uri": "s3://m/1"},
        "datasets": [{"path": str(tmp / "train"), "role": "training", "name": "train", "uri": "s3://d/train"}],
        "code_commit": "abc123",
        "metrics": [{"name": "auc", "value": "0.87"}],
    }
    (tmp / "spec.json").write_text(json.dumps(spec))

    code, out, _ = run(capsys, world, "pipeline", "hash-dataset", str(tmp / "train"))
    assert code == 0
    root = out.strip().splitlines()[-1]
    assert len(root) == 64

    code, out, err = run(capsys, world, "pipeline", "register-version", "--spec", str(tmp / "spec.json"))
    assert code == 0, err
    assert "registered credit 1.0.0" in out
    from governance.models import Dataset, ModelVersion

    assert Dataset.objects.get().sha256 == root
    # a single-file artifact: the manifest of one file named model.bin
    assert len(ModelVersion.objects.get().artifact_sha256) == 64

    card = {
        s: "filled"
        for s in (
            "model_details",
            "intended_use",
            "factors",
            "metrics",
            "evaluation_data",
            "training_data",
            "quantitative_analyses",
            "ethical_considerations",
            "caveats_and_recommendations",
        )
    }
    (tmp / "card.json").write_text(json.dumps(card))
    code, out, err = run(capsys, world, "pipeline", "card", "credit", "1.0.0", str(tmp / "card.json"))
    assert code == 0, err

    code, out, _ = run(capsys, world, "pipeline", "gates", "credit", "1.0.0")
    assert code == 1  # no approvals, monitoring or CI evidence yet
    assert "[FAIL]" in out

    # Promoting an unapproved version names each failing gate on a line of its own.
    code, _, err = run(capsys, world, "pipeline", "promote", "credit", "1.0.0", "--env", "production")
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(
        "error: credit 1.0.0 is registered; only approved versions are deployed. Failing gates:"
    )
    assert "  [FAIL] approvals: " in "\n".join(lines) and all(len(line) <= 320 for line in lines)
    assert all(line.startswith("  [FAIL] ") for line in lines[1:])

    from governance.services import approvals

    version = ModelVersion.objects.get()
    for officer in world["officers"]:
        approvals.approval_sign(
            signer=officer, version=version, password="pw-123456789", meaning="approved", reason="ok"
        )
    code, _, err = run(capsys, world, "pipeline", "promote", "credit", "1.0.0", "--env", "production")
    assert code == 1
    assert "[FAIL]" in err  # each failing gate is listed
    code, out, err = run(capsys, world, "pipeline", "promote", "credit", "1.0.0", "--env", "staging")
    assert code == 0, err
    import time

    served_from = datetime.now(UTC).isoformat()
    time.sleep(1.1)
    window = ["--window-start", served_from, "--window-end", datetime.now(UTC).isoformat(), "--environment", "staging"]
    code, out, err = run(capsys, world, "pipeline", "post-metrics", "credit", "1.0.0", "--metric", "auc=0.86", *window)
    assert (code, out.strip()) == (0, "posted 1 observation(s)"), err

    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    lines = [
        json.dumps(
            {
                "decision_id": f"d-{n}",
                "version": "1.0.0",
                "occurred_at": at,
                "input_sha256": "a" * 64,
                "output_label": "approve",
                "mode": "automated",
            }
        )
        for n in range(1500)
    ]
    (tmp / "decisions.ndjson").write_text("\n".join(lines) + "\n")
    import time

    time.sleep(1.1)
    # An interrupted run saved progress after its first batch; the next run resumes there.
    (tmp / "decisions.ndjson.ledgerctl-progress").write_text("1000")
    code, out, err = run(capsys, world, "pipeline", "log-decisions", "credit", str(tmp / "decisions.ndjson"))
    assert code == 0, err
    assert "500 new" in out
    code, out, err = run(capsys, world, "pipeline", "log-decisions", "credit", str(tmp / "decisions.ndjson"))
    assert "1,500 decisions sent, 1,000 new" in out  # no progress saved: all resent, the first 500 known
    assert not (tmp / "decisions.ndjson.ledgerctl-progress").exists()

    # A refused batch prints one line per kind of item error, not one per item.
    bad = [json.loads(line) | {"decision_id": f"bad-{n}", "mode": "psychic"} for n, line in enumerate(lines[:1000])]
    (tmp / "bad.ndjson").write_text("\n".join(json.dumps(item) for item in bad) + "\n")
    code, out, err = run(capsys, world, "pipeline", "log-decisions", "credit", str(tmp / "bad.ndjson"))
    assert code == 1
    assert err.splitlines()[-1] == '  mode: "psychic" is not a valid choice. — 1,000 items (bad-0, bad-1, bad-2, …)'
    assert len(err.splitlines()) == 2

    code, out, err = run(capsys, world, "auditor", "report", "version", "credit", "1.0.0", "--out", str(tmp / "r.pdf"))
    assert code == 0, err
    from governance.reports.credentials import sealing_credentials
    from ledger.models import SigningKey

    (tmp / "root.pem").write_bytes(sealing_credentials().trust_root_pem)
    key = SigningKey.objects.get().verifier_key
    code = main(["verify-report", str(tmp / "r.pdf"), "--trust", str(tmp / "root.pem"), "--key", key])
    assert code == 0
    data = bytearray((tmp / "r.pdf").read_bytes())
    data[500] ^= 1
    (tmp / "bad.pdf").write_bytes(bytes(data))
    assert main(["verify-report", str(tmp / "bad.pdf"), "--trust", str(tmp / "root.pem"), "--key", key]) == 1


def test_clear_errors_for_a_bad_token_a_dead_server_and_a_missing_file(world, capsys):
    assert main(["gates", "credit", "1.0.0", "--url", world["url"], "--token", "nope"]) == 3
    assert "LEDGER_TOKEN" in capsys.readouterr().err
    assert main(["gates", "credit", "1.0.0", "--url", "http://127.0.0.1:9", "--token", "x"]) == 3
    assert "Cannot reach" in capsys.readouterr().err
    assert main(["card", "credit", "1.0.0", "/nonexistent.json", "--url", world["url"], "--token", "x"]) == 2


def test_validation_errors_are_listed_per_field(world, capsys):
    code = main(
        [
            "register-version",
            "--model",
            "credit",
            "--version",
            "bad version!",
            "--artifact-uri",
            "s3://x",
            "--dataset",
            "training=" + "0" * 64,
            "--url",
            world["url"],
            "--token",
            world["pipeline"],
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "version:" in err or "artifact_sha256:" in err
