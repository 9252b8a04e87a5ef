"""Offline verification of a ledger export bundle, as specified in docs/ledger-format.md.

An auditor runs this against a directory written by ``manage.py export_ledger`` and trusts
nothing but the verifier keys they pass in (and, optionally, a checkpoint they saved earlier).
The module needs only the standard library and ``cryptography`` (through :mod:`model_ledger_verify.notes`);
it imports no Django and opens no network connection.

:func:`verify_bundle` checks, in this order, and reports the first failure:

1. ``manifest.json``: format ``ledger-bundle/1``; ``entries.ndjson``, ``checkpoints.ndjson``
   and ``keys.json`` are all listed, and every listed file is present with the listed byte
   length and SHA-256.
2. ``entries.ndjson``, line by line: each line is ``{"seq", "leaf_hash", "leaf"}``; seq runs
   0, 1, 2, … with no gap; the leaf is base64 of RFC 8785 canonical JSON with exactly the leaf
   members and types of the format; its ``seq`` and ``origin`` match; and ``leaf_hash`` is
   SHA-256(0x00 ‖ leaf) (RFC 9162 §2.1.1). The Merkle tree is rebuilt from the leaf hashes as
   a compact range (the right edge of the tree), and its root captured at every size that a
   checkpoint needs. The number of lines must equal the manifest's ``size``.
3. ``keys.json`` has the documented shape (its keys are informational: trust comes only from
   the keys the auditor passes in).
4. ``checkpoints.ndjson``: each line ``{"size", "root", "note"}``, in non-decreasing size
   order; the note is a C2SP signed note validly signed by one of the given keys, whose text is
   a C2SP tlog checkpoint for the manifest's origin; the JSON ``size`` and ``root`` agree with
   the note; no size has two different signed roots; and every signed root equals the root
   recomputed from the entries at exactly that size.
5. Optionally a *trusted checkpoint* saved by the auditor earlier: it must verify with the same
   keys, and the root recomputed at its size must equal its root, which proves that this
   bundle extends the log the auditor saw.

Entries after the largest checkpoint are checked like every other entry but are not yet
covered by a signature; the report says how many there are.

The package is split by subject: :mod:`.manifest` (steps 1 and 3), :mod:`.entries` (step 2,
with the parallel tree rebuild), :mod:`.checkpoints` (steps 4 and 5); the leaf format itself is
:mod:`model_ledger_verify.leaf`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_ledger_verify import checkpoints, merkle
from model_ledger_verify.bundle.checkpoints import open_trusted, parse_verifier_keys, read_checkpoints
from model_ledger_verify.bundle.common import (
    BUNDLE_FORMAT,
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    KEYS_FILE,
    MANIFEST_FILE,
    TRUSTED_CHECKPOINT,
    VerificationError,
)
from model_ledger_verify.bundle.entries import default_workers, scan_entries
from model_ledger_verify.bundle.manifest import check_keys_file, check_manifest
from model_ledger_verify.leaf import VERSION as LEAF_VERSION
from model_ledger_verify.leaf import parse_canonical

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINTS_FILE",
    "ENTRIES_FILE",
    "KEYS_FILE",
    "LEAF_VERSION",
    "MANIFEST_FILE",
    "BundleReport",
    "VerificationError",
    "parse_canonical",
    "parse_verifier_keys",
    "verify_bundle",
]


@dataclass(frozen=True)
class BundleReport:
    """What :func:`verify_bundle` established about a bundle that verified.

    ``checkpoints`` counts the verified checkpoint lines. ``latest_checkpoint_size`` and
    ``latest_checkpoint_root`` describe the largest of them (None when there is none), and
    ``uncovered_entries`` counts the entries after it, which are well formed but not yet
    covered by a signed checkpoint. ``trusted_checkpoint_size`` and ``trusted_checkpoint_root``
    are set when a trusted checkpoint was given (it then verified). ``signers`` names the given
    keys that signed at least one checkpoint; ``root`` is the root of all entries.
    """

    origin: str
    entries: int
    checkpoints: int
    latest_checkpoint_size: int | None
    latest_checkpoint_root: bytes | None
    uncovered_entries: int
    trusted_checkpoint_size: int | None
    trusted_checkpoint_root: bytes | None
    signers: tuple[str, ...]
    elapsed_seconds: float
    root: bytes = field(default=merkle.EMPTY_ROOT)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (hashes as lowercase hex)."""
        latest = trusted = None
        if self.latest_checkpoint_size is not None and self.latest_checkpoint_root is not None:
            latest = {
                "size": self.latest_checkpoint_size,
                "root": self.latest_checkpoint_root.hex(),
            }
        if self.trusted_checkpoint_size is not None and self.trusted_checkpoint_root is not None:
            trusted = {
                "size": self.trusted_checkpoint_size,
                "root": self.trusted_checkpoint_root.hex(),
            }
        return {
            "origin": self.origin,
            "entries": self.entries,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "latest_checkpoint": latest,
            "uncovered_entries": self.uncovered_entries,
            "trusted_checkpoint": trusted,
            "signers": list(self.signers),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


def verify_bundle(
    path: Path,
    verifier_keys: Sequence[str],
    trusted_checkpoint: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
) -> BundleReport:
    """Verify the export bundle in directory ``path``; return a report if everything holds.

    ``verifier_keys`` are ``<name>+<hex id>+<base64>`` strings (as ``manage.py ledger_keys``
    prints); every checkpoint must carry a valid signature by at least one of them. With
    ``trusted_checkpoint`` (the text of a signed checkpoint note saved earlier, or one line of
    a checkpoints.ndjson), the bundle must contain the tree that checkpoint describes.
    ``progress(done, total)`` is called every few thousand entries. ``workers`` is the number
    of processes checking entries: by default one per CPU for large bundles, else none.

    Raise VerificationError for the first failed check, in the order of the module docstring,
    and ValueError if a verifier key is malformed or none is given. Memory use does not depend
    on the number of entries (apart from one root per distinct checkpoint size).
    """
    started = time.perf_counter()
    verifiers = parse_verifier_keys(verifier_keys)
    bundle = Path(path)
    if not bundle.is_dir():
        raise VerificationError(f"bundle {bundle} is not a directory")

    # Step 1; the SHA-256 of entries.ndjson is checked while it is read in step 2.
    manifest = check_manifest(bundle, deferred=frozenset({ENTRIES_FILE}))
    origin = manifest.origin

    checkpoint_lines = read_checkpoints(bundle / CHECKPOINTS_FILE, verifiers, origin)
    trusted: checkpoints.Checkpoint | None = None
    trusted_error: VerificationError | None = None
    if trusted_checkpoint is not None:
        trusted, trusted_error = open_trusted(trusted_checkpoint, verifiers, origin)
    wanted = {cl.checkpoint.size for cl in checkpoint_lines if cl.checkpoint is not None}
    if trusted is not None:
        wanted.add(trusted.size)

    # Step 2.
    listed = manifest.files[ENTRIES_FILE]
    if workers is None:
        workers = default_workers(listed[1])
    entries, roots, full_root = scan_entries(
        bundle / ENTRIES_FILE, listed, origin, manifest.size, wanted, progress, workers
    )

    # Step 3.
    check_keys_file(bundle)

    # Step 4: form and signatures (equivocation included) of every line first, then every
    # signed root against the tree rebuilt from the entries.
    for cl in checkpoint_lines:
        if cl.error is not None:
            raise cl.error
    signers: dict[str, None] = {}
    for cl in checkpoint_lines:
        cp = cl.checkpoint
        assert cp is not None
        if cp.size > entries:
            raise VerificationError(
                f"checkpoint of size {cp.size} covers more entries than the bundle's {entries}",
                file=CHECKPOINTS_FILE,
                line=cl.line,
            )
        if roots[cp.size] != cp.root:
            raise VerificationError(
                f"checkpoint of size {cp.size}: signed root {cp.root.hex()} does not match the "
                f"root {roots[cp.size].hex()} recomputed from {ENTRIES_FILE}",
                file=CHECKPOINTS_FILE,
                line=cl.line,
            )
        signers.update(dict.fromkeys(cl.signers))

    # Step 5: the auditor's earlier view must be a prefix of this log.
    if trusted_error is not None:
        raise trusted_error
    if trusted is not None:
        if trusted.size > entries:
            raise VerificationError(
                f"bundle is older than trusted checkpoint: the checkpoint has size "
                f"{trusted.size} but the bundle only {entries} entries",
                file=TRUSTED_CHECKPOINT,
            )
        if roots[trusted.size] != trusted.root:
            raise VerificationError(
                f"inconsistent with this bundle: the trusted root for size {trusted.size} is "
                f"{trusted.root.hex()} but the bundle's entries give {roots[trusted.size].hex()}"
                " (the log was rewritten or forked since the checkpoint was saved)",
                file=TRUSTED_CHECKPOINT,
            )

    latest = checkpoint_lines[-1].checkpoint if checkpoint_lines else None
    return BundleReport(
        origin=origin,
        entries=entries,
        checkpoints=len(checkpoint_lines),
        latest_checkpoint_size=latest.size if latest else None,
        latest_checkpoint_root=latest.root if latest else None,
        uncovered_entries=entries - (latest.size if latest else 0),
        trusted_checkpoint_size=trusted.size if trusted else None,
        trusted_checkpoint_root=trusted.root if trusted else None,
        signers=tuple(signers),
        elapsed_seconds=time.perf_counter() - started,
        root=full_root,
    )
