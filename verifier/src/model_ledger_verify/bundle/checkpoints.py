"""Step 4 of the bundle check: ``checkpoints.ndjson``, signatures and equivocation; and step 5,
the auditor's trusted checkpoint.

Checkpoints are read before the entries, so that the tree roots at their sizes can be captured
in the single pass over the entries; a problem is held back and reported in its turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from model_ledger_verify import checkpoints, notes
from model_ledger_verify.bundle.common import (
    CHECKPOINTS_FILE,
    HEX64,
    MAX_LINE_BYTES,
    TRUSTED_CHECKPOINT,
    VerificationError,
    is_int,
    load_json,
)

_CHECKPOINT_MEMBERS = frozenset({"size", "root", "note"})


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


@dataclass
class CheckpointLine:
    line: int
    checkpoint: checkpoints.Checkpoint | None = None
    signers: tuple[str, ...] = ()
    error: VerificationError | None = None


def _open_signed(
    note: object, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[checkpoints.Checkpoint, tuple[str, ...]]:
    """Open a signed checkpoint note; raise ValueError with the reason if it does not verify."""
    if not isinstance(note, str):
        raise ValueError("note must be a string")
    try:
        text, signed_by = notes.open_note(note, verifiers)
    except notes.NoteError as exc:
        raise ValueError(f"signature check failed: {exc}") from None
    try:
        cp = checkpoints.Checkpoint.parse(text)
    except notes.NoteError as exc:
        raise ValueError(f"note is not a valid checkpoint: {exc}") from None
    if cp.origin != origin:
        raise ValueError(f"checkpoint origin {cp.origin!r} is not the bundle origin {origin!r}")
    return cp, tuple(v.name for v in signed_by)


def read_checkpoints(path: Path, verifiers: Sequence[notes.Verifier], origin: str) -> list[CheckpointLine]:
    """Parse and signature-check checkpoints.ndjson line by line.

    The first problem is recorded on its line, which ends the list, instead of being raised.
    """
    result: list[CheckpointLine] = []
    previous: checkpoints.Checkpoint | None = None
    by_size: dict[int, tuple[bytes, int]] = {}
    try:
        for number, raw in _lines(path, CHECKPOINTS_FILE):
            entry = CheckpointLine(line=number)
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
            result.append(CheckpointLine(line=exc.line or 0))
        result[-1].error = exc
    return result


def _check_checkpoint_line(
    raw: bytes, number: int, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[checkpoints.Checkpoint, tuple[str, ...]]:
    """Check one checkpoints.ndjson line on its own; return its checkpoint and signer names."""
    c = CHECKPOINTS_FILE
    row = load_json(raw, c, number)
    if not isinstance(row, dict) or row.keys() != _CHECKPOINT_MEMBERS:
        raise VerificationError('line must be an object with exactly "size", "root" and "note"', file=c, line=number)
    size, root_hex = row["size"], row["root"]
    if not is_int(size) or size < 0:
        raise VerificationError("size must be a non-negative integer", file=c, line=number)
    what = f"checkpoint of size {size}"
    if not isinstance(root_hex, str) or not HEX64.fullmatch(root_hex):
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


def open_trusted(
    text: str, verifiers: Sequence[notes.Verifier], origin: str
) -> tuple[checkpoints.Checkpoint | None, VerificationError | None]:
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
