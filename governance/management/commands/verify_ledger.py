"""`manage.py verify_ledger`: the log end to end, then every record against its leaves."""

import json
import sys
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from governance.reconciliation.check import check_ledger
from governance.reconciliation.progress import Progress
from ledger.recovery import stale_queue


class Command(BaseCommand):
    help = (
        "Check the live ledger end to end, then every governance record against the leaves that "
        "recorded it. Exit 0 when all holds; 1 with one line per record that differs (table, "
        "record, field, stored value or its hash, and the seq it contradicts)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--log-only", action="store_true", help="Check the log only (the fast path).")
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object.")
        parser.add_argument(
            "--queue-warning-after",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Warn about events queued but not sequenced for longer (default LEDGER_QUEUE_WARNING_SECONDS).",
        )

    def handle(
        self, *args: object, log_only: bool, json: bool, queue_warning_after: int | None, **options: object
    ) -> None:
        seconds = settings.LEDGER_QUEUE_WARNING_SECONDS if queue_warning_after is None else queue_warning_after
        stale = stale_queue(timedelta(seconds=seconds))
        if stale.count:
            # A warning, not a failure: queued events are durable, only not in the log yet.
            self.stderr.write(stale.message())
        progress = Progress(sys.stderr)
        result = check_ledger(log_only=log_only, log_progress=progress.entries, record_progress=progress.records)
        progress.done()
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            if not result.ok:
                sys.exit(1)
            return
        if result.log_problem:
            self.stderr.write(f"LEDGER NOT INTACT: {result.log_problem}")
            sys.exit(1)
        log = result.log
        self.stdout.write(
            f"Ledger intact: {log.entries:,} entries, {log.tiles:,} tiles, "
            f"{log.checkpoints:,} checkpoints verified; root {log.root.hex()}"
        )
        if log.cosignatures or log.cosignatures_unchecked:
            unchecked = log.cosignatures_unchecked
            self.stdout.write(
                f"Witness cosignatures: {log.cosignatures:,} verified"
                + (f", {unchecked:,} by witnesses no longer configured (not checked)" if unchecked else "")
            )
        if result.records is None:
            return
        for mismatch in result.records.mismatches:
            self.stdout.write(mismatch.line())
        records = result.records
        if records.mismatches:
            self.stderr.write(
                f"RECORDS DIFFER FROM THE LEDGER: {len(records.mismatches):,} mismatch(es) "
                f"among {records.total:,} records"
            )
            sys.exit(1)
        self.stdout.write(
            f"Records reconciled: {records.total:,} records of {len(records.records)} kinds "
            "agree with their ledger entries"
        )


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
