"""Benchmark of audit-report rendering and sealing, without a database.

What it measures, for two synthetic reports shaped like the real ones:

- a model-version dossier (about eight A4 pages: identification, governance, data, three
  charts, approvals, deployment history, an audit trail and the integrity appendix);
- a single regulated-decision report (about two pages: identification, timeline, inputs,
  explanation, oversight and the integrity appendix);

the median wall time of ``renderer.render``, of ``sealing.build_manifest`` plus
``sealing.attach_manifest``, of ``sealing.seal`` (PAdES B-B with the development ECDSA P-256
credentials), of the three together, and of ``verify.verify_report``. Targets: a dossier
rendered and sealed in at most 0.5 s, a decision report in at most 0.25 s.

Run it from the repository root:

    .venv/bin/python bench/report_bench.py [--quick] [--repeat N]

``--quick`` takes five timed runs per report instead of twenty-five. The last line of output
is ``RESULT dossier_seal_median_ms=<n> ms`` (render, manifest and seal of the dossier).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository root.
    sys.path.insert(0, str(REPO))

from governance.reports import renderer, sealing, twin  # noqa: E402
from governance.reports.content import (  # noqa: E402
    BarChart,
    Callout,
    KeyValues,
    LineChart,
    Monospace,
    Paragraph,
    ReportContent,
    Section,
    Table,
    Timeline,
)
from model_ledger_verify import checkpoints, merkle, notes  # noqa: E402
from model_ledger_verify import report as verify  # noqa: E402

ORIGIN = "bench.example/ledger"
LOG_SIZE = 4096
GENERATED_AT = datetime(2026, 11, 27, 23, 40, 1, 123456, tzinfo=UTC)
TARGET_MS = {"dossier": 500.0, "decision": 250.0}
PEOPLE = (
    "Αθηνά Παπαδοπούλου",
    "Дмитрий Иванов",
    "Zoë Ångström-Núñez",
    "فاطمة الزهراء",
    "Kofi Mensah",
    "Juan Carlos Pérez",
)


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def ledger_evidence(cited: int) -> tuple[dict[str, Any], list[str]]:
    """Return ledger evidence citing ``cited`` entries of a synthetic log, and its key."""
    signer = notes.Signer.from_string(notes.generate_signer_key(ORIGIN))
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(LOG_SIZE)]
    checkpoint = checkpoints.Checkpoint(ORIGIN, LOG_SIZE, merkle.root(leaves))
    entries = []
    for i in range(cited):
        seq = (i * 977 + 13) % LOG_SIZE
        proof = merkle.inclusion_proof(seq, leaves)
        entries.append({"seq": seq, "leaf_hash": leaves[seq].hex(), "proof": [p.hex() for p in proof]})
    evidence = {
        "origin": ORIGIN,
        "checkpoint": checkpoints.sign_checkpoint(checkpoint, signer),
        "entries": entries,
    }
    return evidence, [signer.verifier_key()]


def integrity_section(evidence: dict[str, Any]) -> Section:
    entries = evidence["entries"]
    rows = tuple((str(e["seq"]), e["leaf_hash"], str(len(e["proof"]))) for e in entries)
    first = entries[0]
    return Section(
        "Integrity appendix and seal",
        (
            Paragraph(
                "Every record cited in this report is an entry of the append-only ledger. "
                "The checkpoint below is signed by the ledger key; each entry's inclusion "
                "proof leads from its leaf hash to the checkpoint's root hash (RFC 9162)."
            ),
            Monospace(evidence["checkpoint"]),
            Table(("Seq", "Leaf hash", "Proof length"), rows, (1, 6, 1.4)),
            Paragraph(f"Inclusion proof of entry {first['seq']}:"),
            Monospace("\n".join(first["proof"])),
            Paragraph("To verify this file offline:"),
            Monospace(
                "ledgerctl verify-report report.pdf --trust-root seal-ca.pem \\\n"
                "    --key 'bench.example/ledger+1a2b3c4d+AXm2...'"
            ),
        ),
    )


def dossier_content(evidence: dict[str, Any]) -> ReportContent:
    """Return a model-version dossier of about eight pages with three charts."""
    t0 = GENERATED_AT - timedelta(days=200)
    digest = _hex("artifact")
    approvals = tuple(
        (
            PEOPLE[i % len(PEOPLE)],
            ("model owner", "validator", "approver", "risk officer")[i % 4],
            (t0 + timedelta(days=3 * i, hours=i)).strftime("%Y-%m-%d %H:%M UTC"),
            ("authored", "reviewed", "approved", "accepted residual risk")[i % 4],
            _hex(f"approval {i}"),
            "password + TOTP",
        )
        for i in range(16)
    )
    deployments = tuple(
        (
            (t0 + timedelta(days=9 * i)).strftime("%Y-%m-%d"),
            ("promote", "rollback", "promote", "suspend", "resume")[i % 5],
            ("staging", "production-eu", "production-us")[i % 3],
            f"ci-run-{48213 + i}",
            "within pre-determined change envelope" if i % 4 else "substantial modification: no",
        )
        for i in range(18)
    )
    trail = tuple(
        (
            (t0 + timedelta(hours=7 * i)).strftime("%Y-%m-%d %H:%M:%S"),
            f"user:{PEOPLE[i % len(PEOPLE)]}",
            ("create", "view", "export", "correct", "view")[i % 5],
            f"field threshold: 0.6{i % 10} → 0.6{(i + 1) % 10}" if i % 5 == 3 else "",
        )
        for i in range(110)
    )
    groups = ("18-25", "26-40", "41-55", "56-65", "65+", "undisclosed")
    weeks = tuple(f"2026-W{w:02d}" for w in range(14, 40))
    return ReportContent(
        kind="version",
        title="Model-version audit report — credit-risk 3.2.0",
        report_id="RPT-2026-V-000123",
        generated_at=GENERATED_AT,
        subject="model:credit-risk version 3.2.0",
        development=True,
        footer_note="Verify offline: ledgerctl verify-report report.pdf --trust-root seal-ca.pem",
        title_rows=(
            ("Purpose", "Regulator examination"),
            ("Requester", "Zoë Ångström-Núñez, supervisory authority"),
            ("Template", "model-version audit report, template 1"),
            ("Regimes in scope", "EU AI Act (high-risk, Annex III 5(b)); SR 11-7; GDPR"),
            ("Redaction level", "Full (authority)"),
        ),
        sections=(
            Section(
                "1. Identification",
                (
                    KeyValues(
                        (
                            ("System", "credit-risk (consumer lending scorecard)"),
                            ("Version", "3.2.0, previous 3.1.4"),
                            ("Artifact digest", f"sha256:{digest}"),
                            ("Provider", "Example Bank AG, Model Risk Division"),
                            ("Intended purpose", "Creditworthiness of natural persons"),
                            ("Deployment forms", "Batch scoring API; branch advisor console"),
                        )
                    ),
                ),
            ),
            Section(
                "2. Inventory and governance",
                (
                    KeyValues(
                        tuple(
                            (role, PEOPLE[i])
                            for i, role in enumerate(
                                ("Owner", "Developer", "Validator", "Approver", "Overseer", "Sponsor")
                            )
                        )
                    ),
                    Callout(
                        "No independent validation report on file for 3.2.0\n"
                        "FRIA (Art. 27) not uploaded\n"
                        "DPIA reference missing for the bureau data feed",
                        tone="error",
                        title="Missing evidence",
                    ),
                ),
            ),
            Section(
                "3. Data",
                (
                    Table(
                        ("Dataset", "SHA-256", "Rows", "Provenance"),
                        tuple((f"ds-{i}", _hex(f"dataset {i}"), f"{120_000 + 913 * i:,}", "bureau") for i in range(8)),
                        (1.2, 5, 1.2, 1.4),
                    ),
                    Paragraph(
                        "Representativeness was examined against the 2025 applicant "
                        "population; the 65+ group is under-represented by 4.1 points. " * 3
                    ),
                ),
            ),
            Section(
                "5. Validation and testing",
                (
                    BarChart(
                        "Approval rate by age group",
                        groups,
                        (
                            ("validation", (61.0, 70.5, 72.2, 69.0, 58.0, 64.0)),
                            ("production", (63.0, 71.0, 70.0, 68.4, 60.5, 62.0)),
                        ),
                        "approval rate, %",
                        (("four-fifths of best", 57.8),),
                    ),
                    BarChart(
                        "Impact ratio by group",
                        groups,
                        (("impact ratio", (0.84, 0.98, 1.0, 0.95, 0.80, 0.88)),),
                        "ratio to best group",
                        (("four-fifths rule", 0.8),),
                    ),
                    Table(
                        ("Metric", "Threshold", "Fixed on", "Overall", "Worst subgroup"),
                        tuple(
                            (m, t, "2026-03-02", o, w)
                            for m, t, o, w in (
                                ("AUC", "≥ 0.75", "0.812", "0.771 (65+)"),
                                ("KS", "≥ 0.35", "0.44", "0.39 (18-25)"),
                                ("Brier", "≤ 0.12", "0.094", "0.109 (65+)"),
                                ("PSI", "≤ 0.10", "0.03", "0.07 (undisclosed)"),
                            )
                        ),
                    ),
                ),
            ),
            Section(
                "7. Approvals and signatures",
                (
                    Table(
                        ("Name", "Role", "UTC", "Meaning", "Object hash", "Authentication"),
                        approvals,
                        (1.6, 1.1, 1.3, 1.2, 3.2, 1.1),
                    ),
                    Callout("Approver ≠ developer\nValidator independent", tone="ok"),
                ),
            ),
            Section(
                "8. Deployment and change history",
                (
                    Table(
                        ("Date", "Action", "Environment", "CI run", "Determination"),
                        deployments,
                        (1, 1, 1.3, 1.1, 2.6),
                    ),
                ),
            ),
            Section(
                "9. Post-market monitoring",
                (
                    LineChart(
                        "Weekly AUC and approval rate",
                        weeks,
                        (
                            ("AUC", tuple(0.80 + 0.004 * ((w * 7) % 5) for w in range(26))),
                            ("approval", tuple(0.64 + 0.006 * ((w * 3) % 4) for w in range(26))),
                        ),
                        "value",
                        (("AUC alert", 0.78),),
                    ),
                ),
            ),
            Section(
                "10. Audit trail",
                (Table(("UTC", "Actor", "Action", "Change"), trail, (1.6, 2, 0.8, 3)),),
            ),
            integrity_section(evidence),
        ),
    )


def decision_content(evidence: dict[str, Any]) -> ReportContent:
    """Return a single-decision report of about two pages."""
    t0 = GENERATED_AT - timedelta(days=12)
    steps = (
        (0, "application received"),
        (2, "bureau data gathered (pull 88341, 2026-11-15)"),
        (3, "scored by credit-risk 3.2.0"),
        (60, "human review started"),
        (95, "human review ended"),
        (96, "decision: declined"),
        (1500, "adverse-action notice sent"),
    )
    return ReportContent(
        kind="decision",
        title="Regulated-decision audit report — application A-2026-55012",
        report_id="RPT-2026-D-004711",
        generated_at=GENERATED_AT,
        subject="decision:A-2026-55012",
        development=True,
        footer_note="Verify offline: ledgerctl verify-report report.pdf --trust-root seal-ca.pem",
        title_rows=(("Purpose", "Data-subject request (GDPR Art. 15)"),),
        sections=(
            Section(
                "1. Decision identification",
                (
                    KeyValues(
                        (
                            ("Decision", "A-2026-55012, ledger seq 4051"),
                            ("Record hash", _hex("decision record")),
                            ("Deployer", "Example Bank AG"),
                            ("Jurisdiction", "DE"),
                        )
                    ),
                ),
            ),
            Section(
                "3. Timeline",
                (
                    Timeline(
                        "From application to notice",
                        tuple((t0 + timedelta(minutes=m), label) for m, label in steps),
                    ),
                    Callout("Notice sent on day 2 of 30 (Reg B 1002.9(a)(1))", tone="ok"),
                ),
            ),
            Section(
                "4. Inputs and 6. Explanation",
                (
                    Table(
                        ("Feature", "Value", "Source", "Contribution"),
                        tuple(
                            (
                                f"feature_{i}",
                                f"{i * 3.7:.1f}",
                                "bureau" if i % 2 else "applicant",
                                f"{0.31 - i * 0.03:+.2f}",
                            )
                            for i in range(10)
                        ),
                    ),
                    Paragraph(
                        "Principal reasons disclosed: debt-to-income ratio; length of credit "
                        "history. They match the two highest-scoring factors."
                    ),
                ),
            ),
            integrity_section(evidence),
        ),
    )


def _median_ms(run: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Return the median wall and CPU milliseconds of ``run`` over ``repeat`` runs, and a result.

    CPU time is this process's own; on a busy machine it stays close to the cost of the work
    while the wall time grows with the wait for a core.
    """
    result = run()  # warm-up: fonts, caches
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def bench(
    name: str,
    content: ReportContent,
    evidence: dict[str, Any],
    keys: list[str],
    credentials: sealing.SealingCredentials,
    repeat: int,
) -> dict[str, float]:
    """Return the median milliseconds of each step for one report."""

    def render() -> bytes:
        return renderer.render(content)

    def attach(pdf: bytes) -> bytes:
        # The machine-readable twin (report.json) is built and embedded here, as in production.
        report_json = twin.twin_json(content)
        manifest = sealing.build_manifest(
            pdf,
            report_id=content.report_id,
            kind=content.kind,
            subject=content.subject,
            generated_at=content.generated_at,
            credentials=credentials,
            ledger=evidence,
            twin_sha256=hashlib.sha256(report_json).hexdigest(),
        )
        return sealing.attach_manifest(pdf, manifest, twin=report_json)

    def seal(pdf: bytes) -> bytes:
        return sealing.seal(pdf, credentials, reason="Audit report seal")

    render_ms, _, pdf = _median_ms(render, repeat)
    attach_ms, _, with_manifest = _median_ms(lambda: attach(pdf), repeat)
    seal_ms, _, sealed = _median_ms(lambda: seal(with_manifest), repeat)
    total_ms, total_cpu_ms, _ = _median_ms(lambda: seal(attach(render())), repeat)
    verify_ms, _, _ = _median_ms(
        lambda: verify.verify_report(sealed, trust_roots_pem=[credentials.trust_root_pem], ledger_keys=keys),
        repeat,
    )
    return {
        "pages": float(len(re.findall(rb"/Type /Page\b(?!s)", pdf))),
        "bytes": float(len(sealed)),
        "render": render_ms,
        "attach": attach_ms,
        "seal": seal_ms,
        "total": total_ms,
        "total_cpu": total_cpu_ms,
        "verify": verify_ms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="five timed runs per step")
    parser.add_argument("--repeat", type=int, help="timed runs per step (default 25, quick 5)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 25)

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"load average {os.getloadavg()[0]:.2f}; median of {repeat} runs per step\n")
    with tempfile.TemporaryDirectory() as directory:
        credentials = sealing.development_credentials(Path(directory))
        results = {}
        for name, build, cited in (
            ("dossier", dossier_content, 40),
            ("decision", decision_content, 6),
        ):
            evidence, keys = ledger_evidence(cited)
            results[name] = bench(name, build(evidence), evidence, keys, credentials, repeat)

    header = f"{'report':<10}{'pages':>6}{'KiB':>7}{'render':>9}{'attach':>9}{'seal':>9}"
    header += f"{'total':>9}{'cpu':>7}{'target':>8}{'verify':>9}   (ms, medians)"
    print(header)
    for name, r in results.items():
        print(
            f"{name:<10}{r['pages']:>6.0f}{r['bytes'] / 1024:>7.0f}{r['render']:>9.1f}"
            f"{r['attach']:>9.1f}{r['seal']:>9.1f}{r['total']:>9.1f}{r['total_cpu']:>7.1f}"
            f"{TARGET_MS[name]:>8.0f}"
            f"{r['verify']:>9.1f}"
        )
    met = all(results[n]["total"] <= TARGET_MS[n] for n in results)
    print(f"\ntargets {'met' if met else 'NOT met'}")
    print(f"RESULT dossier_seal_median_ms={results['dossier']['total']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
