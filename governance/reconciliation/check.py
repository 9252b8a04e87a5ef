"""The whole check of the live database: the log (`ledger.integrity`), then every record
against its leaves. Used by `verify_ledger` and by `export_ledger` before it writes a bundle."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from governance import reconciliation
from ledger.integrity import IntegrityError, IntegrityReport, verify_database


@dataclass
class LedgerCheck:
    """The outcome: the log's report or its first problem, and the reconciliation (unless the
    log was checked alone, or was not intact: then its leaves prove nothing about records)."""

    log: IntegrityReport | None = None
    log_problem: str = ""
    records: reconciliation.Reconciliation | None = None
    log_only: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.log_problem and not (self.records and self.records.mismatches)

    def first_failure(self) -> str:
        if self.log_problem:
            return f"ledger: {self.log_problem}"
        if self.records and self.records.mismatches:
            return self.records.mismatches[0].line()
        return ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "log": {"intact": not self.log_problem}}
        if self.log_problem:
            out["log"]["problem"] = self.log_problem
        elif self.log is not None:
            out["log"].update(
                entries=self.log.entries,
                tiles=self.log.tiles,
                checkpoints=self.log.checkpoints,
                cosignatures=self.log.cosignatures,
                cosignatures_unchecked=self.log.cosignatures_unchecked,
                root=self.log.root.hex(),
            )
        if self.records is not None:
            out["records"] = {
                "checked": self.records.records,
                "total": self.records.total,
                "mismatches": [m.as_dict() for m in self.records.mismatches],
            }
        return out


def check_ledger(
    *,
    log_only: bool = False,
    log_progress: Callable[[int, int], None] | None = None,
    record_progress: Callable[[str, int], None] | None = None,
) -> LedgerCheck:
    """Check the log and, unless `log_only`, reconcile every record; never raise on a failure."""
    result = LedgerCheck(log_only=log_only)
    started = time.perf_counter()
    try:
        result.log = verify_database(progress=log_progress)
    except IntegrityError as exc:
        result.log_problem = str(exc)
        return result
    result.seconds["log"] = time.perf_counter() - started
    if not log_only:
        started = time.perf_counter()
        result.records = reconciliation.reconcile(progress=record_progress)
        result.seconds["records"] = time.perf_counter() - started
    return result
