"""Soak: decisions and observations at 70% of the measured maximum, for minutes, end to end.

What it does:

1. Starts gunicorn (3 sync workers) on a fresh PostgreSQL database, a Celery worker with
   embedded beat (the sequencer sweep and the checkpoint signer on their production schedule)
   on a Redis broker, and makes a deployed model with a pipeline token (`decisions_bench`).
2. Calibrates: 2 clients post batches of 500 decisions (`?wait=entry`, the default: answered
   once sequenced) as fast as they are answered, for a short while; the rate they reach is the
   measured maximum.
3. Soaks: the same clients post at 70% of that rate for `--minutes` (a shared schedule, so a
   slow answer is made up by the next post), and every tenth post is a batch of 50 monitoring
   observations instead. Every 5 s a sampler reads the RSS of the gunicorn master and workers
   and of the Celery worker (from /proc), the ledger's submission queue (rows, and its dead
   rows from pg_stat_user_tables), and the Celery queue in Redis.
4. Waits for the queue to drain and runs `manage.py verify_ledger` against the database.

It prints per minute: batches, decisions/s, p50 and p99 batch latency, errors; the samples; and
a table against the targets: 0 errors, the last minute's p99 within 1.5x of the first's, server
RSS growth at most 10% (from the first minute's first sample to the last), `verify_ledger`
exit 0.

Run it from the repository root:

    .venv/bin/python bench/soak.py [--quick] [--minutes N] [--database-url URL] [--broker-url URL]

`--quick` soaks for one minute. The database (default `postgres://postgres@127.0.0.1:5432/
ledger_soak`) is made fresh on every run, and the Redis database of `--broker-url` (default
`redis://127.0.0.1:6379/1`) is emptied: give it ones of its own. The last line is
`RESULT soak_p99_ratio=<last minute's p99 / first minute's> x`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import decisions_bench  # noqa: E402 — the path is set just above
from bench.decisions_bench import free_port, recreate_database, request, setup_story, start_gunicorn  # noqa: E402
from bench.ledger_bench import Row, at_most, configure_environment, log, machine_line, percentile, print_table  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_soak"
DEFAULT_BROKER = "redis://127.0.0.1:6379/1"
BATCH = 500
CLIENTS = 2
LOAD_SHARE = 0.7  # of the measured maximum
OBSERVATION_EVERY = 10  # every tenth post is an observation batch
OBSERVATIONS = 50
SAMPLE_SECONDS = 5.0
CALIBRATION_SECONDS = 40
QUICK_CALIBRATION_SECONDS = 20
DECISIONS_PATH = "/api/v1/models/bench-model/decisions"
OBSERVATIONS_PATH = "/api/v1/models/bench-model/observations"


@dataclass
class Result:
    """One answered post: when it finished (monotonic), how long it took, what it carried."""

    done: float
    seconds: float
    decisions: int
    ok: bool


@dataclass
class Sample:
    at: float
    gunicorn_mib: float
    worker_mib: float
    queued: int
    dead: int
    celery: int


@dataclass
class Driver:
    """Clients posting on a shared schedule (`rate` posts/s; 0 is as fast as answered)."""

    port: int
    token: str
    occurred_at: str
    next_decision: int = 0
    next_observation: int = 0
    posts: int = 0
    results: list[Result] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _claim(self, with_observations: bool) -> tuple[int, int, bool]:
        with self.lock:
            number = self.posts
            self.posts += 1
            observe = with_observations and number % OBSERVATION_EVERY == OBSERVATION_EVERY - 1
            if observe:
                start, self.next_observation = self.next_observation, self.next_observation + OBSERVATIONS
            else:
                start, self.next_decision = self.next_decision, self.next_decision + BATCH
            return number, start, observe

    def _post(self, start: int, observe: bool) -> None:
        if observe:
            body, path, count, expected = observation_body(start), OBSERVATIONS_PATH, 0, 201
        else:
            body, path, count, expected = decision_body(start, self.occurred_at), DECISIONS_PATH, BATCH, 201
        try:
            status, data, seconds = request(self.port, "POST", path, self.token, body)
        except OSError as exc:
            status, data, seconds = 0, str(exc).encode(), 0.0
        with self.lock:
            self.results.append(Result(time.monotonic(), seconds, count, status == expected))
            if status != expected:
                self.errors.append(f"{path} {status}: {data[:300]!r}")

    def run(self, seconds: float, rate: float, *, with_observations: bool) -> None:
        started = time.monotonic()
        stop = started + seconds
        first_post = self.posts

        def client() -> None:
            while True:
                number, start, observe = self._claim(with_observations)
                if rate:
                    # The post's slot on the shared schedule; a late client posts at once.
                    slot = started + (number - first_post) / rate
                    time.sleep(max(0.0, slot - time.monotonic()))
                if time.monotonic() >= stop:
                    return
                self._post(start, observe)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def decision_body(start: int, occurred_at: str) -> bytes:
    return decisions_bench.batch_body(start, occurred_at)


def observation_body(start: int) -> bytes:
    end = datetime.now(UTC).replace(microsecond=0)
    window = {
        "window_start": (end - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
        "window_end": end.isoformat().replace("+00:00", "Z"),
    }
    items = [
        {
            "version": "1.0.0",
            "environment": "staging",
            "kind": "performance",
            "metric": "auc",
            "slice": f"soak-{n:08d}",
            "value": f"0.{700 + n % 300}",
            **window,
        }
        for n in range(start, start + OBSERVATIONS)
    ]
    return json.dumps({"observations": items}).encode()


# --- Processes ------------------------------------------------------------------------------------


def start_celery(broker: str, var_dir: Path) -> subprocess.Popen:
    """A Celery worker with embedded beat: the integrate sweep and the signer on their schedule.

    Celery's default concurrency, one process per core, as docker-compose.yml's worker runs: with
    a single process, the 300-second monitoring judgement of thousands of observations held back
    the ledger's integrate sweep and queue vacuum for a minute (docs/benchmarks.md).
    """
    return subprocess.Popen(
        [
            str(REPO / ".venv/bin/celery"),
            "--quiet",
            "-A",
            "config",
            "worker",
            "--beat",
            "--loglevel",
            "WARNING",
            "--logfile",
            str(var_dir / "worker.log"),
        ],
        cwd=REPO,
        env={**os.environ, "CELERY_BROKER_URL": broker, "VAR_DIR": str(var_dir)},
    )


def wait_for_worker(seconds: float = 120) -> None:
    """Wait until the Celery worker answers a ping, so calibration does not race its start."""
    from config.celery import app

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError("the Celery worker did not start")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):  # the process or thread ended meanwhile
                todo += [int(child) for child in (task / "children").read_text().split()]
    return found


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: server RSS, the submission queue and the Celery queue."""

    def __init__(self, gunicorn: int, worker: int, broker: str, database_url: str) -> None:
        super().__init__(daemon=True)
        import psycopg
        import redis

        self.gunicorn, self.worker = gunicorn, worker
        self.redis = redis.Redis.from_url(broker)
        self.db = psycopg.connect(database_url, autocommit=True)
        self.samples: list[Sample] = []
        self.stop = threading.Event()

    def take(self) -> Sample:
        queued = self.db.execute("SELECT count(*) FROM ledger_submission").fetchone()[0]
        dead = self.db.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'ledger_submission'"
        ).fetchone()[0]
        sample = Sample(
            time.monotonic(),
            rss_mib(process_tree(self.gunicorn)),
            rss_mib(process_tree(self.worker)),
            queued,
            dead,
            int(self.redis.llen("celery")),
        )
        self.samples.append(sample)
        return sample

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            self.take()


