"""Write an export bundle (docs/ledger-format.md) that `ledgerctl verify` checks offline."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from ledger import selectors

BUNDLE_FORMAT = "ledger-bundle/1"


class _HashingWriter:
    """A binary file writer that hashes and counts what it writes."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("wb")
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self.sha256.update(data)
        self.bytes += len(data)

    def close(self) -> dict:
        self._fh.close()
        return {"sha256": self.sha256.hexdigest(), "bytes": self.bytes}


def _rfc3339(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def export_bundle(
    out_dir: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    verification: dict | None = None,
) -> dict:
    """Write entries, checkpoints, keys and a manifest into `out_dir`; return the manifest.

    The export covers the entries up to the tree size read at the start, so a log that grows
    during the export still yields a self-consistent bundle. `verification`, when given, is
    what the operator's check of the database found before the export; it goes into the
    manifest as is (docs/ledger-format.md).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    size = selectors.tree_size()
    files: dict[str, dict] = {}

    writer = _HashingWriter(out_dir / "entries.ndjson")
    for seq, leaf_hash, leaf in selectors.entry_range(0, size):
        encoded = base64.b64encode(leaf).decode()
        line = f'{{"seq":{seq},"leaf_hash":"{leaf_hash.hex()}","leaf":"{encoded}"}}\n'
        writer.write(line.encode())
        if progress and (seq + 1) % 50_000 == 0:
            progress(seq + 1, size)
    files["entries.ndjson"] = writer.close()
    if progress:
        progress(size, size)

    writer = _HashingWriter(out_dir / "checkpoints.ndjson")
    for cp in selectors.checkpoint_list().filter(size__lte=size):
        row = {"size": cp.size, "root": bytes(cp.root).hex(), "note": cp.note}
        writer.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    files["checkpoints.ndjson"] = writer.close()

    writer = _HashingWriter(out_dir / "keys.json")
    keys = [
        {
            "verifier_key": key.verifier_key,
            "valid_from": _rfc3339(key.valid_from),
            "valid_until": _rfc3339(key.valid_until),
        }
        for key in selectors.signing_key_list()
    ]
    writer.write(json.dumps({"keys": keys}, indent=2).encode() + b"\n")
    files["keys.json"] = writer.close()

    manifest = {
        "format": BUNDLE_FORMAT,
        "origin": settings.LEDGER_ORIGIN,
        "size": size,
        "files": files,
    }
    if verification is not None:
        manifest["verification"] = verification
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
