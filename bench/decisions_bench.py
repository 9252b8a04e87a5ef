"""End-to-end decision ingestion and list latency, over HTTP through gunicorn on PostgreSQL.

What it measures:

1. Decisions/s and batch latency p50/p99: client threads POST batches of 1,000 decisions to
   `/api/v1/models/<slug>/decisions` with a Bearer token; each response returns only after the
   batch's ledger entries are integrated (its receipts carry their seq numbers), so the figure
   is decisions written *and* sequenced into the Merkle log. Then the same with `?wait=none`
   (answered once committed, sequenced after) and `?wait=checkpoint` (with inclusion proofs).
2. List-endpoint latency p50/p99 with 10,000 models and 100,000 versions, for a pipeline whose
   object permissions cover 2,000 of the models (django-guardian rows), and for an auditor who
   reads everything: `/api/v1/models`, `/api/v1/versions?status=approved`.

Run it from the repository root:

    .venv/bin/python bench/decisions_bench.py [--quick] [--database-url URL] [--compare-naive] [--skip-lists]

`--compare-naive` then runs our sequenced ingestion and the naive DRF anchor
(`../shared/anchors/naive_drf/run_bulk.sh`: `many=True` + `bulk_create`, gunicorn with the same
number of sync workers, the same number of clients posting batches of 1,000) alternately, twice
each, and prints the ratio: compare ratios from one run, never absolute numbers across runs.

It uses its own database (default `postgres://postgres@127.0.0.1:5432/ledger_decbench`), made
fresh on every run. The inventory for the list phase is bulk-inserted (it is setup, not what is
measured). The last line is `RESULT decisions_per_s=<n> decisions/s`.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ledger_bench import (  # noqa: E402 — the path is set just above
    Row,
    at_least,
    at_most,
    configure_environment,
    log,
    machine_line,
    percentile,
    print_table,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_decbench"
BATCH = 1_000
GUNICORN_WORKERS = 3  # 2 cores: one worker per core plus one to overlap database waits


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_story() -> tuple[str, str]:
    """Create a deployed model through the services; return (pipeline token, auditor token)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from knox.models import AuthToken

    from governance.demo import FULL_CARD
    from governance.roles import Role, forget_roles
    from governance.services import approvals, deployments, registry
    from governance.services.access import access_grant
    from governance.services.identity import officers as officer_services

    call_command("migrate", interactive=False, verbosity=0)

    def user(name: str, role: str) -> User:
        person = User.objects.create_user(name, password="bench-password-1")
        person.groups.add(Group.objects.get_or_create(name=role)[0])
        return person

    owner, pipeline = user("owner", Role.MODEL_OWNER), user("pipeline", Role.PIPELINE)
    # The officer role takes two people: a head officer is bootstrapped, and the two approvers
    # are proposed by an administrator and confirmed by the head (an approver's role may not have
    # been confirmed by the other approver).
    head = User.objects.create_user("compliance-head", password="bench-password-1")
    officer_services.officer_bootstrap(grantee=head)
    admin = user("admin", Role.ADMIN)
    officers = [User.objects.create_user(f"officer-{n}", password="bench-password-1") for n in (1, 2)]
    for officer in officers:
        proposal = officer_services.officer_propose(actor=admin, grantee=officer)
        officer_services.officer_confirm(actor=head, grant=proposal)
        forget_roles(officer)
    auditor = user("auditor", Role.AUDITOR)
    model = registry.model_register(
        actor=owner,
        slug="bench-model",
        name="Bench",
        intended_purpose="bench",
        regulated_use="credit",
        risk_tier="high",
        owner=owner,
        runbook="https://wiki.example.com/runbooks/bench",
    )
    access_grant(actor=officers[0], model=model, grantee=pipeline, actions=["register", "log"])
    data, _ = registry.dataset_register(actor=pipeline, name="d", uri="s3://d", sha256="d" * 64, size_bytes=1)
    version = registry.version_register(
        actor=pipeline,
        model=model,
        version="1.0.0",
        artifact_sha256="a" * 64,
        artifact_uri="s3://m",
        datasets=[{"sha256": data.sha256, "role": "training"}],
    )
    registry.card_revise(actor=pipeline, version=version, content=FULL_CARD)
    for officer in officers:
        approvals.approval_sign(
            signer=officer, version=version, password="bench-password-1", meaning="approved", reason="bench"
        )
    # Staging: decision logging needs a deployment, not the production gates.
    deployments.deployment_start(actor=pipeline, version=version, environment="staging")
    return AuthToken.objects.create(pipeline)[1], AuthToken.objects.create(auditor)[1]


