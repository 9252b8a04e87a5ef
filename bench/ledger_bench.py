"""Benchmark of the audit ledger on PostgreSQL, through the real service and selector code.

What it measures:

1. Submissions/s through ``ledger.services.submit`` (each call its own transaction, as a
   pipeline makes them) with 1, 4 and 16 concurrent writer processes; for comparison, the
   batch API ``submit_many`` (100 events per transaction) with 4 writers.
2. The sequencer ceiling: ``tree_integrate_all()`` over a pre-filled queue, in leaves/s.
3. Submit→integrated latency p50/p99: one integrator process loops ``tree_integrate()`` while
   writer processes submit at a steady rate; latency is the integrator's commit time minus the
   writer's commit time (and, as a cross-check, the leaf's ``ts`` minus the writer's commit).
4. Inclusion and consistency proof latency p50/p99 (``ledger.selectors``) after a checkpoint
   at a small and at a large tree size (100k and 1M; 10k and 20k with ``--quick``); then the
   same through the API handler (the DRF view, the caller forced) and, at the small size,
   through the whole request stack (every middleware) with a bearer token.
5. Offline verification time of the exported bundle at the large size
   (``ledger.export.export_bundle`` then ``model_ledger_verify.bundle.verify_bundle``).
6. Storage bytes per entry (``ledger_entry`` + ``ledger_node`` with their indexes).

Run it from the repository root:

    .venv/bin/python bench/ledger_bench.py [--quick] [--database-url URL] [--profile]

``--quick`` finishes in about two minutes and the full run in ten to fifteen on an idle 2-core
machine (longer when other work shares it). ``--profile`` finally runs the sequencer under
cProfile and prints where its time goes.

The benchmark uses its own database (default ``postgres://postgres@127.0.0.1:5432/ledger_bench``),
creates and migrates it when missing, and TRUNCATEs the ledger tables there between phases with
the append-only triggers disabled: never point it at a database whose ledger matters.

Rates on a shared machine move with whatever else runs there, so next to the rates the table
gives CPU time per operation (this process plus its PostgreSQL backend, read from /proc when
the server is local), which moves much less, and the ceiling that CPU cost implies.

The on-commit hook that starts the sequencer is replaced by a no-op in every benchmark
process, so phase 1 measures ``submit`` alone; the sequencer is measured on its own in phases
2 and 3. Writers are processes, not threads, so the GIL does not cap them. The last line of
output is ``RESULT sequencer_leaves_per_s=<n> leaves/s``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    # Run as a script, Python puts bench/ on the path, not the repository root.
    sys.path.insert(0, str(REPO))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledger_bench"
LEDGER_TABLES = (
    "ledger_entry",
    "ledger_node",  # before tiles (kept so that older checkouts can be measured in the same run)
    "ledger_tile",
    "ledger_checkpoint",
    "ledger_submission",
    "ledger_treestate",
    "ledger_signingkey",
)
EVENT_TYPES = ("model.registered", "version.registered", "approval.signed", "decision.logged")
# The integrator's pause when the queue is empty: short, so it adds little to the latency.
IDLE_SLEEP_SECONDS = 0.005
# How long the parent waits for child processes to start (16 Django start-ups on 2 cores).
START_TIMEOUT_SECONDS = 300.0
# Leaves verified against the signed root after each proof run: a correctness guard, untimed.
PROOFS_CHECKED = 25

# What --phases can pick: submit (1..16 writers), many (submit_many), latency, sequencer,
# proofs (at the small size), large (grow to the large size: proofs, storage, export, verify).
PHASES = ("submit", "many", "latency", "sequencer", "proofs", "large")

_STARTED = time.monotonic()


@dataclass(frozen=True)
class Plan:
    """How much work each phase does."""

    writer_counts: tuple[int, ...]
    writer_seconds: float
    batch_writers: int
    submit_batch: int
    latency_writers: int
    latency_rate: float
    latency_seconds: float
    small_size: int
    large_size: int
    fill_chunk: int
    proof_samples: int
    profile_leaves: int


FULL = Plan(
    writer_counts=(1, 4, 16),
    writer_seconds=10.0,
    batch_writers=4,
    submit_batch=100,
    latency_writers=4,
    latency_rate=1_000.0,
    latency_seconds=15.0,
    small_size=100_000,
    large_size=1_000_000,
    fill_chunk=100_000,
    proof_samples=2_000,
    profile_leaves=40_000,
)
QUICK = Plan(
    writer_counts=(1, 4, 16),
    writer_seconds=2.0,
    batch_writers=4,
    submit_batch=100,
    latency_writers=4,
    latency_rate=1_000.0,
    latency_seconds=3.0,
    small_size=10_000,
    large_size=20_000,
    fill_chunk=10_000,
    proof_samples=500,
    profile_leaves=10_000,
)


@dataclass
class Row:
    """One line of the result table; `met` is None when the metric has no target."""

    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


def at_least(metric: str, value: float, unit: str, target: float) -> Row:
    return Row(metric, value, unit, f">= {target:,.0f}", value >= target)


def at_most(metric: str, value: float, unit: str, target: float) -> Row:
    return Row(metric, value, unit, f"<= {target:g}", value <= target)


def log(message: str) -> None:
    """Print a progress line with the elapsed time and the 1-minute load average.

    The load average shows when other work competed for the cores during a phase.
    """
    elapsed = time.monotonic() - _STARTED
    print(f"[{elapsed:7.1f}s load {os.getloadavg()[0]:4.1f}] {message}", flush=True)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of values at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1_000}k"


# --------------------------------------------------------------------------------------------
# Environment, database and Django
# --------------------------------------------------------------------------------------------


def configure_environment(database_url: str, key_dir: Path) -> str:
    """Set the settings environment for this process and its children; return the signer key.

    Child processes are spawned, so they inherit os.environ as it is when they start.
    """
    from model_ledger_verify import notes  # pure module: safe before django.setup()

    signer_key = notes.generate_signer_key("bench.example/ledger")
    key_file = key_dir / "ledger.key"
    key_file.write_text(signer_key + "\n", encoding="utf-8")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "bench-only",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "LEDGER_SIGNING_KEY_FILE": str(key_file),
            "LOG_LEVEL": "WARNING",
        }
    )
    # Without a broker Celery runs tasks in-process; the hook below is disabled anyway.
    os.environ.pop("CELERY_BROKER_URL", None)
    return signer_key


def ensure_database(database_url: str) -> None:
    """Create the benchmark database if it does not exist, connecting to `postgres`."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")


