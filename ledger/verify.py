"""Offline verification of a ledger export bundle, as specified in docs/ledger-format.md.

An auditor runs this against a directory written by ``manage.py export_ledger`` and trusts
nothing but the verifier keys they pass in (and, optionally, a checkpoint they saved earlier).
The module needs only the standard library and ``cryptography`` (through :mod:`ledger.notes`);
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

``entries.ndjson`` is read once, in blocks of whole lines: the SHA-256 for the manifest is
computed from the same reads that feed the entry checks, and a mismatch is still reported before
any entry error. A large bundle's blocks are checked by worker processes, one per CPU, which
read their block again from the (cached) file and confirm it by CRC-32 against what was hashed.
Memory use does not grow with the number of entries.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import json
import json.encoder
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ledger import canonical, merkle, notes

if TYPE_CHECKING:
    from concurrent.futures import Future

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

BUNDLE_FORMAT = "ledger-bundle/1"
MANIFEST_FILE = "manifest.json"
ENTRIES_FILE = "entries.ndjson"
CHECKPOINTS_FILE = "checkpoints.ndjson"
KEYS_FILE = "keys.json"
REQUIRED_FILES = (ENTRIES_FILE, CHECKPOINTS_FILE, KEYS_FILE)
TRUSTED_CHECKPOINT = "trusted checkpoint"

LEAF_VERSION = 1
"""The only leaf format version (the ``v`` member) this verifier understands."""

MAX_LINE_BYTES = 4 << 20
"""The longest entry or checkpoint line accepted; bounds memory on a hostile bundle."""

MAX_SMALL_FILE_BYTES = 64 << 20
"""The largest ``manifest.json`` or ``keys.json`` that is read into memory."""

PARALLEL_MIN_BYTES = 16 << 20
"""An ``entries.ndjson`` at least this large is checked by worker processes (when the machine
has more than one CPU); smaller ones are not worth starting them."""

# Size of the blocks entries.ndjson is read and checked in (each ends at a line end).
_BLOCK_BYTES = 4 << 20

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
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
# A safe plain file name for a manifest entry: no directories, no hidden or special names.
_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 ‖ leaf)
_NODE_PREFIX = b"\x01"  # RFC 9162 §2.1.1: node hash = SHA-256(0x01 ‖ left ‖ right)


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

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments need help to cross a process boundary.
        return (_rebuild_error, (self.reason, self.file, self.line, self.seq))

    def to_dict(self) -> dict[str, Any]:
        """Return the error as JSON-ready data."""
        return {
            "error": str(self),
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "seq": self.seq,
        }


def _rebuild_error(reason: str, file: str | None, line: int | None, seq: int | None) -> VerificationError:
    return VerificationError(reason, file=file, line=line, seq=seq)


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


# --------------------------------------------------------------------------------------------
# Canonical JSON
# --------------------------------------------------------------------------------------------
#
# The reference check is canonical.dumps(canonical.loads(b)) == b. It is exact but written in
# Python, and would dominate the run time on a large bundle, so each leaf first goes through a
# fast path (_fast_leaf below) built on regular expressions and on the C JSON scanner and
# encoder of the standard library. A fast path only ever *accepts*; whenever it has any doubt
# the reference check decides (and words the error).
#
# Why an acceptance is always right: for the inputs admitted, the C encoder (sort_keys, no
# whitespace, ensure_ascii off) writes exactly the RFC 8785 bytes canonical.dumps would:
#  - strings: both escape ", \, \b \f \n \r \t, other U+0000..U+001F as \u00xx in lowercase
#    hex, and write every other character as itself (RFC 8785 §3.2.2.2);
#  - integers: both write the decimal repr; canonical refuses magnitudes above 2**53 - 1, so a
#    leaf with a run of 16 or more digits anywhere is left to the reference check;
#  - member order: RFC 8785 §3.2.3 sorts keys by UTF-16 code units, Python by code points; the
#    orders agree unless a character outside the BMP occurs, which in UTF-8 needs a lead byte
#    0xF0..0xF4, so such leaves are left to the reference check;
#  - nesting: more than MAX_DEPTH opening brackets anywhere leaves it to the reference check.
# The input must also decode as strict UTF-8 and parse as one JSON value with no surrounding
# whitespace; floats, NaN and Infinity make the scanner raise; and the re-encoding must equal
# the input exactly, which rules out duplicate keys, other whitespace, escaping or order, and
# lone surrogates (the input is valid UTF-8, so its text holds none).


def _refuse(text: str) -> Any:
    raise ValueError(text)


_SCAN = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse).scan_once
_GUARD_TABLE = bytes(
    ord("d") if 0x30 <= b <= 0x39 else ord("X") if b >= 0xF0 else ord("b") if b in b"{[" else 46 for b in range(256)
)
_SIXTEEN_DIGITS = b"d" * 16


def _make_encoder() -> Callable[[Any, int], Any]:
    """Return ``f(value, 0) -> iterable of str`` producing sorted, compact, non-ASCII-escaping
    JSON: the C encoder built once, or the pure-Python one if the C accelerator is missing."""
    fallback = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is not None and escape is not None:
        try:
            encoder = make(None, None, escape, None, ":", ",", True, False, False)
            probe = {"b": [1, "é\n", None, True], "a": {}}
            if "".join(encoder(probe, 0)) == fallback.encode(probe):
                return encoder  # type: ignore[no-any-return]
        except Exception:  # noqa: S110 - any surprise in the C encoder means: use the fallback
            pass
    return lambda value, _level: fallback.iterencode(value)


_ENCODE = _make_encoder()


def _fast_canonical(data: bytes, max_brackets: int = canonical.MAX_DEPTH) -> Any:
    """Return the value of ``data`` if the fast path can prove it canonical, else None.

    ``max_brackets`` bounds the opening brackets: MAX_DEPTH for a whole value, one less for a
    value nested one level down (canonical counts depth from the top of the whole leaf).
    """
    guard = data.translate(_GUARD_TABLE)
    if b"X" in guard or _SIXTEEN_DIGITS in guard or guard.count(b"b") > max_brackets:
        return None
    try:
        text = data.decode("utf-8")
        value, end = _SCAN(text, 0)
        if end == len(text) and "".join(_ENCODE(value, 0)) == text:
            return value
    except (ValueError, StopIteration, RecursionError):  # incl. JSONDecodeError, UnicodeError
        pass
    return None


def parse_canonical(data: bytes) -> Any:
    """Return the value of ``data`` if it is canonical ledger JSON; raise CanonicalError if not.

    Canonical means ``canonical.dumps(canonical.loads(data)) == data``: strict UTF-8 RFC 8785
    JSON without floats, duplicate keys or unsafe integers, in its one canonical byte form.
    """
    value = _fast_canonical(data)
    if value is not None:
        return value
    return _parse_canonical_reference(data)


def _parse_canonical_reference(data: bytes) -> Any:
    """:func:`parse_canonical` by the reference check alone."""
    value = canonical.loads(data)
    if canonical.dumps(value) != data:
        raise canonical.CanonicalError(
            "the JSON is valid but its bytes are not the RFC 8785 form "
            "(member order, whitespace, escaping or number form differ)"
        )
    return value


# The leaf fast path. A canonical leaf has a fixed shape, its members in RFC 8785 order:
#   {"actor":S,"data":{…},"idempotency_key":S,"origin":S,"seq":N,"subject":S,"ts":T,"type":S,"v":1}
# The envelope is checked by two regular expressions, and only the data object goes through the
# JSON scanner and encoder. _STRING matches exactly the RFC 8785 serialisation of a string (with
# the UTF-8 validity of its raw bytes checked separately): characters other than ", \ and
# U+0000..U+001F as themselves, the two-character escapes \" \\ \b \f \n \r \t, and \u00xx in
# lowercase hex for the other control characters. A byte string that passes is therefore the
# canonical form of a leaf with exactly the format's members and types.
_STRING = rb'"[^"\\\x00-\x1f]*+(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+"'
_LEAF_HEAD = re.compile(rb'\{"actor":' + _STRING + rb',"data":')
_LEAF_TAIL = re.compile(
    rb'\},"idempotency_key":'
    + _STRING
    + rb',"origin":('
    + _STRING
    + rb'),"seq":(0|[1-9][0-9]{0,14}),"subject":'
    + _STRING
    + rb',"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z","type":'
    + _STRING
    + rb',"v":1\}'
)
_DATA_END = b'},"idempotency_key":'


def _fast_leaf(leaf: bytes, seq: bytes, origin: bytes) -> bool:
    """Return True if ``leaf`` is provably a canonical, well-formed leaf with the decimal
    ``seq`` and the canonical JSON string ``origin``; False means "not proven", not "bad"."""
    head = _LEAF_HEAD.match(leaf)
    if head is None:
        return False
    # The data object ends at the last "},"idempotency_key":", because no later envelope
    # member can hold that text: inside a canonical string every " is escaped.
    split = leaf.rfind(_DATA_END)
    tail = _LEAF_TAIL.fullmatch(leaf, split) if split > 0 else None
    if tail is None or tail.group(2) != seq or tail.group(1) != origin:
        return False
    try:
        leaf.decode("utf-8")
    except UnicodeDecodeError:
        return False
    data = _fast_canonical(leaf[head.end() : split + 1], canonical.MAX_DEPTH - 1)
    return type(data) is dict


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
            shown = str(key)[:60]
            raise ValueError(f"verifier key {i} ({shown!r}) is malformed: {exc}") from None
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
    """Return the SHA-256 hex digest and length of a file, read in blocks."""
    h = _sha256()
    n = 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK_BYTES):
                h.update(block)
                n += len(block)
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
    files: dict[str, tuple[str, int]]  # name -> (sha256 hex, bytes)


def _check_manifest(bundle: Path, deferred: frozenset[str]) -> _Manifest:
    """Check manifest.json and the files it lists.

    The SHA-256 of files in ``deferred`` is not computed here: the caller hashes them while
    reading them for their own checks, and must compare before reporting anything else.
    """
    m = MANIFEST_FILE
    manifest = _load_json(_read_small(bundle / m, m), m)
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
    if not _is_int(size) or size < 0:
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
            or not _HEX64.fullmatch(meta["sha256"])
            or not _is_int(meta.get("bytes"))
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
            raise VerificationError(_digest_mismatch(name, digest, actual_digest), file=m)
    return _Manifest(origin, size, files)


def _digest_mismatch(name: str, listed: str, actual: str) -> str:
    return f"lists SHA-256 {listed} for {name}, but the file's SHA-256 is {actual}"


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
# Checkpoints. They are read before the entries, so that the tree roots at their sizes can be
# captured in the single pass over the entries; a problem is held back and reported in its turn.
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
    """Open a signed checkpoint note; raise ValueError with the reason if it does not verify."""
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


def _read_checkpoints(path: Path, verifiers: Sequence[notes.Verifier], origin: str) -> list[_CheckpointLine]:
    """Parse and signature-check checkpoints.ndjson line by line.

    The first problem is recorded on its line, which ends the list, instead of being raised.
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
                    f"checkpoints are not in size order: size {cp.size} follows size {previous.size}",
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
        raise VerificationError('line must be an object with exactly "size", "root" and "note"', file=c, line=number)
    size, root_hex = row["size"], row["root"]
    if not _is_int(size) or size < 0:
        raise VerificationError("size must be a non-negative integer", file=c, line=number)
    what = f"checkpoint of size {size}"
    if not isinstance(root_hex, str) or not _HEX64.fullmatch(root_hex):
        raise VerificationError(f"{what}: root must be 64 lowercase hex digits", file=c, line=number)
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
        number = 0
        while line := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise VerificationError(f"line is longer than {MAX_LINE_BYTES} bytes", file=name, line=number)
            yield number, line