def batch_body(start: int, occurred_at: str) -> bytes:
    from model_ledger_verify import canonical

    items = []
    for n in range(start, start + BATCH):
        features = {"income_band": str(n % 7), "utilisation": f"0.{n % 100:02d}"}
        items.append(
            {
                "decision_id": f"bench-{n:08d}",
                "version": "1.0.0",
                "occurred_at": occurred_at,
                "subject_ref": f"applicant-{n % 50_000:05d}",
                "input_snapshot": features,
                "input_sha256": hashlib.sha256(canonical.dumps(features)).hexdigest(),
                "output_label": "approve" if n % 3 else "decline",
                "output_score": f"0.{n % 1000:03d}",
                "reasons": [{"code": "R01", "text": "Credit utilisation is high", "contribution": "0.31"}],
                "mode": "automated",
            }
        )
    return json.dumps({"decisions": items}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def request(port: int, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request(
        method, path, body=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data, time.perf_counter() - started


# What each `?wait=` answer means, for the row names: the default waits for sequencing.
WAIT_LABELS = {"entry": "sequenced", "none": "wait=none, committed", "checkpoint": "wait=checkpoint"}
WAIT_STATUS = {"entry": 201, "none": 202, "checkpoint": 201}


def bench_ingestion(
    port: int, token: str, batches: int, clients: int, *, wait: str = "entry", first: int = 0
) -> list[Row]:
    """POST `batches` batches from `clients` threads with `?wait=<wait>`; decision ids from `first`."""
    occurred_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    time.sleep(1.2)  # decisions must occur after the deployment started
    bodies = [batch_body(first + i * BATCH, occurred_at) for i in range(batches)]
    path = f"/api/v1/models/bench-model/decisions?wait={wait}"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(batches))

    def client() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            status, data, seconds = request(port, "POST", path, token, bodies[index])
            with lock:
                latencies.append(seconds)
                if status != WAIT_STATUS[wait]:
                    errors.append(f"{status}: {data[:200]!r}")
                done = len(latencies)
            if done % 5 == 0 or done == batches:
                log(f"  {done * BATCH:,} decisions posted")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} batches failed, first: {errors[0]}")
    rate = batches * BATCH / elapsed
    label = WAIT_LABELS[wait]
    suffix = "" if wait == "entry" else f" ({label})"
    return [
        at_least(f"decisions/s ({clients} clients, batches of {BATCH:,}, {label})", rate, "decisions/s", 10_000),
        Row(f"batch latency p50{suffix}", percentile(latencies, 50) * 1000, "ms"),
        Row(f"batch latency p99{suffix}", percentile(latencies, 99) * 1000, "ms"),
    ]


# The anchor lives in shared/ beside the repository (beside a worktree's parent, too).
ANCHORS = [place / "shared" / "anchors" / "naive_drf" for place in (REPO.parent, REPO.parent.parent)]
# Our settings must not leak into the anchor's processes (it has its own Django project).
_OUR_VARIABLES = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "DJANGO_DEBUG", "LEDGER_SIGNING_KEY_FILE")