def _no_integration() -> None:
    """Stand-in for ledger.tasks.request_integration: the sequencer is measured on its own."""


def setup_django() -> None:
    """Start Django in this process and switch off the inline sequencer run after commits.

    Without a broker, every submit's on-commit hook would run tree_integrate_all() inline,
    which would measure submit plus sequencing and serialise all writers on the tree lock.
    """
    import django

    django.setup()
    from ledger import tasks

    tasks.request_integration = _no_integration


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def reset_ledger() -> None:
    """Empty every ledger table; the append-only triggers are disabled for this session only."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", [list(LEDGER_TABLES)])
        present = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE")
        finally:
            cursor.execute("SET session_replication_role = origin")


def scalar(query: str, params: Sequence[Any] = ()) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far by this process and by its PostgreSQL backend.

    Throughput on a shared machine moves with the other load; CPU per operation moves much
    less, so it is reported next to the rates. `postgres` is None unless the server is local.
    """

    python: float
    postgres: float | None

    @classmethod
    def now(cls) -> Cpu:
        return cls(time.process_time(), _backend_cpu_seconds())

    def since(self, start: Cpu) -> float:
        """Return the CPU seconds (Python plus PostgreSQL when known) used since `start`."""
        used = self.python - start.python
        if self.postgres is not None and start.postgres is not None:
            used += self.postgres - start.postgres
        return used


def _backend_cpu_seconds() -> float | None:
    """Read the user+system CPU time of this connection's backend from /proc (local server)."""
    from django.db import connection

    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None  # a remote server's pid means nothing here
    pid = scalar("SELECT pg_backend_pid()")
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_line() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
                break
    pg = scalar("SHOW server_version")
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, {ram_kib / 2**20:.1f} GiB RAM, "
        f"PostgreSQL {pg}, Python {platform.python_version()} ({platform.system()})"
    )


def postgres_settings_line() -> str:
    names = ("shared_buffers", "synchronous_commit", "fsync", "wal_level", "max_connections")
    values = [f"{name}={scalar(f'SHOW {name}')}" for name in names]
    return "postgres: " + ", ".join(values)


# --------------------------------------------------------------------------------------------
# Events and the queue
# --------------------------------------------------------------------------------------------


def event(n: int, prefix: str) -> dict[str, Any]:
    """A governance event like tests/ledger/helpers.py event(), with an artifact digest.

    Its leaf is about 300 bytes: an approval or registration carries a hash, not the artifact.
    """
    return {
        "type": EVENT_TYPES[n % len(EVENT_TYPES)],
        "actor": f"user:reviewer-{n % 7}",
        "subject": f"model:credit-risk-{n % 5}",
        "idempotency_key": f"{prefix}-{n}",
        "data": {
            "artifact_sha256": hashlib.sha256(f"{prefix}/{n}".encode()).hexdigest(),
            "n": n,
            "note": "résumé ✓",
            "score": f"0.{n % 10_000:04d}",
        },
    }


