"""Misconfigured witnesses are a system check error that says the fix, never a 500 later."""

from __future__ import annotations

from ledger.checks import check_witnesses
from model_ledger_verify.tlog.cosign import Cosigner, generate_cosigner_key


def test_it_reports_a_policy_that_cannot_be_met(settings):
    key = Cosigner.from_string(generate_cosigner_key("w.example/1")).verifier().verifier_key()
    settings.LEDGER_WITNESSES = [f"https://w.example {key}"]
    settings.LEDGER_WITNESS_POLICY = 2
    [error] = check_witnesses()
    assert error.id == "ledger.E010" and "cannot be met" in error.msg
    settings.LEDGER_WITNESS_POLICY = 1
    assert check_witnesses() == []


def test_it_reports_a_witness_entry_without_a_key(settings):
    settings.LEDGER_WITNESSES = ["https://w.example"]
    [error] = check_witnesses()
    assert "<URL> <witness verifier key>" in error.msg


def test_it_warns_when_the_lag_allowed_is_shorter_than_two_checkpoint_intervals(settings):
    key = Cosigner.from_string(generate_cosigner_key("w.example/1")).verifier().verifier_key()
    settings.LEDGER_WITNESSES = [f"https://w.example {key}"]
    settings.LEDGER_WITNESS_POLICY = 1
    settings.LEDGER_CHECKPOINT_INTERVAL, settings.LEDGER_WITNESS_MAX_LAG = 60, 90
    [warning] = check_witnesses()
    assert warning.id == "ledger.W011" and "LEDGER_WITNESS_MAX_LAG (90 s)" in warning.msg
    settings.LEDGER_WITNESS_MAX_LAG = 120
    assert check_witnesses() == []
