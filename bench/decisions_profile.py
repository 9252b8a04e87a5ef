"""CPU per batch of 1,000 decisions through the endpoint, in process, on PostgreSQL or SQLite.

Where `decisions_bench.py` measures rates over HTTP (which a loaded machine skews), this
measures what one batch costs: `time.process_time` around the decision service and around the
whole handler (`POST …/decisions?wait=none`, Django's test client; `--wait entry` for the
sequenced answer), the PostgreSQL backend's CPU from /proc, and a resend of the same batch
(created: 0). `--profile` adds a cProfile of one more batch through the handler.

    .venv/bin/python bench/decisions_profile.py [--rounds 6] [--wait none|entry] [--profile] [--database-url URL]

It uses its own database (default `postgres://postgres@127.0.0.1:5432/ledger_decprofile`),
made fresh on every run. The last line is `RESULT service_ms_per_1000=<n> ms`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.decisions_bench import BATCH, batch_body, recreate_database, setup_story  # noqa: E402
from bench.ledger_bench import configure_environment, machine_line  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ledger_decprofile"


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (0 on other databases)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--wait", choices=("none", "entry"), default="none", help="the handler's ?wait= (default none)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more batch")
    args = parser.parse_args(argv)
    configure_environment(args.database_url, Path(tempfile.mkdtemp(prefix="decprofile-")))
    if args.database_url.startswith("postgres"):
        recreate_database(args.database_url)
    elif args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    import orjson
    from django.contrib.auth.models import User
    from django.test import Client

    from api.fastbatch import decision_items
    from governance.models import RegisteredModel
    from governance.services import decisions

    token, _ = setup_story()
    client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    model, actor = RegisteredModel.objects.get(slug="bench-model"), User.objects.get(username="pipeline")
    occurred_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    path = f"/api/v1/models/bench-model/decisions?wait={args.wait}"
    first = 0

    def post(body: bytes, *, new: bool = True) -> dict:
        response = client.post(path, body, content_type="application/json", **headers)
        expected = 202 if args.wait == "none" else 201 if new else 200
        assert response.status_code == expected, response.content[:500]
        return orjson.loads(response.content)

    service, handler = [], []
    for _ in range(args.rounds):
        items = decision_items(orjson.loads(batch_body(first, occurred_at)))
        first += BATCH
        started, backend = time.process_time(), backend_cpu()
        decisions.decision_log_batch(actor=actor, model=model, items=items)
        service.append((time.process_time() - started, backend_cpu() - backend))
        body = batch_body(first, occurred_at)
        first += BATCH
        started, backend = time.process_time(), backend_cpu()
        post(body)
        handler.append((time.process_time() - started, backend_cpu() - backend))
    resends = []
    for _ in range(3):
        started, backend = time.process_time(), backend_cpu()
        assert post(body, new=False)["created"] == 0
        resends.append((time.process_time() - started, backend_cpu() - backend))

    def median(samples: list[tuple[float, float]], index: int) -> float:
        return statistics.median(sample[index] for sample in samples[1:] or samples) * 1000

    if args.database_url.startswith("postgres"):
        print(machine_line())
    print(f"load average: {os.getloadavg()[0]:.1f}; ms of CPU per batch of {BATCH:,}, median of {args.rounds - 1}")
    print(f"decision service: Python {median(service, 0):.1f}, database backend {median(service, 1):.0f}")
    print(
        f"whole handler (wait={args.wait}): Python {median(handler, 0):.1f}, database backend {median(handler, 1):.0f}"
    )
    print(
        f"the same batch again (created: 0): Python {median(resends, 0):.1f}, "
        f"database backend {median(resends, 1):.0f}"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        post(batch_body(first, occurred_at))
        profile.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(40)
            print(out.getvalue())
    print(f"RESULT service_ms_per_1000={median(service, 0):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