# For these payloads (ASCII keys, strings and small ints) sorted compact JSON is exactly the
# RFC 8785 form; the C encoder is ~20x faster than canonical.dumps, which matters at 1M rows.
# queue_submissions checks the claim against canonical.dumps on the first row of every chunk.
_FAST_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def queue_submissions(start: int, count: int, prefix: str) -> None:
    """Bulk-load `count` queued submissions with COPY, as if `count` submits had committed."""
    from django.db import connection, transaction

    from model_ledger_verify import canonical

    first = event(start, prefix)["data"]
    assert _FAST_JSON.encode(first).encode() == canonical.dumps(first), "payload not canonical"
    now = datetime.now(UTC)
    copy_sql = "COPY ledger_submission (idempotency_key, type, actor, subject, data, submitted_at) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for n in range(start, start + count):
            ev = event(n, prefix)
            data = _FAST_JSON.encode(ev["data"]).encode()
            copy.write_row((ev["idempotency_key"], ev["type"], ev["actor"], ev["subject"], data, now))
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would give a queue this size, so plans are stable.
        cursor.execute("ANALYZE ledger_submission")


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def _submit_writer(writer: int, seconds: float, prefix: str, barrier: Any, results: Any) -> None:
    """Submit events back to back for `seconds`; report count, start, end and CPU seconds."""
    setup_django()
    from django.db import connection

    from ledger import services

    connection.ensure_connection()  # connecting is not part of the measurement
    key_prefix = f"{prefix}-w{writer}"
    barrier.wait()
    cpu = Cpu.now()
    start = time.monotonic()
    deadline = start + seconds
    n = 0
    while time.monotonic() < deadline:
        services.submit(**event(n, key_prefix))
        n += 1
    end = time.monotonic()
    results.put(("writer", n, start, end, Cpu.now().since(cpu)))


def _batch_writer(writer: int, seconds: float, prefix: str, batch: int, barrier: Any, results: Any) -> None:
    """Like _submit_writer, but `batch` events per services.submit_many call (one transaction)."""
    setup_django()
    from django.db import connection

    from ledger import services

    connection.ensure_connection()
    key_prefix = f"{prefix}-w{writer}"
    barrier.wait()
    cpu = Cpu.now()
    start = time.monotonic()
    deadline = start + seconds
    n = 0
    while time.monotonic() < deadline:
        services.submit_many([event(i, key_prefix) for i in range(n, n + batch)])
        n += batch
    end = time.monotonic()
    results.put(("writer", n, start, end, Cpu.now().since(cpu)))


def _paced_writer(
    writer: int, writers: int, rate: float, seconds: float, prefix: str, barrier: Any, results: Any
) -> None:
    """Submit at a steady `rate` for `seconds`; report (key, monotonic, wall) commit times."""
    setup_django()
    from django.db import connection

    from ledger import services

    connection.ensure_connection()
    key_prefix = f"{prefix}-w{writer}"
    # Stagger the writers so that their submissions interleave instead of arriving together.
    interval = 1.0 / rate
    barrier.wait()
    start = time.monotonic() + writer * interval / writers
    end = start + seconds
    samples: list[tuple[str, float, float]] = []
    n = 0
    # Stop at `end` even when behind schedule: a writer that cannot keep the rate reports the
    # rate it reached instead of running on until it has sent rate * seconds events.
    while (due := start + n * interval) < end and (now := time.monotonic()) < end:
        if due > now:
            time.sleep(due - now)
        ev = event(n, key_prefix)
        services.submit(**ev)  # returns after its own transaction committed
        samples.append((ev["idempotency_key"], time.monotonic(), time.time()))
        n += 1
    results.put(("writer", samples, start, time.monotonic()))


def _integrator(stop: Any, barrier: Any, results: Any) -> None:
    """Loop tree_integrate() until told to stop and the queue is empty.

    Report each batch as (entries added, monotonic time after its commit): the entries of a
    batch became visible at that moment, and batches cover consecutive seq ranges.
    """
    setup_django()
    from django.db import connection

    from ledger import services

    connection.ensure_connection()
    batches: list[tuple[int, float]] = []
    barrier.wait()
    while True:
        added = services.tree_integrate()
        if added:
            batches.append((added, time.monotonic()))
        elif stop.is_set():
            break
        else:
            time.sleep(IDLE_SLEEP_SECONDS)
    results.put(("integrator", batches))


@dataclass(frozen=True)
class Child:
    target: Callable[..., None]
    args: tuple[Any, ...]


