"""Step 1 of the bundle check: ``manifest.json`` and the files it lists; and step 3, ``keys.json``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from model_ledger_verify import canonical, notes
from model_ledger_verify.bundle.common import (
    BUNDLE_FORMAT,
    HEX64,
    KEYS_FILE,
    MANIFEST_FILE,
    REQUIRED_FILES,
    VerificationError,
    digest_mismatch,
    is_int,
    load_json,
    read_small,
)

# A safe plain file name for a manifest entry: no directories, no hidden or special names.
_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
# Files other than entries.ndjson are hashed in reads of this size.
_READ_BYTES = 4 << 20


@dataclass(frozen=True)
class Manifest:
    origin: str
    size: int
    files: dict[str, tuple[str, int]]  # name -> (sha256 hex, bytes)


def check_manifest(bundle: Path, deferred: frozenset[str]) -> Manifest:
    """Check manifest.json and the files it lists.

    The SHA-256 of files in ``deferred`` is not computed here: the caller hashes them while
    reading them for their own checks, and must compare before reporting anything else.
    """
    m = MANIFEST_FILE
    manifest = load_json(read_small(bundle / m, m), m)
    if not isinstance(manifest, dict):
        raise VerificationError("must be a JSON object", file=m)
    if manifest.get("format") != BUNDLE_FORMAT:
        raise VerificationError(f"format is {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}", file=m)
    origin = manifest.get("origin")
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise VerificationError("origin must be a non-empty one-line string", file=m)
    try:
        canonical.dumps(origin)
    except canonical.CanonicalError:
        raise VerificationError("origin is not valid Unicode", file=m) from None
    size = manifest.get("size")
    if not is_int(size) or size < 0:
        raise VerificationError("size must be a non-negative integer", file=m)
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise VerificationError("files must be an object mapping file names to hashes", file=m)

    for name in REQUIRED_FILES:
        if name not in listed:
            if (bundle / name).exists():
                raise VerificationError(f"{name} is in the bundle but not listed", file=m)
            raise VerificationError(f"{name} is neither listed nor in the bundle", file=m)

    files: dict[str, tuple[str, int]] = {}
    for name, meta in listed.items():
        if not _FILENAME.fullmatch(name) or name == MANIFEST_FILE:
            raise VerificationError(f"listed file name {name!r} is not a plain file name", file=m)
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("sha256"), str)
            or not HEX64.fullmatch(meta["sha256"])
            or not is_int(meta.get("bytes"))
            or meta["bytes"] < 0
        ):
            raise VerificationError(f'files.{name} must be {{"sha256": "<64 lowercase hex>", "bytes": <n>}}', file=m)
        files[name] = (meta["sha256"], meta["bytes"])

    for name, (digest, length) in files.items():
        path = bundle / name
        if not path.is_file():
            raise VerificationError(f"lists {name}, which is missing from the bundle", file=m)
        actual = path.stat().st_size
        if actual != length:
            raise VerificationError(f"lists {name} as {length} bytes but the file has {actual}", file=m)
        if name in deferred:
            continue
        actual_digest, actual = _file_digest(path, name)
        if actual_digest != digest or actual != length:
            raise VerificationError(digest_mismatch(name, digest, actual_digest), file=m)
    return Manifest(origin, size, files)


def check_keys_file(bundle: Path) -> None:
    """Check that keys.json has the documented shape. Its keys are informational only: trust
    comes from the keys the auditor passes in, never from the bundle itself."""
    k = KEYS_FILE
    doc = load_json(read_small(bundle / k, k), k)
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list):
        raise VerificationError('must be an object {"keys": [...]}', file=k)
    for i, item in enumerate(keys):
        if not isinstance(item, dict) or not isinstance(item.get("verifier_key"), str):
            raise VerificationError(f"keys[{i}] has no verifier_key string", file=k)
        try:
            notes.Verifier.from_string(item["verifier_key"])
        except notes.NoteError as exc:
            raise VerificationError(f"keys[{i}].verifier_key is malformed: {exc}", file=k) from None
        for bound in ("valid_from", "valid_until"):
            if item.get(bound) is not None and not isinstance(item[bound], str):
                raise VerificationError(f"keys[{i}].{bound} must be a string or null", file=k)


def _file_digest(path: Path, name: str) -> tuple[str, int]:
    """Return the SHA-256 hex digest and length of a file, read in blocks."""
    h = hashlib.sha256()
    n = 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(_READ_BYTES):
                h.update(block)
                n += len(block)
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=name) from None
    return h.hexdigest(), n
