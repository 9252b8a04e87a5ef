"""``manage.py publish_tiles DEST``: write the log as C2SP tlog-tiles static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import InvalidStorageError, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

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
            alias = dest.removeprefix("storage:")
            try:
                sink = StorageSink(storages[alias])
            except InvalidStorageError:
                raise CommandError(
                    f"There is no storage named {alias!r}; STORAGES names {', '.join(settings.STORAGES)}."
                ) from None
        else:
            sink = DirectorySink(Path(dest))
        try:
            result = publish_tiles(sink, entries=entries)
        except OSError as exc:
            raise CommandError(f"publish_tiles cannot write the tiles to {dest}: {exc}") from None
        self.stdout.write(f"Published size {result.size}: {result.written} files written, {result.skipped} unchanged.")