def run_children(
    children: Sequence[Child], *, before_last: Callable[[], None] | None = None
) -> tuple[float, list[tuple[Any, ...]]]:
    """Run child processes that meet at a start barrier; return (start time, their reports).

    Each child gets (barrier, results) appended to its arguments and puts one report.
    `before_last` runs in the parent once every child but one has reported (to stop an
    integrator that only finishes when told).
    """
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited database connections
    barrier = ctx.Barrier(len(children) + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=child.target, args=(*child.args, barrier, results), daemon=True) for child in children]
    for proc in procs:
        proc.start()
    try:
        barrier.wait(timeout=START_TIMEOUT_SECONDS)
        started = time.monotonic()
        reports: list[tuple[Any, ...]] = []
        while len(reports) < len(children):
            if before_last is not None and len(reports) == len(children) - 1:
                before_last()
            reports.append(_next_report(results, procs))
        for proc in procs:
            proc.join()
        return started, reports
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()


def _next_report(results: Any, procs: Sequence[Any]) -> tuple[Any, ...]:
    import queue

    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a benchmark process failed (exit code {dead[0].exitcode})") from None


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------


def bench_submit(plan: Plan) -> list[Row]:
    """Phase 1: submissions/s with N concurrent writers, each submit its own transaction."""
    from ledger.models import Submission

    rows: list[Row] = []
    for writers in plan.writer_counts:
        reset_ledger()
        log(f"submit: {writers} writer process(es) for {plan.writer_seconds:g} s each")
        children = [Child(_submit_writer, (w, plan.writer_seconds, f"tp{writers}")) for w in range(writers)]
        started, reports = run_children(children)
        total = sum(r[1] for r in reports)
        wall = max(r[3] for r in reports) - started
        queued = Submission.objects.count()
        assert queued == total, f"{total} submits reported but {queued} rows queued"
        rate = total / wall
        cpu_ms = sum(r[4] for r in reports) / total * 1_000
        log(
            f"submit: {writers} writer(s): {total:,} submissions in {wall:.2f} s = {rate:,.0f}/s, "
            f"{cpu_ms:.2f} ms CPU each (Python + PostgreSQL)"
        )
        plural = "s" if writers > 1 else ""
        metric = f"submit throughput, {writers} writer{plural}"
        if writers == max(plan.writer_counts):
            rows.append(at_least(metric, rate, "submits/s", 5_000))
        else:
            rows.append(Row(metric, rate, "submits/s"))
        rows.append(Row(f"  CPU per submit, {writers} writer{plural} (Python + PG)", cpu_ms, "ms"))
        if writers == min(plan.writer_counts):
            # What the cores could sustain if submit were the only work and scaled perfectly.
            ceiling = (os.cpu_count() or 1) * 1_000 / cpu_ms
            rows.append(Row(f"  CPU-bound submit ceiling on {os.cpu_count()} cores", ceiling, "submits/s"))
    return rows


def bench_submit_many(plan: Plan) -> list[Row]:
    """Phase 1b: the batch API, for comparison: `submit_batch` events per transaction."""
    from ledger import services
    from ledger.models import Submission

    if not hasattr(services, "submit_many"):
        return []
    reset_ledger()
    writers, batch = plan.batch_writers, plan.submit_batch
    log(f"submit_many: {writers} writer processes, {batch} events per call, {plan.writer_seconds:g} s")
    children = [Child(_batch_writer, (w, plan.writer_seconds, "batch", batch)) for w in range(writers)]
    started, reports = run_children(children)
    total = sum(r[1] for r in reports)
    wall = max(r[3] for r in reports) - started
    queued = Submission.objects.count()
    assert queued == total, f"{total} events reported but {queued} rows queued"
    rate = total / wall
    cpu_ms = sum(r[4] for r in reports) / total * 1_000
    log(f"submit_many: {total:,} events in {wall:.2f} s = {rate:,.0f}/s, {cpu_ms:.3f} ms CPU each")
    return [
        at_least(f"submit_many throughput, {writers} writers x {batch}", rate, "events/s", 25_000),
        Row("  CPU per event in submit_many (Python + PG)", cpu_ms, "ms"),
    ]


