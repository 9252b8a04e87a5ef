"""How ledgerctl words refusals and progress: one line per failing gate or kind of item error, a bar
on a terminal and plain lines elsewhere."""

from __future__ import annotations

import io

from model_ledger_verify.client.api import ApiError
from model_ledger_verify.client.progress import ByteProgress
from model_ledger_verify.client.refusals import refusal_lines

GATES = [
    {"gate": "reproducible_pipeline", "passed": True, "reason": "Commit, run and lock recorded."},
    {"gate": "approvals", "passed": False, "reason": "Needs two officers; has none. " + "x" * 3_000},
    {"gate": "model_card", "passed": False, "reason": "Sections empty: caveats_and_recommendations."},
]


def test_a_gate_refusal_prints_one_short_line_per_failing_gate():
    lines = refusal_lines(
        409, "conflict", "credit 1.0.0 is registered; only approved versions are deployed.", {"gates": GATES}
    )
    assert lines[0] == "credit 1.0.0 is registered; only approved versions are deployed. (HTTP 409, conflict)"
    assert [line.split(":")[0] for line in lines[1:]] == ["  [FAIL] approvals", "  [FAIL] model_card"]
    assert all(len(line) <= 300 for line in lines)


def test_item_errors_are_grouped_by_kind_with_counts_and_the_first_ids():
    errors = {str(n): {"output_label": ["This field is required."]} for n in range(1_001)}
    errors["7"] = {"mode": ['"psychic" is not a valid choice.'], "output_label": ["This field is required."]}
    ids = [f"d-{n}" for n in range(1_001)]
    lines = refusal_lines(400, "invalid", "The input is not valid; nothing was written.", errors, ids)
    assert lines[1:] == [
        "  output_label: This field is required. — 1,001 items (d-0, d-1, d-2, …)",
        '  mode: "psychic" is not a valid choice. — 1 item (d-7)',
    ]


def test_many_kinds_of_item_error_are_cut_short_and_json_keeps_them_all():
    errors = {str(n): {"decision_id": [f"Repeats item {n - 1}."]} for n in range(1, 40)}
    refusal = ApiError(400, "invalid", "Not valid.", errors)
    lines = refusal.lines()
    assert len(lines) == 12 and lines[-1] == "  … and 29 more kinds of error (--json lists every one)"
    assert '"39": {"decision_id": ["Repeats item 38."]}' in refusal.as_json()


def test_field_errors_are_one_line_each():
    lines = str(ApiError(400, "invalid", "Not valid.", {"version": ["Bad."], "sha256": ["Too short."]})).splitlines()
    assert lines == ["Not valid. (HTTP 400, invalid)", "  version: Bad.", "  sha256: Too short."]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal():
    terminal = Terminal()
    progress = ByteProgress(terminal, "decisions", unit="decisions")
    progress(10_000, 10_000)
    assert terminal.getvalue().startswith("\rdecisions: [" + "#" * 30 + "] 10,000/10,000 decisions (100%)")


def test_progress_writes_plain_lines_elsewhere():
    log = io.StringIO()
    progress = ByteProgress(log, "decisions", unit="decisions")
    progress(1_000, 10_000)
    progress(10_000, 10_000)
    assert log.getvalue() == "decisions: 1,000/10,000 decisions (10%)\ndecisions: 10,000/10,000 decisions (100%)\n"
