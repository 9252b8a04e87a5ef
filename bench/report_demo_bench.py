"""Benchmark of the real reports of the demo, from the database to the sealed PDF.

`bench/report_bench.py` renders and seals synthetic content without a database; this one times
the reports a user gets for the demo data (`manage.py seed_demo`): the dossier of credit-risk
2.0.0, its Annex IV documentation and the authority edition of one decision report. For each,
the median wall time of building the content from the database (`report_build`), of rendering
it, and of the whole generation (`render_and_seal`: the records checked against their leaves,
built, rendered, proved and sealed; storage excluded).

    .venv/bin/python bench/report_demo_bench.py [--quick] [--database-url URL]

It uses its own database (default `postgres://postgres@127.0.0.1:5432/ledger_reportdemo`, or
DATABASE_URL when set), created, migrated and given the demo (`seed_demo --decisions 10000`,
with the development keys: DJANGO_DEBUG=1) when it does not hold it yet; after that it writes
nothing but the report rows it times (pending, never generated). ``--quick`` takes three runs
instead of eleven. The last line is `RESULT dossier_whole_median_ms=<n> ms`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_reportdemo"
DEMO_DECISIONS = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 11
    from bench.ledger_bench import ensure_database, log, machine_line

    os.environ.update({"DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "config.settings"})
    os.environ.setdefault("DJANGO_DEBUG", "1")  # the demo's development keys seal the reports
    os.environ.pop("CELERY_BROKER_URL", None)
    ensure_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from governance.models import RegisteredModel

    call_command("migrate", verbosity=0)
    if not RegisteredModel.objects.filter(slug="credit-risk").exists():
        log(f"seeding the demo ({DEMO_DECISIONS:,} decisions) into {args.database_url}")
        call_command("seed_demo", decisions=DEMO_DECISIONS, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(machine_line())
    print(f"load average at start {os.getloadavg()[0]:.2f}; median of {runs} runs each")

    from governance.models import Decision, ModelVersion, Report
    from governance.reports import renderer
    from governance.services.reports import render_and_seal, report_build

    version = ModelVersion.objects.select_related("model").get(model__slug="credit-risk", version="2.0.0")
    decision = Decision.objects.filter(model=version.model, overridden=True).order_by("decision_id").first()
    targets = {"dossier": 500.0, "annex-iv": None, "decision": 250.0}
    subjects = {
        "dossier": {"kind": "version", "version": version},
        "annex-iv": {"kind": "annex-iv", "version": version},
        "decision": {"kind": "decision", "version": decision.version, "decision": decision},
    }
    results: dict[str, float] = {}
    print(f"{'report':<10} {'pages':>5} {'build':>9} {'render':>9} {'whole':>9} {'target':>9}")
    for name, subject in subjects.items():
        report = Report.objects.create(model=version.model, requested_at=timezone.now(), **subject)
        now = timezone.now()
        build = _median_ms(lambda r=report, at=now: report_build(r, at, development=True), runs)
        content = report_build(report, now, development=True).content
        render = _median_ms(lambda c=content: renderer.render(c), runs)
        pdf = renderer.render(content)
        whole = _median_ms(lambda r=report: render_and_seal(r, timezone.now()), runs)
        results[name] = whole
        target = targets[name]
        print(
            f"{name:<10} {pdf.count(b'/Type /Page') - pdf.count(b'/Type /Pages'):>5} {build:>7.0f} ms "
            f"{render:>6.0f} ms {whole:>6.0f} ms {f'≤ {target:.0f} ms' if target else '-':>9}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print(f"RESULT dossier_whole_median_ms={results['dossier']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