def bench_latency(plan: Plan) -> list[Row]:
    """Phase 3: submit→integrated latency under a steady load with one integrator process."""
    from ledger.models import Entry

    reset_ledger()
    per_writer = plan.latency_rate / plan.latency_writers
    log(
        f"latency: {plan.latency_writers} writers at {per_writer:g}/s each for "
        f"{plan.latency_seconds:g} s, one integrator looping tree_integrate()"
    )
    ctx_stop = mp.get_context("spawn").Event()
    children = [Child(_integrator, (ctx_stop,))] + [
        Child(_paced_writer, (w, plan.latency_writers, per_writer, plan.latency_seconds, "lat"))
        for w in range(plan.latency_writers)
    ]
    _, reports = run_children(children, before_last=ctx_stop.set)
    batches = next(r[1] for r in reports if r[0] == "integrator")
    writer_reports = [r for r in reports if r[0] == "writer"]
    samples = [s for r in writer_reports for s in r[1]]
    span = max(r[3] for r in writer_reports) - min(r[2] for r in writer_reports)

    # Batches extend the log contiguously from seq 0 (the log was empty): cumulative counts
    # map each seq to the commit time of the batch that added it.
    bounds: list[int] = []
    for added, _ in batches:
        bounds.append((bounds[-1] if bounds else 0) + added)
    visible_at = [t for _, t in batches]
    entries = {
        key: (seq, json.loads(bytes(leaf))["ts"])
        for seq, key, leaf in Entry.objects.values_list("seq", "idempotency_key", "leaf")
    }
    to_visible: list[float] = []
    to_leaf_ts: list[float] = []
    for key, t_commit, wall_commit in samples:
        seq, ts = entries[key]
        to_visible.append(visible_at[bisect_right(bounds, seq)] - t_commit)
        leaf_time = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        to_leaf_ts.append(leaf_time.timestamp() - wall_commit)
    achieved = len(samples) / span
    ms = 1_000.0
    log(
        f"latency: {len(samples):,} submissions at {achieved:,.0f}/s, {len(batches):,} batches "
        f"(mean {len(samples) / max(1, len(batches)):.1f} leaves/batch)"
    )
    if achieved < 0.9 * plan.latency_rate:
        log(
            f"latency: the writers could not keep {plan.latency_rate:,.0f}/s; latencies are "
            "for the rate they reached, with the machine saturated"
        )
    return [
        Row(f"latency load: achieved rate (asked {plan.latency_rate:,.0f}/s)", achieved, "submits/s"),
        Row("submit->integrated p50", percentile(to_visible, 50) * ms, "ms"),
        at_most("submit->integrated p99", percentile(to_visible, 99) * ms, "ms", 250),
        Row("submit->leaf ts p99 (cross-check)", percentile(to_leaf_ts, 99) * ms, "ms"),
    ]


def bench_sequencer(plan: Plan) -> tuple[list[Row], float]:
    """Phase 2: time tree_integrate_all() over a pre-filled queue of `small_size` submissions."""
    from ledger import selectors, services

    reset_ledger()
    size = plan.small_size
    log(f"sequencer: queueing {size:,} submissions with COPY")
    queue_submissions(0, size, "seq")
    log("sequencer: tree_integrate_all()")
    cpu = Cpu.now()
    started = time.perf_counter()
    added = services.tree_integrate_all()
    elapsed = time.perf_counter() - started
    cpu_us = Cpu.now().since(cpu) / added * 1e6
    assert added == size == selectors.tree_size(), f"integrated {added}, expected {size}"
    rate = added / elapsed
    log(
        f"sequencer: {added:,} leaves in {elapsed:.2f} s = {rate:,.0f} leaves/s, "
        f"{cpu_us:.0f} us CPU per leaf (Python + PostgreSQL)"
    )
    rows = [
        at_least(f"sequencer ceiling ({human(size)} queued)", rate, "leaves/s", 30_000),
        Row("  CPU per leaf (Python + PG)", cpu_us, "us"),
        # One sequencer runs Python and its backend in turn, so one core bounds it at this rate.
        Row("  CPU-bound sequencer ceiling, 1 core", 1e6 / cpu_us, "leaves/s"),
    ]
    return rows, rate


def grow_log(target: int, chunk: int) -> Row:
    """Grow the log to `target` entries through the sequencer, one queued chunk at a time."""
    from ledger import selectors, services

    size = selectors.tree_size()
    start_size = size
    integrate_seconds = 0.0
    while size < target:
        count = min(chunk, target - size)
        queue_submissions(size, count, "seq")
        started = time.perf_counter()
        services.tree_integrate_all()
        integrate_seconds += time.perf_counter() - started
        size = selectors.tree_size()
        log(f"fill: {size:,}/{target:,} entries ({count / (time.perf_counter() - started):,.0f} leaves/s)")
    rate = (size - start_size) / integrate_seconds
    return Row(f"sequencer, growing {human(start_size)}->{human(target)}", rate, "leaves/s")


