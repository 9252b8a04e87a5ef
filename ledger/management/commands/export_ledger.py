import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from ledger.export import export_bundle


class Command(BaseCommand):
    help = "Write the ledger as a bundle (entries, checkpoints, keys, manifest) for offline checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path)

    def handle(self, *args: object, out_dir: Path, **options: object) -> None:
        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\rexported {done:,}/{total:,} entries")
            if done == total:
                sys.stderr.write("\n")

        manifest = export_bundle(out_dir, progress=progress)
        self.stdout.write(
            f"Wrote {manifest['size']:,} entries to {out_dir}. Verify with:\n"
            f'  ledgerctl verify {out_dir} --key "$(python manage.py ledger_keys | tail -n 1)"'
        )
