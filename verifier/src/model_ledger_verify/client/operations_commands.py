"""`ledgerctl` subcommands a serving system runs: post metrics and monitoring observations, log
decisions in batches, and fetch sealed reports (see :mod:`.calls`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from model_ledger_verify.client.calls import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    add_common_options,
    call,
)
from model_ledger_verify.client.progress import ByteProgress

DECISION_BATCH = 1_000


# --- post-metrics, monitor, ci-evidence ------------------------------------------------------------
def register_post_metrics(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "post-metrics", help="post live metric observations (accuracy, AUC, volume …) for a deployed version"
    )
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument(
        "--metric", action="append", required=True, metavar="NAME=VALUE", help="e.g. auc=0.861 (decimal, repeatable)"
    )
    parser.add_argument("--window-start", required=True)
    parser.add_argument("--window-end", required=True)
    parser.add_argument("--environment", default="production")
    parser.add_argument(
        "--kind",
        default="performance",
        choices=["performance", "volume"],
        help="performance (live accuracy, AUC …; the default) or volume (--metric count=N)",
    )
    add_common_options(parser)
    parser.set_defaults(handler=_post_metrics)


def _post_metrics(args: argparse.Namespace) -> int:
    observations = []
    for item in args.metric:
        name, _, value = item.partition("=")
        if not value:
            print(f"error: --metric {item!r}: use NAME=VALUE", file=sys.stderr)
            return EXIT_USAGE
        if args.kind == "volume":
            if not value.isdigit():
                print(f"error: --metric {item!r}: a volume is a whole number, e.g. count=1200", file=sys.stderr)
                return EXIT_USAGE
            measures: dict[str, Any] = {"count": int(value)}
        else:
            measures = {"metric": name, "value": value}
        observations.append(
            {
                "version": args.version,
                "environment": args.environment,
                "kind": args.kind,
                **measures,
                "window_start": args.window_start,
                "window_end": args.window_end,
            }
        )
    return call(
        args,
        lambda c: c.post_observations(args.model, observations),
        lambda a: f"posted {len(observations)} observation(s)",
    )


def register_monitor(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("monitor", help="post monitoring observations from a JSON or NDJSON file")
    parser.add_argument("model")
    parser.add_argument("file", type=Path, help="a JSON list or NDJSON of observations (see the API docs)")
    add_common_options(parser)
    parser.set_defaults(handler=_monitor)


def _monitor(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
        rows = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except (OSError, ValueError) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return call(args, lambda c: c.post_observations(args.model, rows), lambda a: f"posted {len(rows)} observation(s)")


# --- log-decisions -----------------------------------------------------------------------------------
def register_log_decisions(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "log-decisions",
        help="stream decisions from NDJSON or CSV in batches of 1,000 (resumable, idempotent)",
        description="Progress is saved next to FILE (FILE.ledgerctl-progress) after each accepted batch; run the "
        "same command again after an interruption to resume. Resending a batch is harmless: decision ids "
        "are idempotent. CSV columns are the API's decision fields; reasons and input_snapshot as JSON text.",
    )
    parser.add_argument("model")
    parser.add_argument("file", type=Path)
    parser.add_argument("--restart", action="store_true", help="ignore saved progress")
    add_common_options(parser)
    parser.set_defaults(handler=_log_decisions)


def _rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(fh):
                item: dict[str, Any] = {k: v for k, v in row.items() if v not in ("", None)}
                for key in ("reasons", "input_snapshot"):
                    if key in item:
                        item[key] = json.loads(item[key])
                if "overridden" in item:
                    item["overridden"] = item["overridden"].lower() in ("1", "true", "yes")
                yield item
        else:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise ValueError(f"{path} line {number}: not JSON ({exc})") from None


def _log_decisions(args: argparse.Namespace) -> int:
    from model_ledger_verify.client.api import ApiError, LedgerClient, NotConfigured, Unreachable, batched

    state = args.file.with_name(args.file.name + ".ledgerctl-progress")
    done = 0 if args.restart or not state.exists() else int(state.read_text().strip() or 0)
    try:
        client = LedgerClient.from_environment(args.url, args.token)
        total = sum(1 for _ in _rows(args.file))
    except NotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = ByteProgress(sys.stderr, "decisions", unit="decisions")
    ids: list[Any] = []
    created = 0
    started = time.monotonic()
    try:
        rows = _rows(args.file)
        for _ in range(done):
            next(rows)
        for batch in batched(rows, DECISION_BATCH):
            ids = [row.get("decision_id") if isinstance(row, dict) else None for row in batch]
            answer = client.log_decisions(args.model, batch)
            created += answer.get("created", 0)
            done += len(batch)
            state.write_text(str(done))
            progress(done, total)
    except ApiError as exc:
        progress.finish()
        if args.json:
            print(exc.as_json())
        lines = exc.lines(ids)
        print(f"error: batch starting at decision {done + 1:,}: " + "\n".join(lines), file=sys.stderr)
        return EXIT_UNREACHABLE if exc.status == 401 else EXIT_FAILED
    except Unreachable as exc:
        progress.finish()
        print(f"error: {exc}; {done:,} decisions sent, run the command again to resume", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress.finish()
    state.unlink(missing_ok=True)
    summary = {"sent": done, "created": created, "seconds": round(time.monotonic() - started, 2)}
    print(json.dumps(summary) if args.json else f"{done:,} decisions sent, {created:,} new")
    return EXIT_OK


# --- report ----------------------------------------------------------------------------------------
def register_report(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="request a sealed report, wait for it, download it")
    parser.add_argument("kind", choices=["version", "annex-iv", "decision"])
    parser.add_argument("model")
    parser.add_argument("subject", help="the version, or the decision id")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--purpose", default="")
    parser.add_argument(
        "--redaction",
        choices=["authority", "internal", "subject"],
        help="decision reports: the edition (default: authority if you may read inputs, else internal)",
    )
    parser.add_argument("--timeout", type=float, default=300)
    add_common_options(parser)
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    def action(client: Any) -> dict:
        fields = {
            "kind": args.kind,
            "model": args.model,
            "purpose": args.purpose,
            ("decision_id" if args.kind == "decision" else "version"): args.subject,
        }
        if args.redaction:
            fields["redaction"] = args.redaction
        report = client.request_report(**fields)
        deadline = time.monotonic() + args.timeout
        while report["status"] == "pending":
            if time.monotonic() > deadline:
                raise ValueError(f"report {report['id']} still pending after {args.timeout:.0f} s")
            time.sleep(1)
            report = client.report(report["id"])
        if report["status"] != "ready":
            raise ValueError(f"report {report['id']} failed: {report['failure_reason']}")
        args.out.write_bytes(client.download_report(report["id"]))
        return report

    return call(args, action, lambda r: f"wrote {args.out} (report {r['id']}, SHA-256 {r['file_sha256']})")


REGISTRARS = [
    register_post_metrics,
    register_monitor,
    register_log_decisions,
    register_report,
]