def sign_checkpoint(size: int) -> Row:
    from ledger import services

    started = time.perf_counter()
    checkpoint = services.checkpoint_sign()
    elapsed = time.perf_counter() - started
    assert checkpoint.size == size, f"signed size {checkpoint.size}, expected {size}"
    return Row(f"checkpoint_sign at {human(size)}", elapsed * 1_000, "ms")


def _timed(calls: Iterable[Callable[[], list[bytes]]]) -> tuple[list[float], list[list[bytes]], float]:
    """Run each call; return the wall time of each, the proofs and the mean CPU per call."""
    times: list[float] = []
    proofs: list[list[bytes]] = []
    cpu = Cpu.now()
    for call in calls:
        started = time.perf_counter()
        proofs.append(call())
        times.append(time.perf_counter() - started)
    return times, proofs, Cpu.now().since(cpu) / len(times)


def bench_proofs(size: int, samples: int, *, final: bool) -> list[Row]:
    """Phase 4: random inclusion and consistency proofs against the checkpoint at `size`."""
    from ledger import selectors
    from model_ledger_verify import merkle

    rng = random.Random(size)  # same requests on every run
    root = bytes(selectors.checkpoint_latest().root)
    # A few untimed calls first so that imports and plan caches are not measured.
    for _ in range(20):
        selectors.inclusion_proof(rng.randrange(size), size)
    indexes = [rng.randrange(size) for _ in range(samples)]
    old_sizes = [rng.randrange(1, size) for _ in range(samples)]
    log(f"proofs at {size:,}: {samples:,} inclusion and {samples:,} consistency proofs")
    inc_times, inc_proofs, inc_cpu = _timed((lambda i=i: selectors.inclusion_proof(i, size)) for i in indexes)
    con_times, con_proofs, con_cpu = _timed((lambda m=m: selectors.consistency_proof(m, size)) for m in old_sizes)
    for i, proof in list(zip(indexes, inc_proofs, strict=True))[:PROOFS_CHECKED]:
        leaf_hash = bytes(selectors.entry_get(i).leaf_hash)
        merkle.verify_inclusion(i, size, leaf_hash, proof, root)
    for m, proof in list(zip(old_sizes, con_proofs, strict=True))[:PROOFS_CHECKED]:
        merkle.verify_consistency(m, size, selectors.root_at(m), root, proof)
    ms = 1_000.0
    label = human(size)
    rows = []
    for kind, times, cpu in (("inclusion", inc_times, inc_cpu), ("consistency", con_times, con_cpu)):
        p50 = percentile(times, 50) * ms
        if final:
            rows.append(at_most(f"{kind} proof p50 @{label}", p50, "ms", 1))
        else:
            rows.append(Row(f"{kind} proof p50 @{label}", p50, "ms"))
        rows.append(Row(f"{kind} proof p99 @{label}", percentile(times, 99) * ms, "ms"))
        rows.append(Row(f"  CPU per {kind} proof (Python + PG)", cpu * ms, "ms"))
    return rows


def _api_auditor() -> Any:
    """A user holding ledger.view_entry directly, as the proof endpoints require."""
    from django.contrib.auth.models import Permission, User

    user, _ = User.objects.get_or_create(username="bench-auditor")
    user.user_permissions.add(Permission.objects.get(codename="view_entry", content_type__app_label="ledger"))
    return user


def bench_api_proofs(size: int, samples: int, *, final: bool) -> list[Row]:
    """Phase 4b: the same proofs through the API handler (DRF view, permission, JSON rendering).

    The user is loaded afresh for every request, as token authentication does; the HTTP server
    and the network are not part of it.
    """
    from django.contrib.auth.models import User
    from rest_framework.test import APIRequestFactory, force_authenticate

    from api.views.ledger import ConsistencyProofView, InclusionProofView

    rng = random.Random(size + 1)
    factory = APIRequestFactory()
    user_pk = _api_auditor().pk
    views = {"inclusion": InclusionProofView.as_view(), "consistency": ConsistencyProofView.as_view()}

    def call(kind: str, params: dict[str, int]) -> list[bytes]:
        request = factory.get(f"/api/v1/ledger/proofs/{kind}", params)
        force_authenticate(request, user=User.objects.get(pk=user_pk))
        response = views[kind](request)
        response.render()
        assert response.status_code == 200, response.content[:200]
        return []

    label = human(size)
    rows = []
    for kind, times, cpu in _time_proof_calls(call, size, samples, rng, "API proofs"):
        p50, p99 = percentile(times, 50) * 1_000, percentile(times, 99) * 1_000
        if final:
            rows.append(at_most(f"{kind} proof via API handler p50 @{label}", p50, "ms", 1))
            rows.append(at_most(f"{kind} proof via API handler p99 @{label}", p99, "ms", 3))
        else:
            rows.append(Row(f"{kind} proof via API handler p50 @{label}", p50, "ms"))
            rows.append(Row(f"{kind} proof via API handler p99 @{label}", p99, "ms"))
        rows.append(Row(f"  CPU per {kind} proof via API handler (Python + PG)", cpu * 1_000, "ms"))
    return rows


