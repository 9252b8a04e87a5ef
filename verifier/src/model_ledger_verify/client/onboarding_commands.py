"""`ledgerctl` subcommands that onboard a model: register it, grant and revoke access, set its
thresholds and policies, send a version to review, and say who the token belongs to.

They use the same LEDGER_URL / LEDGER_TOKEN (or --url / --token) and exit codes as the other
service commands; every rule (who may register a model, grant, set policy) is the server's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from model_ledger_verify.client.calls import EXIT_USAGE, add_common_options, call, receipt_line

ACTIONS = ("view", "register", "log", "reports")


def _load(path: Path) -> Any:
    """A JSON or YAML file's value (object or list)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError("YAML files need PyYAML (pip install pyyaml); or write the file as JSON.") from None
        return yaml.safe_load(text)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None


def _model_path(slug: str) -> str:
    return f"models/{quote(slug, safe='')}"


# --- register-model --------------------------------------------------------------------------------
def register_register_model(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("register-model", help="register a model in the inventory, naming its owner")
    parser.add_argument("slug", help="the model's short name, e.g. card-fraud")
    parser.add_argument("--name", required=True, help="its display name")
    parser.add_argument("--purpose", required=True, help="what it is for (intended purpose)")
    parser.add_argument("--risk-tier", required=True, choices=["low", "medium", "high"])
    parser.add_argument("--owner", required=True, help="username of its owner (a model owner)")
    parser.add_argument("--runbook", default="", help="http(s) URL of its runbook")
    parser.add_argument("--regulated-use", default="other", help="e.g. credit, insurance, employment (default other)")
    parser.add_argument("--description", default="")
    add_common_options(parser)
    parser.set_defaults(handler=_register_model)


def _register_model(args: argparse.Namespace) -> int:
    body = {
        "slug": args.slug,
        "name": args.name,
        "intended_purpose": args.purpose,
        "risk_tier": args.risk_tier,
        "owner": args.owner,
        "runbook": args.runbook,
        "regulated_use": args.regulated_use,
        "description": args.description,
    }
    return call(
        args,
        lambda c: c.post("models", body),
        lambda a: f"registered model {a['slug']} ({a['risk_tier']} risk, owner {a['owner']}; {receipt_line(a)})",
    )


# --- grant / revoke --------------------------------------------------------------------------------
def _register_access(subparsers: argparse._SubParsersAction, name: str, grant: bool) -> None:
    verb = "grant" if grant else "revoke"
    parser = subparsers.add_parser(name, help=f"{verb} per-model rights (officers and admins)")
    parser.add_argument("slug")
    parser.add_argument("principal", help="a username, or group:NAME")
    parser.add_argument("actions", nargs="+", choices=ACTIONS, metavar="ACTION", help=f"one or more of {ACTIONS}")
    parser.add_argument("--reason", default="")
    add_common_options(parser)
    parser.set_defaults(handler=lambda args: _access(args, verb))


def register_grant(subparsers: argparse._SubParsersAction) -> None:
    _register_access(subparsers, "grant", True)


def register_revoke(subparsers: argparse._SubParsersAction) -> None:
    _register_access(subparsers, "revoke", False)


def _access(args: argparse.Namespace, verb: str) -> int:
    kind, _, group = args.principal.partition(":")
    who = {"group": group} if kind == "group" and group else {"user": args.principal}
    body = {**who, "actions": args.actions, "reason": args.reason}
    done = "granted" if verb == "grant" else "revoked"
    return call(
        args,
        lambda c: c.post(f"{_model_path(args.slug)}/access/{verb}", body),
        lambda a: f"{done} {', '.join(args.actions)} on {args.slug} for {args.principal} ({receipt_line(a)})",
    )


# --- submit-review -----------------------------------------------------------------------------------
def register_submit_review(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("submit-review", help="send a registered version to the review queue")
    parser.add_argument("slug")
    parser.add_argument("version")
    add_common_options(parser)
    parser.set_defaults(handler=_submit_review)


def _submit_review(args: argparse.Namespace) -> int:
    path = f"{_model_path(args.slug)}/versions/{quote(args.version, safe='')}/review"
    return call(
        args, lambda c: c.post(path), lambda a: f"{a['model']} {a['version']} is {a['status']} ({receipt_line(a)})"
    )


# --- set-policy ---------------------------------------------------------------------------------------
def register_set_policy(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "set-policy",
        help="set a model's metric thresholds, monitoring and retraining policies (owner or officers)",
        description="Each file is JSON or YAML in the shape of the API's PUT body: thresholds, a list of "
        '{metric, operator: min|max, value: "0.80", slice} (or {"thresholds": [...]}); monitoring, '
        '{expected_interval_minutes, psi_threshold: "0.2", ks_threshold: "0.1", min_volume}; retraining, '
        "{drift_windows, accuracy_metric, accuracy_floor, max_age_days, new_data_uri_prefix}.",
    )
    parser.add_argument("slug")
    parser.add_argument("--thresholds", type=Path)
    parser.add_argument("--monitoring", type=Path)
    parser.add_argument("--retraining", type=Path)
    add_common_options(parser)
    parser.set_defaults(handler=_set_policy)


def _set_policy(args: argparse.Namespace) -> int:
    puts: list[tuple[str, str, Any]] = []
    try:
        if args.thresholds:
            value = _load(args.thresholds)
            puts.append(("thresholds", "thresholds", value if isinstance(value, dict) else {"thresholds": value}))
        if args.monitoring:
            puts.append(("monitoring policy", "monitoring-policy", _load(args.monitoring)))
        if args.retraining:
            puts.append(("retraining policy", "retraining-policy", _load(args.retraining)))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not puts:
        print("error: give at least one of --thresholds, --monitoring, --retraining", file=sys.stderr)
        return EXIT_USAGE

    def action(client: Any) -> dict:
        return {
            label: client.request("PUT", f"{_model_path(args.slug)}/{path}", body=body) for label, path, body in puts
        }

    return call(
        args, action, lambda a: "\n".join(f"set the {label} of {args.slug} ({receipt_line(a[label])})" for label in a)
    )


# --- whoami --------------------------------------------------------------------------------------------
def register_whoami(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("whoami", help="who the token belongs to: roles and rights per model")
    add_common_options(parser)
    parser.set_defaults(handler=_whoami)


def _whoami(args: argparse.Namespace) -> int:
    def describe(a: dict) -> str:
        name = f" ({a['name']})" if a.get("name") else ""
        lines = [f"{a['username']}{name}: {', '.join(a['roles']) or 'no role'}"]
        if a.get("rights"):
            lines.append(f"  may: {', '.join(a['rights'])}")
        lines += [f"  {m['slug']}: {', '.join(m['actions'])}" for m in a.get("models", [])]
        if a.get("models_truncated"):
            lines.append("  … more models (--json for the first 200)")
        return "\n".join(lines)

    return call(args, lambda c: c.get("me"), describe)


REGISTRARS = [
    register_register_model,
    register_grant,
    register_revoke,
    register_submit_review,
    register_set_policy,
    register_whoami,
]
