"""What both reports share: the built result, formatting helpers, the verification help."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from governance import selectors
from governance.models import Approval
from governance.reports.content import (
    Paragraph,
    ReportContent,
)

# An appendix lists at most this many ledger entries; a dossier cites a few dozen facts.
MAX_CITED = 400


@dataclass(frozen=True)
class Built:
    """A built report: the content to draw, the ledger keys it cites, and its facts as plain
    JSON-ready data (dicts, lists, strings, integers, booleans) for a machine-readable twin."""

    content: ReportContent
    ledger_keys: list[str]
    facts: dict = field(default_factory=dict)


def _officer_grant_rows(approvals: list[Approval]) -> tuple[tuple[str, ...], ...]:
    """Who proposed and who confirmed each signer's compliance officer role, when, and its seq."""
    rows = []
    for signer in {a.signer_id: a.signer for a in approvals}.values():
        grant = selectors.officer_grant_of(signer)
        if grant is None:
            rows.append((signer.get_username(), "— (no two-person grant on file)", "—", "—", "—"))
            continue
        proposed = "bootstrap command" if grant["bootstrap"] else grant["proposed_by"]
        rows.append(
            (
                signer.get_username(),
                proposed,
                grant["confirmed_by"] or "—",
                grant["confirmed_at"] or "—",
                "—" if grant["seq"] is None else str(grant["seq"]),
            )
        )
    return tuple(rows)


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def _person(user) -> str:
    return f"{user.get_full_name() or user.get_username()} ({user.get_username()})"


def _number(value: str) -> float | None:
    try:
        return float(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _verify_help(subject: str) -> Paragraph:
    return Paragraph(
        "How to verify: this PDF carries a PAdES seal over the whole file and an embedded "
        "manifest.json with an inclusion proof, against the signed ledger checkpoint it quotes, "
        f"for every ledger entry cited about {subject}. Run `ledgerctl verify-report FILE --trust "
        "ROOT.pem --key LEDGER_KEY` (root certificate from `manage.py report_trust_root`, ledger "
        "key from `manage.py ledger_keys`); it needs no access to this service."
    )