def _time_proof_calls(
    call: Callable[[str, dict[str, int]], object], size: int, samples: int, rng: random.Random, what: str
) -> list[tuple[str, list[float], float]]:
    """Warm up, then time `samples` inclusion and consistency proofs at `size` through `call`.

    Return (kind, wall times, CPU per proof) for each kind.
    """
    for _ in range(20):
        call("inclusion", {"seq": rng.randrange(size), "size": size})
    log(f"{what} at {size:,}: {samples:,} inclusion and {samples:,} consistency proofs")
    inc_times, _, inc_cpu = _timed(
        (lambda i=i: call("inclusion", {"seq": i, "size": size}))
        for i in (rng.randrange(size) for _ in range(samples))
    )
    con_times, _, con_cpu = _timed(
        (lambda m=m: call("consistency", {"size1": m, "size2": size}))
        for m in (rng.randrange(1, size) for _ in range(samples))
    )
    return [("inclusion", inc_times, inc_cpu), ("consistency", con_times, con_cpu)]


def bench_http_proofs(size: int, samples: int) -> list[Row]:
    """Phase 4c: the same proofs through Django's whole request stack with a bearer token.

    Every middleware, knox's token lookup and the project's last-use record, as a request
    arrives once the HTTP server has parsed it (Django's test client; no socket).
    """
    from django.test import Client
    from knox.models import AuthToken

    from ledger import services

    _, token = AuthToken.objects.create(user=_api_auditor())
    services.tree_integrate_all()  # the token's `token.issued` event, so later sizes stay exact
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    rng = random.Random(size + 2)

    def call(kind: str, params: dict[str, int]) -> list[bytes]:
        response = client.get(f"/api/v1/ledger/proofs/{kind}", params)
        assert response.status_code == 200, response.content[:200]
        return []

    label = human(size)
    rows = []
    for kind, times, cpu in _time_proof_calls(call, size, samples, rng, "HTTP-stack proofs"):
        p50, p99 = percentile(times, 50) * 1_000, percentile(times, 99) * 1_000
        rows.append(Row(f"{kind} proof via request stack + token p50 @{label}", p50, "ms"))
        rows.append(Row(f"{kind} proof via request stack + token p99 @{label}", p99, "ms"))
        rows.append(Row(f"  CPU per {kind} proof via request stack + token (Python + PG)", cpu * 1_000, "ms"))
    return rows


def bench_storage(size: int) -> list[Row]:
    """Phase 6: bytes per entry of entries and nodes with all their indexes."""
    entry_bytes = scalar("SELECT pg_total_relation_size('ledger_entry')")
    # Nodes one per row before tiles, tiles after: whichever this checkout has.
    tree_table = "ledger_tile" if scalar("SELECT to_regclass('ledger_tile') IS NOT NULL") else "ledger_node"
    node_bytes = scalar("SELECT pg_total_relation_size(%s)", [tree_table])
    count = scalar("SELECT count(*) FROM ledger_entry")
    avg_leaf = float(scalar("SELECT avg(octet_length(leaf)) FROM ledger_entry"))
    assert count == size, f"{count} entries, expected {size}"
    for table in ("ledger_entry", tree_table):
        heap = scalar("SELECT pg_relation_size(%s)", [table])
        parts = [f"heap {heap / count:.0f} B/entry"]
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = %s::regclass ORDER BY 1",
                [table],
            )
            parts += [f"{name} {b / count:.0f} B/entry" for name, b in cursor.fetchall()]
        log(f"storage {table}: " + ", ".join(parts))
    label = human(size)
    return [
        at_most(
            f"storage per entry @{label} (entry+node+indexes)",
            (entry_bytes + node_bytes) / count,
            "bytes",
            500,
        ),
        Row(f"  of which ledger_entry @{label}", entry_bytes / count, "bytes"),
        Row(f"  of which {tree_table} @{label}", node_bytes / count, "bytes"),
        Row("average leaf length", avg_leaf, "bytes"),
    ]


