"""Write the log's tiles, entry bundles and checkpoint as static files (tlog-tiles layout).

A CDN or static host can then serve the log without the application. Full tiles and bundles
never change, so a file already there is skipped; the partial tiles of the published size are
written, and the checkpoint last, so a reader never sees a checkpoint whose tiles are missing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from ledger import tile_source, witnessing
from model_ledger_verify.tlog.tiles import ENTRIES, TILE_WIDTH, tile_path, tiles_for_size


class Sink(Protocol):
    def exists(self, name: str) -> bool: ...

    def write(self, name: str, data: bytes) -> None: ...


class DirectorySink:
    """Files under a directory, each replaced atomically (write to a temporary file, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def write(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


class StorageSink:
    """A Django storage (for instance an S3 bucket through django-storages)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def exists(self, name: str) -> bool:
        return self.storage.exists(name)

    def write(self, name: str, data: bytes) -> None:
        # The checkpoint and partial tiles are replaced. A storage that overwrites in place (an S3
        # bucket) keeps the old object until the new one is there; others would save under
        # another name, so the old file is deleted first.
        if self.storage.get_available_name(name) != name:
            self.storage.delete(name)
        saved = self.storage.save(name, ContentFile(data))
        if saved != name:
            raise RuntimeError(f"the storage saved {name} as {saved}")


@dataclass(frozen=True)
class Published:
    size: int
    written: int
    skipped: int


def publish_tiles(sink: Sink, *, entries: bool = False) -> Published:
    """Write every tile of the published checkpoint, then the checkpoint itself.

    With ``entries``, also the entry bundles (the leaves): only for a log whose entries are public.
    """
    # The published checkpoint: the latest that meets the witness policy, as /tlog/ serves it.
    published = witnessing.checkpoint_published()
    if published is None:
        return Published(size=0, written=0, skipped=0)
    written = skipped = 0
    for level, index, width in tiles_for_size(published.size):
        kinds = [(level, tile_path(level, index, width))]
        if level == 0 and entries:
            kinds.append((ENTRIES, tile_path(ENTRIES, index, width)))
        for kind, name in kinds:
            if width == TILE_WIDTH and sink.exists(name):
                skipped += 1
                continue
            sink.write(name, tile_source.resource(kind, index, width, size=published.size))
            written += 1
    sink.write("checkpoint", witnessing.cosigned_note(published).encode("utf-8"))
    return Published(size=published.size, written=written + 1, skipped=skipped)
