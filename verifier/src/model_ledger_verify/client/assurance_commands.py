"""`ledgerctl` subcommands recording assurance facts: the AI Act classification, risk register
entries, human-oversight measures and validation findings. Each call records a new revision (a
ledger event) and prints its receipt."""

from __future__ import annotations

import argparse
from typing import Any

from model_ledger_verify.client.calls import add_common_options, call

LEVELS = ["low", "medium", "high", "critical"]


def _describe(what: str) -> Any:
    def describe(answer: dict) -> str:
        seq = (answer.get("receipt") or {}).get("seq")
        revision = answer.get("revision")
        return f"Recorded {what} {answer.get('entry_id')} revision {revision} (ledger seq {seq})."

    return describe


def _send(args: argparse.Namespace, path: str, body: dict[str, Any], what: str) -> int:
    return call(args, lambda client: client.post(path, body), _describe(what))


def register_classify(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("classify", help="record a model's intended purpose and AI Act classification")
    parser.add_argument("model")
    parser.add_argument("--purpose", required=True, help="the intended purpose, as the provider states it")
    parser.add_argument(
        "--annex-iii",
        required=True,
        choices=["4(a)", "4(b)", "5(a)", "5(b)", "5(c)", "other", "annex_i", "not_high_risk"],
    )
    parser.add_argument("--rationale", default="", help="why; required when claiming not_high_risk (Art. 6(3))")
    parser.add_argument("--role", default="provider", choices=["provider", "deployer"])
    add_common_options(parser)
    parser.set_defaults(
        handler=lambda a: _send(
            a,
            f"models/{a.model}/classification",
            {"intended_purpose": a.purpose, "annex_iii": a.annex_iii, "rationale": a.rationale, "role": a.role},
            "classification",
        )
    )


def register_risk(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("record-risk", help="record a risk register entry (a new revision of ENTRY_ID)")
    parser.add_argument("model")
    parser.add_argument("entry_id", help="e.g. r-01")
    parser.add_argument("--hazard", required=True)
    parser.add_argument("--affected", default="", help="the persons or groups it affects")
    parser.add_argument("--mitigation", default="")
    parser.add_argument("--residual", required=True, choices=LEVELS, help="the residual risk level")
    parser.add_argument("--acceptance", default="pending", choices=["pending", "accepted", "not_accepted"])
    parser.add_argument("--acceptance-note", default="", help="who accepted it and on what basis")
    add_common_options(parser)
    parser.set_defaults(
        handler=lambda a: _send(
            a,
            f"models/{a.model}/risks",
            {
                "entry_id": a.entry_id,
                "hazard": a.hazard,
                "affected": a.affected,
                "mitigation": a.mitigation,
                "residual_level": a.residual,
                "acceptance": a.acceptance,
                "acceptance_note": a.acceptance_note,
            },
            "risk",
        )
    )


def register_oversight(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("record-oversight", help="record a human-oversight measure (Art. 14)")
    parser.add_argument("model")
    parser.add_argument("entry_id", help="e.g. o-01")
    parser.add_argument("--measure", required=True, help="what people can do to watch, override or stop the system")
    parser.add_argument("--responsible", required=True, help="the role or team responsible")
    parser.add_argument("--inactive", action="store_true", help="record that the measure is no longer in place")
    add_common_options(parser)
    parser.set_defaults(
        handler=lambda a: _send(
            a,
            f"models/{a.model}/oversight",
            {"entry_id": a.entry_id, "measure": a.measure, "responsible": a.responsible, "active": not a.inactive},
            "oversight measure",
        )
    )


def register_finding(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("record-finding", help="record a validation finding of a version (officers)")
    parser.add_argument("model")
    parser.add_argument("version")
    parser.add_argument("entry_id", help="e.g. f-01")
    parser.add_argument("--title", required=True)
    parser.add_argument("--severity", required=True, choices=LEVELS)
    parser.add_argument("--remediation", default="")
    parser.add_argument("--state", default="open", choices=["open", "in_remediation", "remediated", "risk_accepted"])
    add_common_options(parser)
    parser.set_defaults(
        handler=lambda a: _send(
            a,
            f"models/{a.model}/versions/{a.version}/findings",
            {
                "entry_id": a.entry_id,
                "title": a.title,
                "severity": a.severity,
                "remediation": a.remediation,
                "state": a.state,
            },
            "finding",
        )
    )


REGISTRARS = [register_classify, register_risk, register_oversight, register_finding]
