"""`ledgerctl` subcommands that talk to the service, configured by LEDGER_URL and LEDGER_TOKEN.

Exit codes: 0 done; 1 the server refused (validation, permission, conflict) or a gate failed;
2 usage (bad arguments, missing file); 3 the server is unreachable or the token is refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from model_ledger_verify.client.progress import ByteProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
DECISION_BATCH = 1_000
CARD_SECTIONS = (
    "model_details",
    "intended_use",
    "factors",
    "metrics",
    "evaluation_data",
    "training_data",
    "quantitative_analyses",
    "ethical_considerations",
    "caveats_and_recommendations",
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="server URL (default: $LEDGER_URL)")
    parser.add_argument("--token", help="API token (default: $LEDGER_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the server's JSON answer")


def _run(args: argparse.Namespace, action: Callable[[Any], Any], describe: Callable[[Any], str]) -> int:
    """Call the API through `action(client)`; print the answer; map errors to exit codes."""
    from model_ledger_verify.client.api import ApiError, LedgerClient, NotConfigured, Unreachable

    try:
        client = LedgerClient.from_environment(args.url, args.token)
        answer = action(client)
    except NotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as exc:
        if args.json:
            print(exc.as_json())
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE if exc.status == 401 else EXIT_FAILED
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(answer, indent=2) if args.json else describe(answer))
    return EXIT_OK


def _load_spec(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError("YAML specs need PyYAML (pip install pyyaml); or write the spec as JSON.") from None
        spec = yaml.safe_load(text)
    else:
        spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: the spec must be an object.")
    return spec


def _fingerprint(path: str) -> tuple[str, int]:
    from model_ledger_verify.fingerprint import fingerprint

    progress = ByteProgress(sys.stderr, f"hashing {path}")
    result = fingerprint(path, progress=progress)
    progress.finish()
    return result.root, result.total_bytes


def _receipt(answer: dict) -> str:
    receipt = answer.get("receipt") or {}
    return f"ledger seq {receipt.get('seq')}, leaf {str(receipt.get('leaf_hash', ''))[:16]}…"


# --- register-dataset ------------------------------------------------------------------------------
def register_register_dataset(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("register-dataset", help="hash a dataset and register it")
    parser.add_argument("path", help="the file or directory (hashed locally; only the hash is sent)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--uri", required=True, help="where the data lives, e.g. s3://bucket/train/")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--provenance", default="")
    parser.add_argument("--preparation", default="")
    _common(parser)
    parser.set_defaults(handler=_register_dataset)


def _register_dataset(args: argparse.Namespace) -> int:
    from model_ledger_verify.fingerprint import FingerprintError

    try:
        root, size = _fingerprint(args.path)
    except FingerprintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run(
        args,
        lambda c: c.register_dataset(
            name=args.name,
            uri=args.uri,
            sha256=root,
            size_bytes=size,
            row_count=args.rows,
            provenance=args.provenance,
            preparation=args.preparation,
        ),
        lambda a: f"dataset {a['name']} {a['sha256']} ({_receipt(a)})",
    )


# --- register-version ------------------------------------------------------------------------------
def register_register_version(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "register-version",
        help="register a model version from a spec file or flags, hashing artifact and datasets",
        description="Spec (JSON or YAML): {model, version, artifact: {path, uri}, datasets: [{path | sha256, "
        "role, name, uri}], code_repository, code_commit, pipeline_run_id, pipeline_run_url, "
        "environment_lock: path | environment_lock_sha256, hyperparameters, metrics, parent, description}.",
    )
    parser.add_argument("--spec", type=Path, help="JSON or YAML spec; flags override it")
    parser.add_argument("--model")
    parser.add_argument("--version")
    parser.add_argument("--artifact", help="path of the model artifact (file or directory) to hash")
    parser.add_argument("--artifact-uri")
    parser.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="ROLE=PATH_OR_SHA256",
        help="e.g. training=data/train/ or test=<sha256> (repeatable)",
    )
    parser.add_argument("--code-commit")
    parser.add_argument("--pipeline-run-id")
    parser.add_argument("--parent")
    _common(parser)
    parser.set_defaults(handler=_register_version)


def _version_payload(args: argparse.Namespace) -> tuple[str, dict, list[dict]]:
    spec = _load_spec(args.spec) if args.spec else {}
    for flag, key in (
        ("model", "model"),
        ("version", "version"),
        ("code_commit", "code_commit"),
        ("pipeline_run_id", "pipeline_run_id"),
        ("parent", "parent"),
        ("artifact_uri", "artifact_uri"),
    ):
        if getattr(args, flag):
            spec[key] = getattr(args, flag)
    artifact = spec.pop("artifact", {}) or {}
    if args.artifact:
        artifact["path"] = args.artifact
    datasets = list(spec.pop("datasets", []) or [])
    for item in args.dataset:
        role, _, target = item.partition("=")
        if not target:
            raise ValueError(f"--dataset {item!r}: use ROLE=PATH or ROLE=SHA256.")
        datasets.append(
            {"role": role, "sha256": target}
            if len(target) == 64 and not Path(target).exists()
            else {"role": role, "path": target}
        )
    model = spec.pop("model", None)
    if not model or not spec.get("version"):
        raise ValueError("Name the model and version (--model/--version or in the spec).")
    if "path" in artifact:
        spec["artifact_sha256"], _ = _fingerprint(artifact["path"])
    spec["artifact_uri"] = spec.get("artifact_uri") or artifact.get("uri") or artifact.get("path", "")
    if "environment_lock" in spec:
        spec["environment_lock_sha256"], _ = _fingerprint(spec.pop("environment_lock"))
    to_register = []
    links = []
    for item in datasets:
        if "path" in item:
            root, size = _fingerprint(item["path"])
            to_register.append(
                {
                    "name": item.get("name") or Path(item["path"]).name,
                    "uri": item.get("uri") or item["path"],
                    "sha256": root,
                    "size_bytes": size,
                }
            )
            links.append({"sha256": root, "role": item.get("role", "training")})
        else:
            links.append({"sha256": item["sha256"], "role": item.get("role", "training")})
    spec["datasets"] = links
    return model, spec, to_register


def _register_version(args: argparse.Namespace) -> int:
    from model_ledger_verify.fingerprint import FingerprintError

    try:
        model, payload, datasets = _version_payload(args)
    except (FingerprintError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def action(client: Any) -> dict:
        for dataset in datasets:
            client.register_dataset(**dataset)
        return client.register_version(model, **payload)

    return _run(args, action, lambda a: f"registered {a['model']} {a['version']} ({a['status']}; {_receipt(a)})")


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
    _common(parser)
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
    return _run(
        args,
        lambda c: c.post_observations(args.model, observations),
        lambda a: f"posted {len(observations)} observation(s)",
    )


def register_monitor(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("monitor", help="post monitoring observations from a JSON or NDJSON file")
    parser.add_argument("model")
    parser.add_argument("file", type=Path, help="a JSON list or NDJSON of observations (see the API docs)")
    _common(parser)
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
    return _run(args, lambda c: c.post_observations(args.model, rows), lambda a: f"posted {len(rows)} observation(s)")


def register_ci_evidence(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ci-evidence", help="send a CI run's JUnit XML report; the server counts it and judges the CI gate"
    )
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("--report", type=Path, required=True, help="the JUnit XML test report")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--run-url", default="", help="link to the CI run")
    _common(parser)
    parser.set_defaults(handler=_ci_evidence)


def _ci_evidence(args: argparse.Namespace) -> int:
    import hashlib

    try:
        data = args.report.read_bytes()
        report = data.decode("utf-8")
    except OSError as exc:
        print(f"error: {args.report}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError:
        print(f"error: {args.report}: not UTF-8 text; JUnit XML reports are sent as UTF-8", file=sys.stderr)
        return EXIT_USAGE
    digest = hashlib.sha256(data).hexdigest()

    def describe(a: dict) -> str:
        outcome = "passed" if a["passed"] else "FAILED"
        return (
            f"CI run {a['run_id']} {outcome}: {a['tests']} tests, {a['failures']} failed, {a['errors']} errors, "
            f"{a['skipped']} skipped; report {digest[:16]}… recorded ({_receipt(a)})"
        )

    return _run(
        args,
        lambda c: c.post_ci_evidence(
            args.model, args.version, run_id=args.run_id, report=report, test_report_sha256=digest, url=args.run_url
        ),
        describe,
    )


# --- card ------------------------------------------------------------------------------------------------
def register_card(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("card", help="submit a model-card revision from a JSON/YAML file")
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("file", type=Path, help=f"an object with sections: {', '.join(CARD_SECTIONS)}")
    _common(parser)
    parser.set_defaults(handler=_card)


def _card(args: argparse.Namespace) -> int:
    try:
        content = _load_spec(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run(
        args,
        lambda c: c.submit_card(args.model, args.version, content),
        lambda a: f"card revision {a['revision']} ({len(a['missing_sections'])} sections empty; {_receipt(a)})",
    )


# --- gates and promote ------------------------------------------------------------------------------
def _gate_lines(report: dict) -> str:
    lines = [
        f"{report['model']} {report['version']} → {report['environment']}: "
        + ("all gates pass" if report["passed"] else f"{len(report['failing'])} gate(s) failing")
    ]
    for gate in report.get("gates", []):
        mark = "PASS" if gate["passed"] else "FAIL"
        lines.append(f"  [{mark}] {gate['gate']}: {gate['reason']}")
    return "\n".join(lines)


def register_gates(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gates", help="show a version's production gates (exit 0 only when all pass)")
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("--env", default="production")
    _common(parser)
    parser.set_defaults(handler=_gates)


def _gates(args: argparse.Namespace) -> int:
    outcome: dict = {}

    def action(client: Any) -> dict:
        outcome.update(client.gates(args.model, args.version, args.env))
        return outcome

    code = _run(args, action, _gate_lines)
    return EXIT_FAILED if code == EXIT_OK and not outcome.get("passed") else code


def register_promote(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("promote", help="deploy an approved version; refused with each failing gate")
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("--env", required=True)
    parser.add_argument("--change-ticket", default="")
    parser.add_argument("--ci-run-id", default="")
    parser.add_argument("--reason", default="")
    _common(parser)
    parser.set_defaults(handler=_promote)


def _promote(args: argparse.Namespace) -> int:
    # A refusal prints one [FAIL] line per failing gate (model_ledger_verify.client.refusals).
    def action(client: Any) -> dict:
        return client.promote(
            args.model,
            args.version,
            args.env,
            change_ticket=args.change_ticket,
            ci_run_id=args.ci_run_id,
            reason=args.reason,
        )

    return _run(args, action, lambda a: f"{a['model']} {a['version']} now serves {a['environment']} ({_receipt(a)})")


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
    _common(parser)
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
    parser.add_argument("kind", choices=["version", "decision"])
    parser.add_argument("model")
    parser.add_argument("subject", help="the version, or the decision id")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--purpose", default="")
    parser.add_argument("--timeout", type=float, default=300)
    _common(parser)
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    def action(client: Any) -> dict:
        fields = {
            "kind": args.kind,
            "model": args.model,
            "purpose": args.purpose,
            ("version" if args.kind == "version" else "decision_id"): args.subject,
        }
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

    return _run(args, action, lambda r: f"wrote {args.out} (report {r['id']}, SHA-256 {r['file_sha256']})")


REGISTRARS = [
    register_register_dataset,
    register_register_version,
    register_post_metrics,
    register_monitor,
    register_ci_evidence,
    register_card,
    register_gates,
    register_promote,
    register_log_decisions,
    register_report,
]
