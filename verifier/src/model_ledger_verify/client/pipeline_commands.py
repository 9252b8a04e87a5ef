"""`ledgerctl` subcommands a training pipeline runs: register datasets and versions, submit a
model card and CI evidence, read the production gates and promote (see :mod:`.calls`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from model_ledger_verify.client.calls import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_common_options,
    call,
    fingerprint_file,
    load_spec,
    receipt_line,
)

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


# --- register-dataset ------------------------------------------------------------------------------
def register_register_dataset(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("register-dataset", help="hash a dataset and register it")
    parser.add_argument("path", help="the file or directory (hashed locally; only the hash is sent)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--uri", required=True, help="where the data lives, e.g. s3://bucket/train/")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--provenance", default="")
    parser.add_argument("--preparation", default="")
    add_common_options(parser)
    parser.set_defaults(handler=_register_dataset)


def _register_dataset(args: argparse.Namespace) -> int:
    from model_ledger_verify.fingerprint import FingerprintError

    try:
        root, size = fingerprint_file(args.path)
    except FingerprintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return call(
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
        lambda a: f"dataset {a['name']} {a['sha256']} ({receipt_line(a)})",
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
    add_common_options(parser)
    parser.set_defaults(handler=_register_version)


def _version_payload(args: argparse.Namespace) -> tuple[str, dict, list[dict]]:
    spec = load_spec(args.spec) if args.spec else {}
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
        spec["artifact_sha256"], _ = fingerprint_file(artifact["path"])
    spec["artifact_uri"] = spec.get("artifact_uri") or artifact.get("uri") or artifact.get("path", "")
    if "environment_lock" in spec:
        spec["environment_lock_sha256"], _ = fingerprint_file(spec.pop("environment_lock"))
    to_register = []
    links = []
    for item in datasets:
        if "path" in item:
            root, size = fingerprint_file(item["path"])
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

    return call(args, action, lambda a: f"registered {a['model']} {a['version']} ({a['status']}; {receipt_line(a)})")


def register_ci_evidence(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ci-evidence", help="send a CI run's JUnit XML report; the server counts it and judges the CI gate"
    )
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("--report", type=Path, required=True, help="the JUnit XML test report")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--run-url", default="", help="link to the CI run")
    add_common_options(parser)
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
            f"{a['skipped']} skipped; report {digest[:16]}… recorded ({receipt_line(a)})"
        )

    return call(
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
    add_common_options(parser)
    parser.set_defaults(handler=_card)


def _card(args: argparse.Namespace) -> int:
    try:
        content = load_spec(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return call(
        args,
        lambda c: c.submit_card(args.model, args.version, content),
        lambda a: f"card revision {a['revision']} ({len(a['missing_sections'])} sections empty; {receipt_line(a)})",
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
    add_common_options(parser)
    parser.set_defaults(handler=_gates)


def _gates(args: argparse.Namespace) -> int:
    outcome: dict = {}

    def action(client: Any) -> dict:
        outcome.update(client.gates(args.model, args.version, args.env))
        return outcome

    code = call(args, action, _gate_lines)
    return EXIT_FAILED if code == EXIT_OK and not outcome.get("passed") else code


def register_promote(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("promote", help="deploy an approved version; refused with each failing gate")
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("--env", required=True)
    parser.add_argument("--change-ticket", default="")
    parser.add_argument("--ci-run-id", default="")
    parser.add_argument("--reason", default="")
    add_common_options(parser)
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

    return call(
        args, action, lambda a: f"{a['model']} {a['version']} now serves {a['environment']} ({receipt_line(a)})"
    )


REGISTRARS = [
    register_register_dataset,
    register_register_version,
    register_ci_evidence,
    register_card,
    register_gates,
    register_promote,
]
