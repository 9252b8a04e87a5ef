import sys

from django.core.management.base import BaseCommand

from ledger.integrity import IntegrityError, verify_database


class Command(BaseCommand):
    help = "Check the live ledger end to end. Exit 0 when intact, 1 naming the first bad seq."

    def handle(self, *args: object, **options: object) -> None:
        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\rchecked {done:,}/{total:,} entries")

        try:
            report = verify_database(progress=progress)
        except IntegrityError as exc:
            self.stderr.write(f"LEDGER NOT INTACT: {exc}")
            sys.exit(1)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(
            f"Ledger intact: {report.entries:,} entries, {report.nodes:,} nodes, "
            f"{report.checkpoints:,} checkpoints verified; root {report.root.hex()}"
        )
