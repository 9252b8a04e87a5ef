"""What an import run reports: what it recorded and what it skipped, with the reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from governance.errors import GovernanceError

logger = logging.getLogger(__name__)


# Registry pages read per request: MLflow's default page for registered models.
PAGE_SIZE = 100


class NotConfigured(GovernanceError):
    """A setting the import needs is missing or names nobody."""

    code = "not_configured"


@dataclass(frozen=True)
class Skipped:
    """Something the import did not record, and why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class ImportReport:
    """What one import run did. `imported` is 0 on a run that found nothing new."""

    models_created: list[str] = field(default_factory=list)
    versions_imported: list[str] = field(default_factory=list)
    datasets_registered: list[str] = field(default_factory=list)
    deployments_started: list[str] = field(default_factory=list)
    # Versions and aliases that were already in the ledger.
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return (
            len(self.models_created)
            + len(self.versions_imported)
            + len(self.datasets_registered)
            + len(self.deployments_started)
        )

    def skip(self, subject: str, reason: str) -> None:
        self.skipped.append(Skipped(subject, reason))
        logger.info("MLflow import skipped %s: %s", subject, reason)

    def summary(self) -> dict[str, int]:
        return {
            "models_created": len(self.models_created),
            "versions_imported": len(self.versions_imported),
            "datasets_registered": len(self.datasets_registered),
            "deployments_started": len(self.deployments_started),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
        }


def _reason(exc: GovernanceError) -> str:
    """The service's message, with its per-field messages when they are plain text."""
    details = [
        f"{name}: {' '.join(messages)}"
        for name, messages in exc.errors.items()
        if isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    ]
    return " ".join([exc.message, *details])
