"""Reconciliation throughput: records checked against their ledger leaves per second, on PostgreSQL.

What it measures, on a database filled through the services (a deployed high-risk model and
N decisions logged in batches of 1,000, each with its payload and its `decision.logged` leaf):

1. Decisions reconciled per second: `governance.reconciliation` over the decision kind alone.
   On PostgreSQL that is the fast path (one streamed join of decisions, payloads and leaves, one
   byte comparison and one commitment opening per row); the exact path (rows in chunks, one leaf
   query per chunk, field by field), which SQLite and every suspect row take, is timed too.
2. The whole `verify_ledger`: the log check (entries per second) and every kind of record.

Run it from the repository root:

    .venv/bin/python bench/reconcile_bench.py [--quick] [--database-url URL]

It uses its own database (default `postgres://postgres@127.0.0.1:5432/ledger_recbench`), made
fresh on every run. The last line is `RESULT reconcile_decisions_per_s=<n> decisions/s`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.decisions_bench import recreate_database, setup_story  # noqa: E402 — the path is set above
from bench.ledger_bench import Row, at_least, configure_environment, log, machine_line, print_table  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_recbench"
BATCH = 1_000
TARGET = 50_000  # decisions/s (the verifiable-reads requirement)


def fill_decisions(count: int) -> None:
    """Log `count` decisions through the decision service, then sequence them all."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from governance.models import RegisteredModel
    from governance.services import decisions
    from ledger import services as ledger_services
    from model_ledger_verify import canonical

    pipeline = User.objects.get(username="pipeline")
    model = RegisteredModel.objects.get(slug="bench-model")
    at = timezone.now() + timedelta(seconds=1)
    time.sleep(1.5)  # occurred_at must fall within the deployment, and not in the future
    for start in range(0, count, BATCH):
        items = []
        for n in range(start, min(start + BATCH, count)):
            features = {"income_band": str(n % 7), "utilisation": f"0.{n % 100:02d}"}
            items.append(
                {
                    "decision_id": f"bench-{n:08d}",
                    "version": "1.0.0",
                    "occurred_at": at,
                    "subject_ref": f"applicant-{n % 50_000:05d}",
                    "input_snapshot": features,
                    "input_sha256": hashlib.sha256(canonical.dumps(features)).hexdigest(),
                    "output_label": "approve" if n % 3 else "decline",
                    "output_score": f"0.{n % 1000:03d}",
                    "reasons": [{"code": "R01", "text": "Credit utilisation is high", "contribution": "0.31"}],
                    "mode": "automated",
                }
            )
        decisions.decision_log_batch(actor=pipeline, model=model, items=items)
        ledger_services.tree_integrate_all()
        if (start // BATCH) % 20 == 19:
            log(f"  {start + BATCH:,} decisions logged and sequenced")
    ledger_services.checkpoint_sign()


def bench(repeats: int) -> list[Row]:
    from django.db import connection

    from governance import reconciliation
    from governance.reconciliation.engine import reconcile_kind
    from ledger.integrity import verify_database

    kind = reconciliation.BY_NAME["decision"]
    best, best_cpu, count = 0.0, 0.0, 0
    for attempt in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        count, found = reconcile_kind(kind)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert not found, found[:3]
        rate = count / seconds
        log(f"  run {attempt + 1}: {count:,} decisions in {seconds:.2f} s ({rate:,.0f}/s, {cpu:.2f} s of CPU here)")
        best, best_cpu = max(best, rate), max(best_cpu, count / cpu)
    started = time.perf_counter()
    exact, _ = reconcile_kind(kind, kind.model.objects.all())  # a queryset: the exact path only
    exact_rate = exact / (time.perf_counter() - started)
    log(f"  exact path alone: {exact_rate:,.0f}/s")
    connection.close()
    started = time.perf_counter()
    report = verify_database()
    log_seconds = time.perf_counter() - started
    started = time.perf_counter()
    whole = reconciliation.reconcile()
    all_seconds = time.perf_counter() - started
    assert not whole.mismatches, [m.line() for m in whole.mismatches[:3]]
    return [
        at_least("decisions reconciled (best run)", best, "decisions/s", TARGET),
        Row("decisions per CPU-second of this process (load-independent)", best_cpu, "decisions/s"),
        Row("decisions in the database", count, "decisions"),
        Row("decisions, exact path alone (SQLite's path)", exact_rate, "decisions/s"),
        Row("log check (verify_ledger --log-only)", report.entries / log_seconds, "entries/s"),
        Row("every record of every kind", whole.total / all_seconds, "records/s"),
        Row("verify_ledger, whole run", log_seconds + all_seconds, "s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (20,000 decisions, about a minute)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    args = parser.parse_args(argv)
    count, repeats = (20_000, 3) if args.quick else (200_000, 3)

    key_dir = Path(tempfile.mkdtemp(prefix="recbench-"))
    configure_environment(args.database_url, key_dir)
    recreate_database(args.database_url)
    import django

    django.setup()
    log("setting up a deployed model")
    setup_story()
    log(f"logging {count:,} decisions through the decision service")
    fill_decisions(count)
    log("reconciling")
    rows = bench(repeats)
    print()
    print(machine_line())
    print(f"load average after the run: {os.getloadavg()[0]:.1f} (other work on the machine skews results)")
    print_table(rows)
    print(f"RESULT reconcile_decisions_per_s={rows[0].value:.0f} decisions/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
