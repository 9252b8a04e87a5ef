"""`ledgerctl verify BUNDLE --trusted-checkpoint` and `ledgerctl verify-report` with `--witness KEY`
(repeatable) and `--min-witnesses K`: a checkpoint below the witness policy fails, naming how many
cosigned and how many the policy needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.reports import sealing
from model_ledger_verify.client.cli import main
from model_ledger_verify.tlog.cosign import Cosigner, add_signatures, generate_cosigner_key
from tests.client.bundles import Bundle, build_bundle
from tests.reports.helpers import make_ledger, sealed_report


def _witnesses(count: int) -> list[Cosigner]:
    return [Cosigner.from_string(generate_cosigner_key(f"witness.test/w{i}")) for i in range(1, count + 1)]


def _cosigned(note: str, *by: Cosigner) -> str:
    text = note.split("\n\n")[0] + "\n"
    return add_signatures(note, [w.cosign(text) for w in by])


def _witness_args(witnesses: list[Cosigner]) -> list[str]:
    return [arg for w in witnesses for arg in ("--witness", w.verifier().verifier_key())]


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return build_bundle(tmp_path / "bundle")


def test_verify_applies_the_witness_policy_to_the_trusted_checkpoint(bundle, tmp_path, capsys):
    w1, w2, w3 = _witnesses(3)
    saved = tmp_path / "saved.note"
    saved.write_text(_cosigned(bundle.sign(64), w1, w2))
    args = ["verify", str(bundle.path), "--key", bundle.key, "--trusted-checkpoint", str(saved)]

    assert main([*args, *_witness_args([w1, w2, w3]), "--min-witnesses", "2"]) == 0
    capsys.readouterr()
    assert main([*args, *_witness_args([w1, w2, w3]), "--min-witnesses", "3"]) == 1
    err = capsys.readouterr().err
    assert "has 2 valid witness cosignatures" in err and "the policy needs 3" in err
    # Without --min-witnesses every --witness must have cosigned.
    assert main([*args, *_witness_args([w1, w2, w3])]) == 1
    assert main([*args, *_witness_args([w1, w2])]) == 0


def test_verify_refuses_witness_options_without_a_cosigned_checkpoint_to_check(bundle, capsys):
    [w1] = _witnesses(1)
    assert main(["verify", str(bundle.path), "--key", bundle.key, *_witness_args([w1])]) == 2
    assert "--witness checks a cosigned checkpoint" in capsys.readouterr().err


def test_verify_report_fails_a_report_whose_checkpoint_is_below_the_witness_policy(tmp_path, capsys):
    credentials = sealing.development_credentials(tmp_path / "seal")
    trust = tmp_path / "root.pem"
    trust.write_bytes(credentials.trust_root_pem)
    w1, w2 = _witnesses(2)
    ledger = make_ledger()
    ledger.checkpoint = _cosigned(ledger.checkpoint, w1)
    report = tmp_path / "report.pdf"
    report.write_bytes(sealed_report(credentials, ledger))
    args = ["verify-report", str(report), "--trust", str(trust), "--key", ledger.key, *_witness_args([w1, w2])]

    assert main([*args, "--min-witnesses", "1"]) == 0
    capsys.readouterr()
    assert main([*args, "--min-witnesses", "2"]) == 1
    err = capsys.readouterr().err
    assert "not witnessed as required" in err and "the policy needs 2" in err