# --- Reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minute:
    number: int
    batches: int
    decisions_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def per_minute(results: list[Result], started: float, minutes: int) -> list[Minute]:
    rows = []
    for number in range(minutes):
        low, high = started + 60 * number, started + 60 * (number + 1)
        inside = [r for r in results if low <= r.done < high]
        decisions = [r for r in inside if r.decisions and r.ok]
        latencies = [r.seconds * 1000 for r in decisions] or [0.0]
        rows.append(
            Minute(
                number + 1,
                len(decisions),
                sum(r.decisions for r in decisions) / 60,
                percentile(latencies, 50),
                percentile(latencies, 99),
                sum(not r.ok for r in inside),
            )
        )
    return rows


def print_minutes(minutes: list[Minute]) -> None:
    print("minute | decision batches | decisions/s | p50 ms | p99 ms | errors")
    for m in minutes:
        print(
            f"{m.number:6d} | {m.batches:16d} | {m.decisions_per_s:11,.0f} | {m.p50_ms:6,.0f} | "
            f"{m.p99_ms:6,.0f} | {m.errors:6d}"
        )


def print_samples(samples: list[Sample], started: float) -> None:
    print("t s | gunicorn RSS MiB | celery RSS MiB | submissions queued | their dead rows | celery queue")
    step = max(1, len(samples) // 24)  # about two dozen lines whatever the length
    for sample in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        print(
            f"{sample.at - started:5.0f} | {sample.gunicorn_mib:16,.0f} | {sample.worker_mib:14,.0f} | "
            f"{sample.queued:18,d} | {sample.dead:15,d} | {sample.celery:12,d}"
        )


def verify(database_url: str) -> int:
    done = subprocess.run(
        [str(REPO / ".venv/bin/python"), "manage.py", "verify_ledger"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        log(f"verify_ledger failed: {(done.stdout + done.stderr)[-1500:]}")
    return done.returncode


def wait_for_drain(sampler: Sampler, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample = sampler.take()
        if not sample.queued and not sample.celery:
            return
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="soak for one minute")
    parser.add_argument("--minutes", type=int, default=5, help="how long to soak (default 5)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER, help="a Redis database of this run's own")
    args = parser.parse_args(argv)
    minutes = 1 if args.quick else args.minutes
    calibration = QUICK_CALIBRATION_SECONDS if args.quick else CALIBRATION_SECONDS

    decisions_bench.BATCH = BATCH  # its batch_body reads the size from there
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    configure_environment(args.database_url, work)
    os.environ.update({"CELERY_BROKER_URL": args.broker_url, "VAR_DIR": str(work)})
    recreate_database(args.database_url)
    import django
    import redis

    redis.Redis.from_url(args.broker_url).flushdb()
    django.setup()
    log("setting up the model, version and tokens")
    token, _auditor = setup_story()
    port = free_port()
    server = start_gunicorn(port)
    worker = start_celery(args.broker_url, work)
    sampler = Sampler(server.pid, worker.pid, args.broker_url, args.database_url)
    try:
        wait_for_worker()
        occurred_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        time.sleep(1.5)  # decisions must occur after the deployment started
        driver = Driver(port, token, occurred_at)
        log(f"calibrating: {CLIENTS} clients, batches of {BATCH}, unthrottled, {calibration} s")
        began = time.monotonic()
        driver.run(calibration, 0, with_observations=False)
        maximum = len(driver.results) / (time.monotonic() - began)
        rate = LOAD_SHARE * maximum
        calibrated = len(driver.results)
        log(f"maximum {maximum:.2f} batches/s ({maximum * BATCH:,.0f} decisions/s); soaking at {rate:.2f} posts/s")

        started = time.monotonic()
        sampler.take()
        sampler.start()
        soak = threading.Thread(target=driver.run, args=(60 * minutes, rate), kwargs={"with_observations": True})
        soak.start()
        while soak.is_alive():
            soak.join(30)
            last = sampler.samples[-1]
            done = sum(r.decisions for r in driver.results[calibrated:] if r.ok)
            log(
                f"  {done:,} decisions, {len(driver.errors)} errors, gunicorn {last.gunicorn_mib:,.0f} MiB, "
                f"queue {last.queued:,} ({last.dead:,} dead), celery {last.celery}"
            )
        sampler.stop.set()
        sampler.join()
        log("waiting for the queue to drain")
        wait_for_drain(sampler)
        log("running verify_ledger")
        verified = verify(args.database_url)
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    soaked = driver.results[calibrated:]
    minutes_table = per_minute(soaked, started, minutes)
    during = [s for s in sampler.samples if s.at <= started + 60 * minutes + SAMPLE_SECONDS]
    first_rss, last_rss = during[0].gunicorn_mib, during[-1].gunicorn_mib
    ratio = minutes_table[-1].p99_ms / minutes_table[0].p99_ms if minutes_table[0].p99_ms else 0.0
    errors = sum(not r.ok for r in soaked)
    observed = sum(1 for r in soaked if not r.decisions and r.ok) * OBSERVATIONS
    rows = [
        Row(f"maximum, calibrated ({CLIENTS} clients, batches of {BATCH})", maximum * BATCH, "decisions/s"),
        Row(f"soak rate ({LOAD_SHARE:.0%} of it, every {OBSERVATION_EVERY}th post observations)", rate, "posts/s"),
        Row("decisions posted in the soak", sum(r.decisions for r in soaked if r.ok), "decisions"),
        Row("observations posted in the soak", observed, "observations"),
        at_most("errors", errors, "errors", 0),
        at_most("p99 last minute / first minute", ratio, "x", 1.5),
        Row("gunicorn RSS (master + workers), start", first_rss, "MiB"),
        Row("gunicorn RSS (master + workers), end", last_rss, "MiB"),
        at_most("gunicorn RSS growth", 100 * (last_rss / first_rss - 1), "%", 10),
        Row("celery worker RSS growth", 100 * (during[-1].worker_mib / during[0].worker_mib - 1), "%"),
        Row("submission queue, max rows", max(s.queued for s in during), "rows"),
        Row("submission queue, dead rows at the end", sampler.samples[-1].dead, "rows"),
        Row("celery queue, max length", max(s.celery for s in during), "tasks"),
        at_most("verify_ledger exit code", verified, "", 0),
    ]
    print()
    print(machine_line())
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine skews results)")
    print_minutes(minutes_table)
    print()
    print_samples(sampler.samples, started)
    print()
    print_table(rows)
    if driver.errors:
        print(f"first error: {driver.errors[0]}")
    print(f"RESULT soak_p99_ratio={ratio:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
