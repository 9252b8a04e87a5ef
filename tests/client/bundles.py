"""Build export bundles (docs/ledger-format.md) synthetically, and tamper with them.

Only the pure ledger modules are used, so bundles are made without a database: leaves are RFC
8785 JSON from ``model_ledger_verify.canonical``, hashes and roots come from ``model_ledger_verify.merkle`` and
checkpoints are signed with ``model_ledger_verify.notes``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_ledger_verify import canonical, checkpoints, merkle, notes

ORIGIN = "test.example/ledger"
KEY_NAME = "test.example/ledger-key"
EVENT_TYPES = ("model.registered", "version.registered", "gate.evaluated", "model.promoted")

# Payloads of assorted shapes: nesting, lists, booleans, null, escapes, non-ASCII and
# non-BMP text, the largest safe integer and negative numbers.
PAYLOADS: tuple[dict[str, Any], ...] = (
    {},
    {"n": 1, "score": "0.8731", "tags": ["a", "b"], "ok": True, "none": None},
    {"note": "résumé ✓", "nested": {"deep": {"deeper": [1, [2, [3]]]}}},
    {"quote": 'say "hi"\\', "ctrl": "line\nbreak\ttab\u0001\u007f", "big": 2**53 - 1},
    {"emoji": "model 🚀", "neg": -42, "zero": 0, "empty": "", "list": []},
    {"\U0001f600": "non-BMP key", "\ufb01": "BMP key above the surrogates", "a": False},
)


def leaf_object(seq: int, *, origin: str = ORIGIN, **overrides: Any) -> dict[str, Any]:
    """Return the leaf members of entry ``seq``, with ``overrides`` replacing or adding some."""
    obj: dict[str, Any] = {
        "v": 1,
        "origin": origin,
        "seq": seq,
        "ts": f"2026-11-27T23:40:{seq % 60:02d}.{seq * 7919 % 1_000_000:06d}Z",
        "type": EVENT_TYPES[seq % len(EVENT_TYPES)],
        "actor": f"user:tester-{seq % 3}" if seq % 5 else "system",
        "subject": f"model:credit-risk-{seq % 7}",
        "idempotency_key": f"req-{seq:08d}",
        "data": {**PAYLOADS[seq % len(PAYLOADS)], "seq_hint": seq},
    }
    obj.update(overrides)
    return obj


def leaf_bytes(seq: int, **overrides: Any) -> bytes:
    """Return the canonical leaf bytes of entry ``seq``."""
    return canonical.dumps(leaf_object(seq, **overrides))


def entry_line(seq: int, leaf: bytes, leaf_hash: bytes | None = None) -> bytes:
    """Return an entries.ndjson line, in the exporter's exact form."""
    lh = merkle.leaf_hash(leaf) if leaf_hash is None else leaf_hash
    b64 = base64.b64encode(leaf).decode()
    return f'{{"seq":{seq},"leaf_hash":"{lh.hex()}","leaf":"{b64}"}}\n'.encode()


def checkpoint_line(note: str) -> bytes:
    """Return the checkpoints.ndjson line for a signed checkpoint note."""
    cp = checkpoints.Checkpoint.parse(note[: note.rindex("\n\n") + 1])
    row = {"size": cp.size, "root": cp.root.hex(), "note": note}
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class Bundle:
    """A bundle directory and what it was made from."""

    path: Path
    signer: notes.Signer
    leaves: list[bytes]
    origin: str = ORIGIN
    extra_signers: list[notes.Signer] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The verifier key of the log's signer."""
        return self.signer.verifier_key()

    @property
    def entries_file(self) -> Path:
        return self.path / "entries.ndjson"

    @property
    def checkpoints_file(self) -> Path:
        return self.path / "checkpoints.ndjson"

    def root(self, size: int) -> bytes:
        return merkle.root([merkle.leaf_hash(leaf) for leaf in self.leaves[:size]])

    def sign(
        self,
        size: int,
        *,
        root: bytes | None = None,
        signer: notes.Signer | None = None,
        origin: str | None = None,
    ) -> str:
        """Return a signed checkpoint note (by default: true root, log's key and origin)."""
        cp = checkpoints.Checkpoint(origin or self.origin, size, self.root(size) if root is None else root)
        return checkpoints.sign_checkpoint(cp, signer or self.signer)

    def entry_lines(self) -> list[bytes]:
        return self.entries_file.read_bytes().splitlines(keepends=True)

    def write_entry_lines(self, lines: Iterable[bytes], *, rehash: bool = True) -> None:
        self.entries_file.write_bytes(b"".join(lines))
        if rehash:
            self.rehash()

    def replace_entry(self, seq: int, line: bytes, *, rehash: bool = True) -> None:
        lines = self.entry_lines()
        lines[seq] = line
        self.write_entry_lines(lines, rehash=rehash)

    def checkpoint_lines(self) -> list[bytes]:
        return self.checkpoints_file.read_bytes().splitlines(keepends=True)

    def write_checkpoint_lines(self, lines: Iterable[bytes], *, rehash: bool = True) -> None:
        self.checkpoints_file.write_bytes(b"".join(lines))
        if rehash:
            self.rehash()

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / "manifest.json").read_text())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2) + "\n"
        (self.path / "manifest.json").write_text(text, encoding="utf-8")

    def rehash(self) -> None:
        """Recompute the manifest's hashes and lengths of the files it lists (as a forger
        who controls the whole bundle would), keeping everything else."""
        manifest = self.manifest()
        for name in manifest["files"]:
            data = (self.path / name).read_bytes()
            manifest["files"][name] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        self.write_manifest(manifest)


def build_bundle(
    path: Path,
    size: int = 100,
    checkpoint_sizes: Iterable[int] = (0, 1, 7, 64, 100),
    *,
    origin: str = ORIGIN,
    signer: notes.Signer | None = None,
    leaves: list[bytes] | None = None,
) -> Bundle:
    """Write a bundle of ``size`` entries with checkpoints at ``checkpoint_sizes``."""
    path.mkdir(parents=True, exist_ok=True)
    signer = signer or notes.Signer.from_string(notes.generate_signer_key(KEY_NAME))
    if leaves is None:
        leaves = [leaf_bytes(seq, origin=origin) for seq in range(size)]
    bundle = Bundle(path=path, signer=signer, leaves=leaves, origin=origin)

    bundle.entries_file.write_bytes(b"".join(entry_line(i, leaf) for i, leaf in enumerate(leaves)))
    bundle.checkpoints_file.write_bytes(b"".join(checkpoint_line(bundle.sign(n)) for n in sorted(checkpoint_sizes)))
    keys = {
        "keys": [
            {
                "verifier_key": signer.verifier_key(),
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_until": None,
            }
        ]
    }
    (path / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")
    bundle.write_manifest(
        {
            "format": "ledger-bundle/1",
            "origin": origin,
            "size": len(leaves),
            "files": {name: {} for name in ("entries.ndjson", "checkpoints.ndjson", "keys.json")},
        }
    )
    bundle.rehash()
    return bundle


def new_signer(name: str = "someone-else.example/key") -> notes.Signer:
    return notes.Signer.from_string(notes.generate_signer_key(name))