def _open_trusted(
    text: str, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[notes.Checkpoint | None, VerificationError | None]:
    """Open the auditor's trusted checkpoint: a signed note, or one checkpoints.ndjson line."""
    note: object = text
    if text.lstrip().startswith("{"):
        try:
            note = json.loads(text)["note"]
        except (ValueError, TypeError, KeyError):
            return None, VerificationError(
                "is neither a signed note nor a checkpoints.ndjson line", file=TRUSTED_CHECKPOINT
            )
    try:
        cp, _ = _open_signed(note, verifiers, origin)
    except ValueError as exc:
        return None, VerificationError(str(exc), file=TRUSTED_CHECKPOINT)
    return cp, None


# --------------------------------------------------------------------------------------------
# Step 2: entries
# --------------------------------------------------------------------------------------------


def _check_line(line: bytes, seq: int, origin: str) -> bytes:
    """Check one entries.ndjson line (without its newline) as line ``seq + 1``.

    This is the reference check, written for clarity and precise messages. Return the leaf
    hash; raise VerificationError for the first problem, in the documented order.
    """
    e, number = ENTRIES_FILE, seq + 1
    try:
        row = json.loads(line, parse_constant=_refuse)
    except (ValueError, RecursionError) as exc:
        raise VerificationError(f"not valid JSON ({exc})", file=e, line=number) from None
    if not isinstance(row, dict) or row.keys() != _ENTRY_MEMBERS:
        raise VerificationError(
            'line must be an object with exactly "seq", "leaf_hash" and "leaf"',
            file=e,
            line=number,
        )
    if row["seq"] != seq or not _is_int(row["seq"]):
        raise VerificationError(
            f"seq is {row['seq']!r} but line {number} must hold seq {seq} "
            "(entries must run 0, 1, 2, … with no gap, repeat or reordering)",
            file=e,
            line=number,
        )
    if not isinstance(row["leaf_hash"], str) or not _HEX64.fullmatch(row["leaf_hash"]):
        raise VerificationError("leaf_hash is not 64 lowercase hex digits", file=e, line=number, seq=seq)
    try:
        if not isinstance(row["leaf"], str):
            raise TypeError
        leaf = base64.b64decode(row["leaf"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise VerificationError("leaf is not valid base64", file=e, line=number, seq=seq) from None
    try:
        obj = _parse_canonical_reference(leaf)
    except canonical.CanonicalError as exc:
        raise VerificationError(
            f"leaf is not canonical JSON (RFC 8785): {exc}", file=e, line=number, seq=seq
        ) from None
    problem = _leaf_problem(obj)
    if problem:
        raise VerificationError(problem, file=e, line=number, seq=seq)
    if obj["seq"] != seq:
        raise VerificationError(
            f"leaf says seq {obj['seq']} but is on the line of seq {seq}",
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
    digest = merkle.leaf_hash(leaf)
    if digest.hex() != row["leaf_hash"]:
        raise VerificationError(
            f"leaf_hash {row['leaf_hash']} does not match the leaf, whose RFC 9162 leaf hash is {digest.hex()}",
            file=e,
            line=number,
            seq=seq,
        )
    return digest


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
    names = {int: "an integer", str: "a string", dict: "an object"}
    for name, kind in _LEAF_TYPES.items():
        if type(leaf[name]) is not kind:
            return f"leaf member {name} must be {names[kind]}"
    if leaf["v"] != LEAF_VERSION:
        return f"leaf version v={leaf['v']} is not supported (expected {LEAF_VERSION})"
    if not _TIMESTAMP.fullmatch(leaf["ts"]):
        return f"leaf ts {leaf['ts'][:40]!r} is not RFC 3339 UTC with microseconds and Z"
    return None


def _check_block(data: bytes, first_line: int, origin: str) -> bytes:
    """Check a block of whole entries.ndjson lines, the first being line ``first_line``.

    Return the concatenated 32-byte leaf hashes; raise VerificationError at the first bad line.
    Each line first goes through a fast path that accepts only a line in exactly the
    exporter's form, ``{"seq":N,"leaf_hash":"<hex>","leaf":"<base64>"}``, passing every
    check; anything else is handed to :func:`_check_line`, which decides and words the error.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the block ends with a newline
    out = bytearray()
    # Local names: this loop runs once per entry, millions of times.
    a2b = binascii.a2b_base64
    hexlify = binascii.hexlify
    fast = _fast_leaf
    sha256 = _sha256
    leaf_prefix = _LEAF_PREFIX
    origin_token = canonical.dumps(origin)
    seq = first_line - 1
    for line in lines:
        digits = b"%d" % seq
        head = b'{"seq":' + digits + b',"leaf_hash":"'
        k = len(head)
        digest = None
        if line.startswith(head) and line.endswith(b'"}') and line[k + 64 : k + 74] == b'","leaf":"':
            try:
                leaf = a2b(line[k + 74 : -2], strict_mode=True)
            except binascii.Error:
                leaf = b""
            if fast(leaf, digits, origin_token):
                candidate = sha256(leaf_prefix + leaf).digest()
                if hexlify(candidate) == line[k : k + 64]:
                    digest = candidate
        if digest is None:
            digest = _check_line(line, seq, origin)
        out += digest
        seq += 1
    return bytes(out)


def _check_block_in_worker(
    path: str, offset: int, length: int, crc: int, first_line: int, origin: str
) -> bytes | VerificationError:
    """Check the block of entries.ndjson at ``offset`` in a worker process.

    The worker reads the block itself, which costs far less than passing it through a pipe, and
    confirms it holds the bytes the parent hashed for the manifest (same length and CRC-32).
    Return the leaf hashes, or the error instead of raising it.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        if len(data) != length or binascii.crc32(data) != crc:
            raise VerificationError("the file changed while it was being verified", file=ENTRIES_FILE)
        return _check_block(data, first_line, origin)
    except VerificationError as exc:
        return exc


class _Tree:
    """The right edge of the Merkle tree being rebuilt, with roots captured at wanted sizes.

    ``stack`` holds the roots of the complete subtrees, one per set bit of ``size``, largest
    first: the compact range of RFC 9162 / :class:`ledger.merkle.CompactRange`. Appending merges
    equal-sized subtrees like a binary counter (amortised one node hash per leaf); this inline
    loop is the same algorithm as ``CompactRange.append`` without the per-leaf bookkeeping, and
    roots are taken with ``CompactRange(size, stack).root()``.
    """

    def __init__(self, wanted: set[int]) -> None:
        self.size = 0
        self.stack: list[bytes] = []
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}
        self._targets = iter(sorted(s for s in wanted if s > 0))
        self._next = next(self._targets, -1)

    def root(self) -> bytes:
        return merkle.CompactRange(self.size, self.stack).root()

    def extend(self, hashes: bytes) -> None:
        """Append the concatenated 32-byte leaf hashes ``hashes``."""
        size, target = self.size, self._next
        pop, push, sha256, node = self.stack.pop, self.stack.append, _sha256, _NODE_PREFIX
        for offset in range(0, len(hashes), 32):
            h = hashes[offset : offset + 32]
            i = size
            while i & 1:
                h = sha256(node + pop() + h).digest()
                i >>= 1
            push(h)
            size += 1
            if size == target:
                self.size = size
                self.roots[size] = self.root()
                target = self._next = next(self._targets, -1)
        self.size = size


def _blocks(fh: IO[bytes], digest: Any) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(number of its first line, file offset, block)`` for whole-line blocks of ``fh``.

    Every byte read is fed to ``digest`` first. The last block may lack a final newline. Raise
    VerificationError if an unfinished line outgrows MAX_LINE_BYTES (which bounds memory).
    """
    carry = b""
    first_line = 1
    offset = 0
    while True:
        buf = fh.read(_BLOCK_BYTES)
        if not buf:
            if carry:
                yield first_line, offset, carry
            return
        digest.update(buf)
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry += buf
            if len(carry) > MAX_LINE_BYTES:
                raise VerificationError(
                    f"line is longer than {MAX_LINE_BYTES} bytes", file=ENTRIES_FILE, line=first_line
                )
            continue
        block = carry + buf[: cut + 1] if carry else buf[: cut + 1]
        carry = buf[cut + 1 :]
        yield first_line, offset, block
        first_line += block.count(b"\n")
        offset += len(block)


def _pool_context() -> Any:
    """Return the multiprocessing context for worker processes.

    Forking is fastest and needs no re-import, but is only safe from a single-threaded process
    on Linux; otherwise the workers are spawned afresh.
    """
    import multiprocessing

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _default_workers(entries_bytes: int) -> int:
    if entries_bytes < PARALLEL_MIN_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 16))


def _scan_entries(
    path: Path,
    listed: tuple[str, int],
    origin: str,
    total: int,
    wanted: set[int],
    progress: Callable[[int, int], None] | None,
    workers: int,
) -> tuple[int, dict[int, bytes], bytes]:
    """Check entries.ndjson and its manifest SHA-256; return (count, roots at wanted sizes,
    root of all entries).

    The file is read once. Each block is hashed for the manifest and then checked, in this
    process or by ``workers`` worker processes, and its leaf hashes are appended to the tree in
    file order. After the first bad block nothing more is checked, but the rest of the file is
    still hashed, so that a manifest mismatch is reported first, as the check order requires.
    """
    digest = _sha256()
    tree = _Tree(wanted)
    failure: VerificationError | None = None

    def accept(hashes: bytes) -> None:
        tree.extend(hashes)
        if progress is not None:
            progress(tree.size, total)

    try:
        fh = path.open("rb")
    except OSError as exc:
        raise VerificationError(f"cannot be read: {exc.strerror or exc}", file=ENTRIES_FILE) from None
    with fh:
        blocks = _blocks(fh, digest)
        try:
            if workers > 1:
                _scan_in_pool(path, blocks, origin, workers, accept)
            else:
                for first_line, _, block in blocks:
                    accept(_check_block(block, first_line, origin))
        except VerificationError as exc:
            failure = exc
        while rest := fh.read(_BLOCK_BYTES):
            digest.update(rest)
        length = fh.tell()

    if digest.hexdigest() != listed[0] or length != listed[1]:
        raise VerificationError(_digest_mismatch(ENTRIES_FILE, listed[0], digest.hexdigest()), file=MANIFEST_FILE)
    if failure is not None:
        raise failure
    if tree.size != total:
        raise VerificationError(f"has {tree.size} entries but {MANIFEST_FILE} says size {total}", file=ENTRIES_FILE)
    return tree.size, tree.roots, tree.root()


def _scan_in_pool(
    path: Path,
    blocks: Iterator[tuple[int, int, bytes]],
    origin: str,
    workers: int,
    accept: Callable[[bytes], None],
) -> None:
    """Check blocks in worker processes, keeping at most two per worker in flight, and pass
    their leaf hashes to ``accept`` in file order. Raise the first error in file order."""
    # Imported here: a small bundle never needs worker processes (nor their machinery).
    from concurrent.futures import ProcessPoolExecutor

    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    except (OSError, ImportError, NotImplementedError):
        # No process support here (e.g. no POSIX semaphores): check in this process instead.
        for first_line, _, block in blocks:
            accept(_check_block(block, first_line, origin))
        return
    inflight: collections.deque[Future[bytes | VerificationError]] = collections.deque()
    read_error: VerificationError | None = None

    def submit() -> bool:
        nonlocal read_error
        if read_error is not None:
            return False
        try:
            first_line, offset, block = next(blocks)
        except StopIteration:
            return False
        except VerificationError as exc:  # an over-long line: report it after earlier blocks
            read_error = exc
            return False
        crc = binascii.crc32(block)
        task = pool.submit(_check_block_in_worker, str(path), offset, len(block), crc, first_line, origin)
        inflight.append(task)
        return True

    try:
        for _ in range(2 * workers):
            if not submit():
                break
        while inflight:
            result = inflight.popleft().result()
            if isinstance(result, VerificationError):
                raise result
            accept(result)
            submit()
        if read_error is not None:
            raise read_error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# The whole check
# --------------------------------------------------------------------------------------------


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
    manifest = _check_manifest(bundle, deferred=frozenset({ENTRIES_FILE}))
    origin = manifest.origin

    checkpoint_lines = _read_checkpoints(bundle / CHECKPOINTS_FILE, verifiers, origin)
    trusted: notes.Checkpoint | None = None
    trusted_error: VerificationError | None = None
    if trusted_checkpoint is not None:
        trusted, trusted_error = _open_trusted(trusted_checkpoint, verifiers, origin)
    wanted = {cl.checkpoint.size for cl in checkpoint_lines if cl.checkpoint is not None}
    if trusted is not None:
        wanted.add(trusted.size)

    # Step 2.
    listed = manifest.files[ENTRIES_FILE]
    if workers is None:
        workers = _default_workers(listed[1])
    entries, roots, full_root = _scan_entries(
        bundle / ENTRIES_FILE, listed, origin, manifest.size, wanted, progress, workers
    )

    # Step 3.
    _check_keys_file(bundle)

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