def bench_export_verify(size: int, signer_key: str, work_dir: Path) -> list[Row]:
    """Phase 5: export the bundle, then time the offline verifier on it."""
    from ledger.export import export_bundle
    from model_ledger_verify import notes

    bundle = work_dir / "bundle"
    verifier_key = notes.Signer.from_string(signer_key).verifier_key()
    log(f"export: writing the bundle of {size:,} entries")
    started = time.perf_counter()
    manifest = export_bundle(bundle)
    export_seconds = time.perf_counter() - started
    bundle_bytes = sum(f["bytes"] for f in manifest["files"].values())
    log(f"export: {export_seconds:.1f} s, {bundle_bytes / 2**20:,.0f} MiB; verifying")
    verify_seconds = _verify(bundle, verifier_key, size)
    log(f"verify: {verify_seconds:.2f} s")
    label = human(size)
    return [
        Row(f"export_bundle @{label}", export_seconds, "s"),
        at_most(f"offline verify @{label}", verify_seconds, "s", 5),
    ]


def _verify(bundle: Path, verifier_key: str, size: int) -> float:
    """Time verify_bundle, or the command-line verifier if the module is not usable."""
    try:
        from model_ledger_verify.bundle import verify_bundle
    except ImportError:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "model_ledger_verify", "verify", str(bundle), "--key", verifier_key],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - started
    started = time.perf_counter()
    report = verify_bundle(bundle, [verifier_key])
    elapsed = time.perf_counter() - started
    assert report.entries == size, f"verified {report.entries} entries, expected {size}"
    return elapsed


def profile_sequencer(leaves: int) -> None:
    """Print where tree_integrate_all() spends its time (the log keeps its current entries)."""
    from ledger import selectors, services

    size = selectors.tree_size()
    queue_submissions(size, leaves, "seq")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(services.tree_integrate_all)
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(25)
    print(
        f"\nProfile of tree_integrate_all() over {leaves:,} leaves on a log of {size:,} "
        f"({leaves / elapsed:,.0f} leaves/s under the profiler):"
    )
    print(out.getvalue(), flush=True)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def format_value(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(rows: Sequence[Row]) -> None:
    header = ("metric", "value", "unit", "target", "met?")
    cells = [
        (
            r.metric,
            format_value(r.value),
            r.unit,
            r.target or "-",
            "-" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(c: Sequence[str]) -> str:
        return " | ".join(c[i].rjust(widths[i]) if i == 1 else c[i].ljust(widths[i]) for i in range(len(c))).rstrip()

    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for c in cells:
        print(line(c))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (~2 minutes)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help=f"PostgreSQL database the benchmark owns (default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="finally, run the sequencer under cProfile and print the top functions",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        work_dir = Path(tmp)
        signer_key = configure_environment(args.database_url, work_dir)
        ensure_database(args.database_url)
        setup_django()
        migrate()
        machine = machine_line()
        print(machine)
        print(postgres_settings_line())
        print(
            f"mode: {'quick' if args.quick else 'full'}; load average at start "
            f"{os.getloadavg()[0]:.2f}. Other work on this machine (e.g. test suites) shares "
            "its cores with the benchmark, so treat the numbers as noisy.",
            flush=True,
        )

        phases = set(args.phases.split(","))
        unknown = phases - set(PHASES)
        if unknown:
            raise SystemExit(f"unknown phases {sorted(unknown)}; choose from {','.join(PHASES)}")
        rows: list[Row] = []
        sequencer_rate = 0.0
        if "submit" in phases:
            rows += bench_submit(plan)
        if "many" in phases:
            rows += bench_submit_many(plan)
        if "latency" in phases:
            rows += bench_latency(plan)
        if phases & {"sequencer", "proofs", "large"}:
            sequencer_rows, sequencer_rate = bench_sequencer(plan)
            rows += sequencer_rows
        if "proofs" in phases:
            rows.append(sign_checkpoint(plan.small_size))
            rows += bench_proofs(plan.small_size, plan.proof_samples, final=False)
            rows += bench_api_proofs(plan.small_size, plan.proof_samples, final=False)
            rows += bench_http_proofs(plan.small_size, plan.proof_samples)
        if "large" in phases:
            rows.append(grow_log(plan.large_size, plan.fill_chunk))
            rows.append(sign_checkpoint(plan.large_size))
            rows += bench_proofs(plan.large_size, plan.proof_samples, final=True)
            rows += bench_api_proofs(plan.large_size, plan.proof_samples, final=True)
            rows += bench_storage(plan.large_size)
            rows += bench_export_verify(plan.large_size, signer_key, work_dir)
        if args.profile:
            profile_sequencer(plan.profile_leaves)
        reset_ledger()

    print()
    print(machine)
    print(f"load average at end {os.getloadavg()[0]:.2f} (results are noisy if it exceeds 2)")
    if args.quick:
        print("quick mode: the size-dependent targets are defined at 100k/1M entries")
    print_table(rows)
    print(f"RESULT sequencer_leaves_per_s={sequencer_rate:.0f} leaves/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
