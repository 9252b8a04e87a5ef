"""Offline verification of a ledger export bundle, as specified in docs/ledger-format.md.

An auditor runs this against a directory written by ``manage.py export_ledger`` and trusts
nothing but the verifier keys they pass in (and, optionally, a checkpoint they saved earlier).
The module needs only the standard library and ``cryptography`` (through :mod:`ledger.notes`);
it imports no Django and opens no network connection.

:func:`verify_bundle` checks, in this order, stopping at the first failure:

1. ``manifest.json``: format ``ledger-bundle/1``, and every listed file present with the listed
   byte length and SHA-256; ``entries.ndjson``, ``checkpoints.ndjson`` and ``keys.json`` must
   all be listed.
2. ``entries.ndjson``, streamed line by line: each line is ``{"seq", "leaf_hash", "leaf"}``,
   seq runs 0, 1, 2, … without gaps, the leaf is base64 of RFC 8785 canonical JSON with exactly
   the leaf members and types of the format, its ``seq`` and ``origin`` match, and
   ``leaf_hash`` is SHA-256(0x00 ‖ leaf) (RFC 9162 §2.1.1). The Merkle tree is rebuilt on the
   fly with a :class:`ledger.merkle.CompactRange`, and its root captured at every size that a
   checkpoint needs. The number of lines must equal the manifest's ``size``.
3. ``checkpoints.ndjson``: each line ``{"size", "root", "note"}`` in non-decreasing size order;
   the note is a C2SP signed note validly signed by one of the given keys, whose body is a C2SP
   tlog checkpoint for the manifest's origin; the JSON ``size`` and ``root`` agree with the
   note; no size carries two different roots; and the signed root equals the root recomputed
   from the entries at exactly that size.
4. Optionally a *trusted checkpoint*, which must verify with the same keys and whose root must
   equal the recomputed root at its size: the bundle extends what the auditor saw before.

Entries after the largest checkpoint are checked like every other entry but are not yet
covered by a signature; the report says how many there are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import canonical, merkle, notes

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINTS_FILE",
    "ENTRIES_FILE",
    "KEYS_FILE",
    "LEAF_VERSION",
    "MANIFEST_FILE",
    "BundleReport",
    "VerificationError",
    "parse_verifier_keys",
    "verify_bundle",
]

BUNDLE_FORMAT = "ledger-bundle/1"
MANIFEST_FILE = "manifest.json"
ENTRIES_FILE = "entries.ndjson"
CHECKPOINTS_FILE = "checkpoints.ndjson"
KEYS_FILE = "keys.json"
REQUIRED_FILES = (ENTRIES_FILE, CHECKPOINTS_FILE, KEYS_FILE)

LEAF_VERSION = 1
"""The only leaf format version (the ``v`` member) this verifier understands."""

MAX_LINE_BYTES = 4 << 20
"""The longest entry or checkpoint line accepted; bounds memory on a hostile bundle."""

MAX_SMALL_FILE_BYTES = 64 << 20
"""The largest ``manifest.json`` or ``keys.json`` that is read into memory."""

# How many leaf hashes are buffered before they are folded into the compact range; also how
# often the progress callback runs.
_BATCH = 8192
_READ_CHUNK = 1 << 20

_ENTRY_MEMBERS = frozenset({"seq", "leaf_hash", "leaf"})
_CHECKPOINT_MEMBERS = frozenset({"size", "root", "note"})
# Leaf members and their JSON types (docs/ledger-format.md, "Leaves").
_LEAF_TYPES: dict[str, type] = {
    "v": int,
    "origin": str,
    "seq": int,
    "ts": str,
    "type": str,
    "actor": str,
    "subject": str,
    "idempotency_key": str,
    "data": dict,
}
_LEAF_MEMBERS = frozenset(_LEAF_TYPES)
_HEX64 = re.compile(r"[0-9a-f]{64}")
# RFC 3339 UTC with exactly six fractional digits and "Z", e.g. 2026-11-27T23:40:01.123456Z.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# A safe plain filename for a manifest entry: no directories, no hidden or special names.
_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1 leaf hash domain separator


class VerificationError(Exception):
    """The bundle does not verify. ``str()`` names the file, line and seq where known.

    ``reason`` is the bare description; ``file``, ``line`` (1-based) and ``seq`` locate it.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        seq: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.seq = seq
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where} line {self.line}".strip()
        if self.seq is not None:
            where = f"{where} (seq {self.seq})".strip()
        return f"{where}: {self.reason}" if where else self.reason

    def to_dict(self) -> dict[str, Any]:
        """Return the error as JSON-ready data."""
        return {
            "error": str(self),
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class BundleReport:
    """What :func:`verify_bundle` established about a bundle that verified.

    ``latest_checkpoint_size`` and ``latest_checkpoint_root`` describe the largest verified
    checkpoint (None when the bundle has none); ``uncovered_entries`` counts the entries after
    it, which are well formed but not yet signed. ``trusted_checkpoint_size`` and
    ``trusted_checkpoint_root`` are set when a trusted checkpoint was given and verified.
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
    """The recomputed root of all entries in the bundle (signed or not)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (hashes as lowercase hex)."""

        def hx(value: bytes | None) -> str | None:
            return None if value is None else value.hex()

        return {
            "origin": self.origin,
            "entries": self.entries,
            "root": self.root.hex(),
            "checkpoints": self.checkpoints,
            "latest_checkpoint": None
            if self.latest_checkpoint_size is None
            else {"size": self.latest_checkpoint_size, "root": hx(self.latest_checkpoint_root)},
            "uncovered_entries": self.uncovered_entries,
            "trusted_checkpoint": None
            if self.trusted_checkpoint_size is None
            else {"size": self.trusted_checkpoint_size, "root": hx(self.trusted_checkpoint_root)},
            "signers": list(self.signers),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


# --------------------------------------------------------------------------------------------
# Canonical JSON check
# --------------------------------------------------------------------------------------------


def _refuse(text: str) -> Any:
    raise ValueError(text)


# The fast path re-serialises with the C JSON encoder. For the inputs it accepts, that output is
# byte-for-byte the RFC 8785 serialisation produced by canonical.dumps:
#  - strings: both escape exactly ", \, \b \f \n \r \t and other U+0000..U+001F as \u00xx in
#    lowercase hex, and write every other character as itself (RFC 8785 §3.2.2.2);
#  - integers: both write int repr; canonical refuses magnitudes above 2**53 - 1, so any run of
#    16 or more digits sends the leaf to the slow path;
#  - keys: RFC 8785 §3.2.3 sorts by UTF-16 code units, Python by code points; the two orders
#    agree unless a character outside the BMP is present, which in UTF-8 needs a 0xF0..0xF4
#    lead byte, so such leaves take the slow path;
#  - floats, NaN and Infinity make the decoder raise; duplicate keys, whitespace and any other
#    deviation make the re-serialisation differ from the input; lone surrogates cannot be
#    encoded as UTF-8; more than MAX_DEPTH brackets sends the leaf to the slow path.
# Whenever the fast path is unsure, canonical.loads/dumps decide, so the result (and the error
# message) is always theirs.
_FAST_DECODER = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse)
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
    check_circular=False,
)
_SLOW_PATH_BYTES = re.compile(rb"\d{16}|[\xf0-\xff]")


def parse_canonical(data: bytes) -> Any:
    """Return the value of ``data`` if it is canonical ledger JSON; raise CanonicalError if not.

    Canonical means ``canonical.dumps(canonical.loads(data)) == data``: strict UTF-8 RFC 8785
    JSON without floats, duplicate keys or unsafe integers, in its one canonical byte form.
    """
    try:
        if (
            data.count(b"{") + data.count(b"[") <= canonical.MAX_DEPTH
            and _SLOW_PATH_BYTES.search(data) is None
        ):
            text = data.decode("utf-8")
            value, end = _FAST_DECODER.raw_decode(text)
            if end == len(text) and _FAST_ENCODER.encode(value).encode("utf-8") == data:
                return value
    except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeError
        pass
    value = canonical.loads(data)
    if canonical.dumps(value) != data:
        raise canonical.CanonicalError(
            "bytes are valid JSON but not in RFC 8785 canonical form "
            "(member order, whitespace or escaping differ)"
        )
    return value


# --------------------------------------------------------------------------------------------
# Keys and small files
# --------------------------------------------------------------------------------------------


def parse_verifier_keys(keys: Sequence[str]) -> list[notes.Verifier]:
    """Return the verifiers for ``<name>+<hex id>+<base64>`` key strings.

    Raise ValueError naming the offending key if one is malformed, or if there is none.
    """
    if isinstance(keys, str):
        keys = [keys]
    verifiers: list[notes.Verifier] = []
    for i, key in enumerate(keys, start=1):
        try:
            verifiers.append(notes.Verifier.from_string(key))
        except notes.NoteError as exc:
            raise ValueError(f"verifier key {i} ({str(key)[:60]!r}) is malformed: {exc}") from None
    if not verifiers:
        raise ValueError("at least one verifier key is needed")
    return verifiers


def _read_small(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SMALL_FILE_BYTES + 1)
    except FileNotFoundError:
        raise VerificationError("file is missing from the bundle", file=name) from None
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=name) from None
    if len(data) > MAX_SMALL_FILE_BYTES:
        raise VerificationError(f"is larger than {MAX_SMALL_FILE_BYTES} bytes", file=name)
    return data


def _load_json(data: bytes, name: str, line: int | None = None) -> Any:
    try:
        return json.loads(data, parse_constant=_refuse)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(f"not valid JSON ({exc})", file=name, line=line) from None


def _is_int(value: object) -> bool:
    return type(value) is int


def _file_digest(path: Path, name: str) -> tuple[str, int]:
    """Return the SHA-256 hex digest and length of a file, read in chunks."""
    h = _sha256()
    n = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                h.update(chunk)
                n += len(chunk)
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=name) from None
    return h.hexdigest(), n


# --------------------------------------------------------------------------------------------
# Step 1: manifest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Manifest:
    origin: str
    size: int
    files: dict[str, tuple[str, int]]


def _check_manifest(bundle: Path) -> _Manifest:
    m = MANIFEST_FILE
    manifest = _load_json(_read_small(bundle / m, m), m)
    if not isinstance(manifest, dict):
        raise VerificationError("must be a JSON object", file=m)
    if manifest.get("format") != BUNDLE_FORMAT:
        raise VerificationError(
            f"format is {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}", file=m
        )
    origin = manifest.get("origin")
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise VerificationError("origin must be a non-empty one-line string", file=m)
    size = manifest.get("size")
    if not _is_int(size) or size < 0:
        raise VerificationError("size must be a non-negative integer", file=m)
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise VerificationError("files must be an object mapping file names to hashes", file=m)

    for name in REQUIRED_FILES:
        if name not in listed:
            if (bundle / name).exists():
                raise VerificationError(f"{name} is in the bundle but not listed", file=m)
            raise VerificationError(f"{name} is neither listed nor present", file=m)

    files: dict[str, tuple[str, int]] = {}
    for name, meta in listed.items():
        if not _FILENAME.fullmatch(name) or name == MANIFEST_FILE:
            raise VerificationError(f"listed file name {name!r} is not a plain file name", file=m)
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("sha256"), str)
            or not _HEX64.fullmatch(meta["sha256"])
            or not _is_int(meta.get("bytes"))
            or meta["bytes"] < 0
        ):
            raise VerificationError(
                f'files.{name} must be {{"sha256": "<64 lowercase hex>", "bytes": <n>}}', file=m
            )
        files[name] = (meta["sha256"], meta["bytes"])

    for name, (digest, length) in files.items():
        path = bundle / name
        if not path.is_file():
            raise VerificationError(f"{name} is listed but missing from the bundle", file=m)
        actual = path.stat().st_size
        if actual != length:
            raise VerificationError(
                f"{name} is {actual} bytes but the manifest lists {length}", file=m
            )
        actual_digest, actual = _file_digest(path, name)
        if actual != length:
            raise VerificationError(f"{name} changed while it was being read", file=m)
        if actual_digest != digest:
            raise VerificationError(
                f"{name} has SHA-256 {actual_digest} but the manifest lists {digest}", file=m
            )
    return _Manifest(origin, size, files)


def _check_keys_file(bundle: Path) -> None:
    """Check that keys.json has the documented shape. Its keys are informational only: trust
    comes from the keys the auditor passes in, never from the bundle itself."""
    k = KEYS_FILE
    doc = _load_json(_read_small(bundle / k, k), k)
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


# --------------------------------------------------------------------------------------------
# Checkpoints are read before the entries, so that the tree roots at their sizes can be
# captured in a single pass; any problem found is held back and reported in step 3.
# --------------------------------------------------------------------------------------------


@dataclass
class _CheckpointLine:
    line: int
    checkpoint: notes.Checkpoint | None = None
    signers: tuple[str, ...] = ()
    error: VerificationError | None = None


def _open_signed(
    note: object, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[notes.Checkpoint, tuple[str, ...]]:
    """Open a checkpoint note; raise ValueError with the reason if it does not verify."""
    if not isinstance(note, str):
        raise ValueError("note must be a string")
    try:
        text, signed_by = notes.open_note(note, verifiers)
    except notes.NoteError as exc:
        raise ValueError(f"signature check failed: {exc}") from None
    try:
        cp = notes.Checkpoint.parse(text)
    except notes.NoteError as exc:
        raise ValueError(f"note is not a valid checkpoint: {exc}") from None
    if cp.origin != origin:
        raise ValueError(f"checkpoint origin {cp.origin!r} is not the bundle origin {origin!r}")
    return cp, tuple(v.name for v in signed_by)


def _read_checkpoints(
    path: Path, verifiers: Sequence[notes.Verifier], origin: str
) -> list[_CheckpointLine]:
    """Parse and signature-check checkpoints.ndjson line by line.

    The first problem is recorded on its line (which ends the list) instead of being raised,
    so that it can be reported after the entries, in the documented order.
    """
    result: list[_CheckpointLine] = []
    previous: notes.Checkpoint | None = None
    by_size: dict[int, tuple[bytes, int]] = {}
    try:
        for number, raw in _lines(path, CHECKPOINTS_FILE):
            entry = _CheckpointLine(line=number)
            result.append(entry)
            cp, signers = _check_checkpoint_line(raw, number, verifiers, origin)
            if previous is not None and cp.size < previous.size:
                raise VerificationError(
                    f"checkpoints are not in size order: size {cp.size} follows size "
                    f"{previous.size}",
                    file=CHECKPOINTS_FILE,
                    line=number,
                )
            seen = by_size.setdefault(cp.size, (cp.root, number))
            if seen[0] != cp.root:
                raise VerificationError(
                    f"equivocation: two roots signed for size {cp.size} "
                    f"({seen[0].hex()} on line {seen[1]}, {cp.root.hex()} on this line)",
                    file=CHECKPOINTS_FILE,
                    line=number,
                )
            entry.checkpoint, entry.signers = cp, signers
            previous = cp
    except VerificationError as exc:
        if not result or result[-1].line != exc.line:
            result.append(_CheckpointLine(line=exc.line or 0))
        result[-1].error = exc
    return result


def _check_checkpoint_line(
    raw: bytes, number: int, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[notes.Checkpoint, tuple[str, ...]]:
    """Check one checkpoints.ndjson line on its own; return its checkpoint and signer names."""
    c = CHECKPOINTS_FILE
    row = _load_json(raw, c, number)
    if not isinstance(row, dict) or row.keys() != _CHECKPOINT_MEMBERS:
        raise VerificationError(
            'line must be an object with exactly "size", "root" and "note"', file=c, line=number
        )
    size, root_hex = row["size"], row["root"]
    if not _is_int(size) or size < 0:
        raise VerificationError("size must be a non-negative integer", file=c, line=number)
    what = f"checkpoint of size {size}"
    if not isinstance(root_hex, str) or not _HEX64.fullmatch(root_hex):
        raise VerificationError(
            f"{what}: root must be 64 lowercase hex digits", file=c, line=number
        )
    try:
        cp, signers = _open_signed(row["note"], verifiers, origin)
    except ValueError as exc:
        raise VerificationError(f"{what}: {exc}", file=c, line=number) from None
    if cp.size != size:
        raise VerificationError(
            f'{what}: the "size" field says {size} but the signed note says {cp.size}',
            file=c,
            line=number,
        )
    if cp.root.hex() != root_hex:
        raise VerificationError(
            f'{what}: the "root" field {root_hex} differs from the signed root {cp.root.hex()}',
            file=c,
            line=number,
        )
    return cp, signers


def _lines(path: Path, name: str) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line) for a newline-delimited file, refusing over-long lines."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=name) from None
    with fh:
        readline = fh.readline
        number = 0
        while line := readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise VerificationError(
                    f"line is longer than {MAX_LINE_BYTES} bytes", file=name, line=number
                )
            yield number, line


def _open_trusted(
    text: str, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[notes.Checkpoint | None, VerificationError | None]:
    """Open the auditor's trusted checkpoint: a signed note, or a checkpoints.ndjson line."""
    where = "trusted checkpoint"
    note: object = text
    if text.lstrip().startswith("{"):
        try:
            row = json.loads(text)
            note = row["note"]
        except (ValueError, TypeError, KeyError):
            return None, VerificationError(
                "is neither a signed note nor a checkpoint line", file=where
            )
    try:
        cp, _ = _open_signed(note, verifiers, origin)
    except ValueError as exc:
        return None, VerificationError(str(exc), file=where)
    return cp, None


# --------------------------------------------------------------------------------------------
# Step 2: entries
# --------------------------------------------------------------------------------------------


def _leaf_problem(leaf: Any) -> str | None:
    """Return what is wrong with the members of a parsed leaf, or None."""
    if not isinstance(leaf, dict):
        return "leaf is not a JSON object"
    missing = sorted(_LEAF_MEMBERS - leaf.keys())
    extra = sorted(leaf.keys() - _LEAF_MEMBERS)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        return "leaf members are wrong: " + "; ".join(parts)
    for name, kind in _LEAF_TYPES.items():
        if type(leaf[name]) is not kind:
            return f"leaf member {name} must be a JSON {_json_type_name(kind)}"
    if leaf["v"] != LEAF_VERSION:
        return f"leaf version v={leaf['v']} is not supported (expected {LEAF_VERSION})"
    if not _TIMESTAMP.fullmatch(leaf["ts"]):
        return f"leaf ts {leaf['ts'][:40]!r} is not RFC 3339 UTC with microseconds and Z"
    return None


def _json_type_name(kind: type) -> str:
    return {int: "integer", str: "string", dict: "object"}[kind]


def _entry_line_problem(row: Any) -> str:
    if not isinstance(row, dict):
        return "line is not a JSON object"
    if row.keys() != _ENTRY_MEMBERS:
        return 'line must be an object with exactly "seq", "leaf_hash" and "leaf"'
    if not _is_int(row["seq"]):
        return "seq must be an integer"
    if not isinstance(row["leaf_hash"], str) or not _HEX64.fullmatch(row["leaf_hash"]):
        return "leaf_hash must be 64 lowercase hex digits"
    return "leaf must be a base64 string"


def _scan_entries(
    path: Path,
    origin: str,
    total: int,
    wanted: set[int],
    progress: Callable[[int, int], None] | None,
) -> tuple[int, dict[int, bytes], bytes]:
    """Stream and check entries.ndjson; return (entry count, roots at wanted sizes, root).

    The tree is rebuilt with a CompactRange: leaf hashes are buffered and folded in batches, and
    a batch always ends at a wanted size so that the root there can be read off exactly.
    """
    e = ENTRIES_FILE
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = merkle.EMPTY_ROOT
    targets = iter(sorted(s for s in wanted if s > 0))
    next_target = next(targets, -1)
    tree = merkle.CompactRange()
    pending: list[bytes] = []
    flush_at = _BATCH if next_target < 0 else min(_BATCH, next_target)

    # Local names: this loop runs once per entry, millions of times.
    loads = json.loads
    b64decode = base64.b64decode
    sha256 = _sha256
    prefix = _LEAF_PREFIX
    parse = parse_canonical
    members = _LEAF_MEMBERS
    entry_members = _ENTRY_MEMBERS
    timestamp = _TIMESTAMP.fullmatch
    append = pending.append
    extend = tree.append

    n = 0
    for number, line in _lines(path, e):
        seq = number - 1
        try:
            row = loads(line)
        except ValueError as exc:
            raise VerificationError(f"not valid JSON ({exc})", file=e, line=number) from None
        if type(row) is not dict or row.keys() != entry_members:
            raise VerificationError(_entry_line_problem(row), file=e, line=number)
        if row["seq"] != seq or type(row["seq"]) is not int:
            found = row["seq"]
            raise VerificationError(
                f"seq is {found!r} but line {number} must hold seq {seq} "
                "(entries must run 0, 1, 2, … with no gap, repeat or reordering)",
                file=e,
                line=number,
            )
        try:
            leaf = b64decode(row["leaf"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise VerificationError(
                "leaf is not valid base64", file=e, line=number, seq=seq
            ) from None
        try:
            obj = parse(leaf)
        except canonical.CanonicalError as exc:
            raise VerificationError(
                f"leaf is not canonical JSON (RFC 8785): {exc}", file=e, line=number, seq=seq
            ) from None
        if (
            type(obj) is not dict
            or obj.keys() != members
            or obj["v"] != LEAF_VERSION
            or type(obj["v"]) is not int
            or type(obj["seq"]) is not int
            or type(obj["origin"]) is not str
            or type(obj["ts"]) is not str
            or type(obj["type"]) is not str
            or type(obj["actor"]) is not str
            or type(obj["subject"]) is not str
            or type(obj["idempotency_key"]) is not str
            or type(obj["data"]) is not dict
            or timestamp(obj["ts"]) is None
        ):
            raise VerificationError(
                _leaf_problem(obj) or "leaf is malformed", file=e, line=number, seq=seq
            )
        if obj["seq"] != seq:
            raise VerificationError(
                f"leaf says seq {obj['seq']} but is on the line for seq {seq}",
                file=e,
                line=number,
                seq=seq,
            )
        if obj["origin"] != origin:
            raise VerificationError(
                f"leaf origin {obj['origin']!r} is not the bundle origin {origin!r}",
                file=e,
                line=number,
                seq=seq,
            )
        digest = sha256(prefix + leaf).digest()
        if digest.hex() != row["leaf_hash"]:
            if type(row["leaf_hash"]) is not str or not _HEX64.fullmatch(row["leaf_hash"]):
                raise VerificationError(
                    "leaf_hash must be 64 lowercase hex digits", file=e, line=number, seq=seq
                )
            raise VerificationError(
                f"leaf_hash {row['leaf_hash']} does not match the leaf, whose RFC 9162 leaf "
                f"hash is {digest.hex()}",
                file=e,
                line=number,
                seq=seq,
            )
        append(digest)
        n = number
        if n == flush_at:
            for h in pending:
                extend(h)
            pending.clear()
            if n == next_target:
                roots[n] = tree.root()
                next_target = next(targets, -1)
            flush_at = n + _BATCH if next_target < 0 else min(n + _BATCH, next_target)
            if progress is not None:
                progress(n, total)
    for h in pending:
        extend(h)
    root = tree.root()
    if n != total:
        raise VerificationError(f"has {n} entries but {MANIFEST_FILE} says size {total}", file=e)
    if progress is not None:
        progress(n, total)
    return n, roots, root


# --------------------------------------------------------------------------------------------
# The whole check
# --------------------------------------------------------------------------------------------


def verify_bundle(
    path: Path,
    verifier_keys: Sequence[str],
    trusted_checkpoint: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BundleReport:
    """Verify the export bundle in directory ``path``; return a report if everything holds.

    ``verifier_keys`` are ``<name>+<hex id>+<base64>`` strings (as ``manage.py ledger_keys``
    prints); a checkpoint must carry a valid signature by at least one of them. With
    ``trusted_checkpoint`` (the text of a signed checkpoint note saved earlier, or one line of
    a checkpoints.ndjson), the bundle must contain the tree that checkpoint describes.
    ``progress(done, total)`` is called every few thousand entries.

    Raise VerificationError for the first failed check, in the order of the module docstring,
    and ValueError if a verifier key is malformed or none is given. Memory use is independent
    of the number of entries (apart from one root per distinct checkpoint size).
    """
    started = time.perf_counter()
    verifiers = parse_verifier_keys(verifier_keys)
    bundle = Path(path)
    if not bundle.is_dir():
        raise VerificationError(f"bundle {bundle} is not a directory")

    manifest = _check_manifest(bundle)
    _check_keys_file(bundle)
    origin = manifest.origin

    checkpoint_lines = _read_checkpoints(bundle / CHECKPOINTS_FILE, verifiers, origin)
    trusted: notes.Checkpoint | None = None
    trusted_error: VerificationError | None = None
    if trusted_checkpoint is not None:
        trusted, trusted_error = _open_trusted(trusted_checkpoint, verifiers, origin)
    wanted = {cl.checkpoint.size for cl in checkpoint_lines if cl.checkpoint is not None}
    if trusted is not None:
        wanted.add(trusted.size)
    wanted = {s for s in wanted if s <= manifest.size}

    entries, roots, full_root = _scan_entries(
        bundle / ENTRIES_FILE, origin, manifest.size, wanted, progress
    )

    # Step 3: signatures and form first (including equivocation, the strongest finding), then
    # every signed root against the tree rebuilt from the entries.
    signers: dict[str, None] = {}
    for cl in checkpoint_lines:
        if cl.error is not None:
            raise cl.error
    for cl in checkpoint_lines:
        cp = cl.checkpoint
        assert cp is not None
        where = {"file": CHECKPOINTS_FILE, "line": cl.line}
        if cp.size > entries:
            raise VerificationError(
                f"checkpoint of size {cp.size} covers more entries than the bundle's {entries}",
                **where,
            )
        if roots[cp.size] != cp.root:
            raise VerificationError(
                f"checkpoint of size {cp.size}: signed root {cp.root.hex()} does not match the "
                f"root {roots[cp.size].hex()} recomputed from {ENTRIES_FILE}",
                **where,
            )
        signers.update(dict.fromkeys(cl.signers))

    # Step 4: the auditor's earlier view must be a prefix of this log.
    if trusted_error is not None:
        raise trusted_error
    if trusted is not None:
        where_t = "trusted checkpoint"
        if trusted.size > entries:
            raise VerificationError(
                f"bundle is older than trusted checkpoint: the checkpoint has size "
                f"{trusted.size} but the bundle only {entries} entries",
                file=where_t,
            )
        if roots[trusted.size] != trusted.root:
            raise VerificationError(
                f"inconsistent with this bundle: the trusted root at size {trusted.size} is "
                f"{trusted.root.hex()} but the bundle's entries give {roots[trusted.size].hex()} "
                "(the log has been rewritten or forked since it was saved)",
                file=where_t,
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
