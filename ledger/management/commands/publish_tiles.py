"""``manage.py publish_tiles DEST``: write the log as C2SP tlog-tiles static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandParser

from ledger.publish import DirectorySink, Sink, StorageSink, publish_tiles


class Command(BaseCommand):
    help = (
        "Write the tiles, entry bundles and checkpoint of the latest signed checkpoint to DEST: a "
        "directory, or storage:ALIAS for a configured Django storage (such as an S3 bucket)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", help="a directory, or storage:ALIAS (for example storage:tiles)")
        parser.add_argument("--entries", action="store_true", help="also write the entry bundles (the leaves)")

    def handle(self, *args: Any, dest: str, entries: bool, **options: Any) -> None:
        sink: Sink
        if dest.startswith("storage:"):
            sink = StorageSink(storages[dest.removeprefix("storage:")])
        else:
            sink = DirectorySink(Path(dest))
        result = publish_tiles(sink, entries=entries)
        self.stdout.write(f"Published size {result.size}: {result.written} files written, {result.skipped} unchanged.")
