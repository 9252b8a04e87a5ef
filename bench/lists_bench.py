"""List latency for a pipeline granted a fifth of the models, through the whole API handler.

What it measures: `GET /api/v1/models` and `GET /api/v1/versions?status=approved` (50 per page)
with many models and ten versions each, for a pipeline whose object permissions (django-guardian
rows) cover one model in five, and for an auditor who reads everything by role. Each request goes
through Django's middleware, Knox token authentication, the DRF view, its filter, pagination
(with its COUNT) and JSON rendering, in this process (no HTTP server, no network), so the CPU
time of a request (this process plus its PostgreSQL backend, read from /proc) is measured next
to the wall-clock percentiles: on a shared machine the CPU figure moves much less.

Run it from the repository root:

    .venv/bin/python bench/lists_bench.py [--quick] [--database-url URL] [--profile]

`--quick` uses 2,000 models and 20,000 versions, the full run 10,000 and 100,000 (the target's
size). The database (default `postgres://postgres@127.0.0.1:5432/ledger_listbench`) is made
afresh on every run and vacuumed once filled, as autovacuum leaves a table that grew by inserts
(its visibility map set, so counts can read an index alone). `--reuse` keeps a database an
earlier run of the same size filled and only issues new tokens: it saves the minute a
full-size setup takes when measuring one change after another. `--profile` prints where the
pipeline's version list spends its time. The last line is `RESULT lists_p99_ms=<n> ms`, the
slowest p99 of the pipeline's two lists.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.decisions_bench import fill_inventory, recreate_database, setup_story  # noqa: E402
from bench.ledger_bench import (  # noqa: E402 — the path is set just above
    Cpu,
    Row,
    at_most,
    configure_environment,
    log,
    machine_line,
    percentile,
    print_table,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_listbench"
PATHS = ("/api/v1/models?page_size=50", "/api/v1/versions?status=approved&page_size=50")
TARGET_P99_MS = 30


def bench_lists(tokens: dict[str, str], samples: int) -> list[Row]:
    from django.test import Client

    client = Client()
    rows = []
    for who, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for path in PATHS:
            for _ in range(5):  # warm the connection, caches and the plans
                client.get(path, headers=headers)
            timings, cpu_times = [], []
            cpu_start = Cpu.now()
            for _ in range(samples):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_times.append((time.process_time() - cpu_started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} as {who}: {response.status_code} {response.content[:200]!r}")
            cpu_end = Cpu.now()
            cpu = cpu_end.since(cpu_start) / samples * 1000
            python = (cpu_end.python - cpu_start.python) / samples * 1000
            name = path.split("?")[0].removeprefix("/api/v1/")
            if "status=" in path:
                name += "?status=approved"
            rows.append(Row(f"GET {name} p50 ({who})", percentile(timings, 50), "ms"))
            rows.append(at_most(f"GET {name} p99 ({who})", percentile(timings, 99), "ms", TARGET_P99_MS))
            rows.append(Row(f"  CPU per request, Python + PG ({who})", cpu, "ms"))
            rows.append(Row(f"  of which Python ({who})", python, "ms"))
            # The slowest requests' own CPU: a garbage collection pass inside a request shows here.
            rows.append(Row(f"  Python CPU of a request, p99 ({who})", percentile(cpu_times, 99), "ms"))
    return rows


def profile_list(token: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    path = PATHS[1]
    with CaptureQueriesContext(connection) as queries:
        client.get(path, headers=headers)
    print(f"\n{len(queries)} queries for {path}:")
    for query in queries.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:300]}")
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [client.get(path, headers=headers) for _ in range(50)])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(25)
    print(out.getvalue())


def holds_inventory(url: str, models: int) -> bool:
    """Return whether the database at `url` exists and holds a filled inventory of `models` models."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            # The guardian rows are written last: a setup that stopped half way has none.
            row = conn.execute(
                "SELECT (SELECT count(*) FROM governance_registeredmodel WHERE slug LIKE 'm-%%'),"
                " (SELECT count(*) FROM governance_modeluserobjectpermission)"
            ).fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == models and row[1] > models // 5


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def _user(name: str):
    from django.contrib.auth.models import User

    return User.objects.get(username=name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 models and 20,000 versions")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--profile", action="store_true", help="profile the pipeline's version list")
    parser.add_argument("--reuse", action="store_true", help="keep a database an earlier run of this size filled")
    args = parser.parse_args(argv)
    models, samples = (2_000, 100) if args.quick else (10_000, 400)

    configure_environment(args.database_url, Path(tempfile.mkdtemp(prefix="listbench-")))
    os.environ["ALLOWED_HOSTS"] = "testserver"
    reused = args.reuse and holds_inventory(args.database_url, models)
    if not reused:
        recreate_database(args.database_url)
    import django

    django.setup()
    if reused:
        from django.core.management import call_command
        from knox.models import AuthToken

        log(f"reusing the inventory of {models:,} models; migrating and issuing tokens")
        call_command("migrate", interactive=False, verbosity=0)
        pipeline_token, auditor_token = (AuthToken.objects.create(_user(name))[1] for name in ("pipeline", "auditor"))
    else:
        log("setting up users, a model and tokens")
        pipeline_token, auditor_token = setup_story()
        log(f"filling the inventory: {models:,} models, {models * 10:,} versions, 1/5 granted")
        fill_inventory(models, 10, granted=models // 5)
        vacuum()
    try:
        from config.heap import freeze_startup_heap
    except ImportError:  # a checkout from before config/heap.py, for before/after runs
        pass
    else:
        freeze_startup_heap()  # as config/wsgi.py does in every web process
    log(f"timing list endpoints, {samples} requests each")
    rows = bench_lists({"pipeline, 1/5 granted": pipeline_token, "auditor": auditor_token}, samples)
    if args.profile:
        profile_list(pipeline_token)
    print()
    print(machine_line())
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work skews wall time)")
    print(f"inventory: {models:,} models, {models * 10:,} versions; pipeline granted {models // 5:,} models")
    print_table(rows)
    worst = max(row.value for row in rows if row.metric.startswith("GET") and "p99 (pipeline" in row.metric)
    print(f"RESULT lists_p99_ms={worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