def run_naive(clients: int, seconds: int, work: Path) -> float:
    """Run the naive DRF anchor's bulk endpoint (its run_bulk.sh); return its decisions/s.

    The anchor works in its own copy (`work`), with its own virtualenv and database
    (`anchor_naive`), gunicorn with GUNICORN_WORKERS sync workers on a free port.
    """
    scripts = [anchor / "run_bulk.sh" for anchor in ANCHORS if (anchor / "run_bulk.sh").exists()]
    if not scripts:
        raise SystemExit(f"--compare-naive needs the anchor's run_bulk.sh in one of {[str(a) for a in ANCHORS]}")
    script = scripts[0]
    env = {key: value for key, value in os.environ.items() if key not in _OUR_VARIABLES}
    env.update({"ANCHOR_WORK": str(work), "ANCHOR_PORT": str(free_port())})
    done = subprocess.run(
        ["bash", str(script), str(GUNICORN_WORKERS), str(clients), str(seconds)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1_800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the naive anchor failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout[done.stdout.index("{") :])
    return float(result["items_per_s"])


def bench_compare_naive(port: int, token: str, batches: int, clients: int, rounds: int, first: int) -> list[Row]:
    """Ours (sequenced) and the naive anchor, alternately, `rounds` times each; the ratio."""
    # A fixed place, so later runs reuse the anchor's virtualenv and seeded database.
    work = Path(tempfile.gettempdir()) / "naive-drf-anchor-decisions-bench"
    ours, naive = [], []
    for number in range(rounds):
        log(f"round {number + 1}/{rounds}: ours, {batches * BATCH:,} decisions (sequenced)")
        rows = bench_ingestion(port, token, batches, clients, first=first + number * batches * BATCH)
        ours.append(rows[0].value)
        log(f"round {number + 1}/{rounds}: the naive DRF anchor, {clients} clients")
        naive.append(run_naive(clients, 10 if batches <= 10 else 20, work))
        log(f"  ours {ours[-1]:,.0f}/s, naive {naive[-1]:,.0f}/s")
    mean_ours, mean_naive = sum(ours) / rounds, sum(naive) / rounds
    return [
        Row(
            f"decisions/s, ours, interleaved ({clients} clients, sequenced), mean of {rounds}",
            mean_ours,
            "decisions/s",
        ),
        Row(
            f"decisions/s, naive DRF anchor (gunicorn {GUNICORN_WORKERS} sync workers), mean of {rounds}",
            mean_naive,
            "decisions/s",
        ),
        at_least("ratio ours / naive anchor, same run", mean_ours / mean_naive, "x", 4),
    ]


def fill_inventory(models: int, versions_per_model: int, granted: int) -> None:
    """Bulk-insert models, versions and a pipeline's object permissions (setup, not measured)."""
    from django.contrib.auth.models import Permission, User
    from django.utils import timezone

    from governance.models import ModelUserObjectPermission, ModelVersion, RegisteredModel

    owner, pipeline = User.objects.get(username="owner"), User.objects.get(username="pipeline")
    now = timezone.now()
    for start in range(0, models, 2_000):
        rows = [
            RegisteredModel(
                slug=f"m-{n:05d}",
                name=f"Model {n}",
                intended_purpose="bench",
                regulated_use="other",
                risk_tier="low",
                owner=owner,
                created_by=owner,
                created_at=now,
                ledger_key=f"bench:model:{n}",
            )
            for n in range(start, min(models, start + 2_000))
        ]
        RegisteredModel.objects.bulk_create(rows)
        log(f"  {min(models, start + 2_000):,} models")
    ids = list(RegisteredModel.objects.filter(slug__startswith="m-").order_by("slug").values_list("pk", flat=True))
    statuses = ["registered", "in_review", "approved", "deployed", "retired"]
    batch: list[ModelVersion] = []
    made = 0
    for index, model_id in enumerate(ids):
        for v in range(versions_per_model):
            batch.append(
                ModelVersion(
                    model_id=model_id,
                    version=f"{v}.0.0",
                    artifact_sha256="a" * 64,
                    artifact_uri="s3://m",
                    status=statuses[(index + v) % 5],
                    registered_by=pipeline,
                    registered_at=now,
                    ledger_key=f"bench:version:{model_id}:{v}",
                )
            )
        if len(batch) >= 10_000:
            ModelVersion.objects.bulk_create(batch)
            made += len(batch)
            batch = []
            log(f"  {made:,} versions")
    ModelVersion.objects.bulk_create(batch)
    view = Permission.objects.get(codename="view_registeredmodel")
    ModelUserObjectPermission.objects.bulk_create(
        ModelUserObjectPermission(user=pipeline, permission=view, content_object_id=model_id)
        for model_id in ids[:granted]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def bench_lists(port: int, tokens: dict[str, str], samples: int) -> list[Row]:
    rows = []
    for who, token in tokens.items():
        for path in ("/api/v1/models?page_size=50", "/api/v1/versions?status=approved&page_size=50"):
            request(port, "GET", path, token)  # warm the worker's connection and caches
            timings = []
            for _ in range(samples):
                status, data, seconds = request(port, "GET", path, token)
                if status != 200:
                    raise RuntimeError(f"{path} as {who}: {status} {data[:200]!r}")
                timings.append(seconds * 1000)
            name = path.split("?")[0].removeprefix("/api/v1/")
            rows.append(Row(f"GET {name} p50 ({who})", percentile(timings, 50), "ms"))
            rows.append(at_most(f"GET {name} p99 ({who})", percentile(timings, 99), "ms", 30))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument(
        "--compare-naive",
        action="store_true",
        help="also run the naive DRF anchor (../shared/anchors/naive_drf) alternately with ours; print the ratio",
    )
    parser.add_argument("--skip-lists", action="store_true", help="skip the list phase (bench/lists_bench.py has it)")
    args = parser.parse_args(argv)
    batches, clients = (10, 3) if args.quick else (60, 4)
    models, per_model, samples = (1_000, 10, 50) if args.quick else (10_000, 10, 200)

    key_dir = Path(tempfile.mkdtemp(prefix="decbench-"))
    configure_environment(args.database_url, key_dir)
    recreate_database(args.database_url)
    import django

    django.setup()
    log("setting up the model, version and tokens")
    pipeline_token, auditor_token = setup_story()
    port = free_port()
    server = start_gunicorn(port)
    try:
        log(f"ingesting {batches * BATCH:,} decisions through gunicorn ({GUNICORN_WORKERS} workers)")
        rows = bench_ingestion(port, pipeline_token, batches, clients)
        for number, wait in enumerate(("none", "checkpoint"), start=1):
            log(f"ingesting {batches * BATCH:,} more decisions with ?wait={wait}")
            rows += bench_ingestion(port, pipeline_token, batches, clients, wait=wait, first=number * batches * BATCH)
        if args.compare_naive:
            rounds = 2
            rows += bench_compare_naive(port, pipeline_token, batches, clients, rounds, first=3 * batches * BATCH)
        if not args.skip_lists:
            log(f"filling the inventory: {models:,} models, {models * per_model:,} versions")
            fill_inventory(models, per_model, granted=models // 5)
            log("timing list endpoints")
            rows += bench_lists(port, {"pipeline, 1/5 granted": pipeline_token, "auditor": auditor_token}, samples)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print()
    print(machine_line())
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (other work on the machine skews results)")
    print_table(rows)
    print(f"RESULT decisions_per_s={rows[0].value:.0f} decisions/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
