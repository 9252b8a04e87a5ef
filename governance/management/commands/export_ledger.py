"""`manage.py export_ledger`: check the database, then write the bundle an auditor verifies."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from governance.reconciliation.check import check_ledger
from governance.reconciliation.progress import Progress
from ledger.export import export_bundle

# A forced export of a badly damaged database lists this many mismatches in its manifest (and
# how many there were); verify_ledger --json lists them all.
MANIFEST_MISMATCHES = 1_000


class Command(BaseCommand):
    help = (
        "Check the log and every record against its leaves, then write the ledger as a bundle "
        "(entries, checkpoints, keys, manifest) for offline checks. Refuses (exit 1, naming the "
        "first failure) when the check fails, unless --force, which writes the failure into "
        "the bundle's manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Export even when the check fails, recording the failure in manifest.json.",
        )

    def handle(self, *args: object, out_dir: Path, force: bool, **options: object) -> None:
        progress = Progress(sys.stderr)
        result = check_ledger(log_progress=progress.entries, record_progress=progress.records)
        progress.done()
        if not result.ok and not force:
            self.stderr.write(
                f"NOT EXPORTED: the database does not verify: {result.first_failure()}\n"
                "Run manage.py verify_ledger for every failure; --force exports anyway and says so "
                "in the bundle's manifest."
            )
            sys.exit(1)
        verification = result.as_dict()
        records = verification.get("records")
        if records and len(records["mismatches"]) > MANIFEST_MISMATCHES:
            records["mismatch_count"] = len(records["mismatches"])
            records["mismatches"] = records["mismatches"][:MANIFEST_MISMATCHES]
        verification["first_failure"] = result.first_failure() or None
        verification["forced"] = force and not result.ok

        def exported(done: int, total: int) -> None:
            progress.entries(done, total)

        manifest = export_bundle(out_dir, progress=exported, verification=verification)
        progress.done()
        if not result.ok:
            self.stderr.write(f"EXPORTED DESPITE A FAILED CHECK (--force): {result.first_failure()}")
        self.stdout.write(
            f"Wrote {manifest['size']:,} entries to {out_dir}. Verify with:\n"
            f'  ledgerctl verify {out_dir} --key "$(python manage.py ledger_keys | tail -n 1)"'
        )
