"""Benchmark of the real reports of the demo, from the database to the sealed PDF.

`bench/report_bench.py` renders and seals synthetic content without a database; this one times
the reports a user gets for the demo data (`manage.py seed_demo`): the dossier of credit-risk
2.0.0, its Annex IV documentation and the authority edition of one decision report. For each,
the median wall time of building the content from the database (`report_build`), of rendering
it, and of the whole generation (`render_and_seal`: the records checked against their leaves,
built, rendered, proved and sealed; storage excluded).

    DATABASE_URL=postgres://… DJANGO_DEBUG=1 .venv/bin/python bench/report_demo_bench.py [--quick]

It reads the database named by DATABASE_URL, which must hold the demo, and writes nothing to
it but the report rows it times (pending, never generated). ``--quick`` takes three runs
instead of eleven.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 11
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.utils import timezone

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
    print(f"RESULT dossier_whole_median_ms={results['dossier']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
