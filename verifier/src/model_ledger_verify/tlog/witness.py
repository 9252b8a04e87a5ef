"""The C2SP tlog-witness add-checkpoint protocol (https://c2sp.org/tlog-witness), with no storage.

Request body::

    old <size the witness last cosigned, decimal>
    <base64 consistency proof hash>     (zero to 63 lines)
    <empty line>
    <signed checkpoint note>

:func:`check_add_checkpoint` decides a request against the witness's latest view of the log and
answers what the spec requires: 404 unknown origin, 403 no valid log signature, 400 malformed or
old size above the checkpoint, 409 (with the witness's size) when the old size is not the one
it last cosigned, 422 when the proof or roots do not hold. The caller stores the new view and
cosigns, atomically with the check.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.tlog.cosign import split_note

MAX_PROOF_LINES = 63
MAX_BODY = notes.MAX_NOTE_SIZE + 64 * 46
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class WitnessRefusal(Exception):
    """The witness refuses the request: ``status`` is the HTTP status the spec assigns."""

    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size

    def body(self) -> tuple[bytes, str]:
        """Return the response body and content type: the size for 409, the message otherwise."""
        if self.status == 409 and self.size is not None:
            return f"{self.size}\n".encode(), SIZE_CONTENT_TYPE
        return f"{self}\n".encode(), "text/plain; charset=utf-8"


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def encode_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """Return an add-checkpoint request body."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode("ascii") + "\n" for h in proof), "\n"]
    return ("".join(lines) + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Return the parts of an add-checkpoint body; raise WitnessRefusal(400) if it is malformed."""
    if len(body) > MAX_BODY:
        raise WitnessRefusal(400, "request body is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "request has no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        raise WitnessRefusal(400, "the first line must be 'old <size>' in decimal without leading zeros")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise WitnessRefusal(400, "a consistency proof line is not the base64 of a 32-byte hash")
        proof.append(raw)
    return AddCheckpoint(int(first[4:]), tuple(proof), note)


def note_origin(note: str) -> str:
    """Return the origin line of a checkpoint note, before any signature is checked."""
    try:
        text, _ = split_note(note)
        return checkpoints.Checkpoint.parse(text).origin
    except notes.NoteError as exc:
        raise WitnessRefusal(400, f"not a checkpoint note: {exc}") from None


def check_add_checkpoint(
    request: AddCheckpoint,
    logs: Mapping[str, Sequence[notes.Verifier]],
    latest: tuple[int, bytes] | None,
) -> checkpoints.Checkpoint:
    """Return the checkpoint if the witness may cosign it, given its ``latest`` (size, root) view.

    ``logs`` maps each origin the witness follows to the log's verifier keys. Raise
    WitnessRefusal with the status tlog-witness assigns to each failure, in its order.
    """
    origin = note_origin(request.note)
    if origin not in logs:
        raise WitnessRefusal(404, f"unknown log origin {origin!r}")
    try:
        checkpoint = checkpoints.open_checkpoint(request.note, logs[origin], origin=origin)
    except notes.NoteError as exc:
        raise WitnessRefusal(403, f"checkpoint not signed by the log's key: {exc}") from None
    if request.old_size > checkpoint.size:
        raise WitnessRefusal(400, f"old size {request.old_size} is above the checkpoint size {checkpoint.size}")
    known_size, known_root = latest if latest is not None else (0, merkle.EMPTY_ROOT)
    if request.old_size != known_size:
        raise WitnessRefusal(409, f"the latest cosigned size is {known_size}", size=known_size)
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        raise WitnessRefusal(422, "a checkpoint of size 0 must have the empty tree's root")
    if request.old_size == 0:
        if request.proof:
            raise WitnessRefusal(422, "a proof from size 0 must be empty")
        return checkpoint
    if request.old_size == checkpoint.size:
        if checkpoint.root != known_root:
            raise WitnessRefusal(422, f"a different root for size {checkpoint.size} than the one cosigned")
        return checkpoint
    try:
        merkle.verify_consistency(request.old_size, checkpoint.size, known_root, checkpoint.root, request.proof)
    except merkle.ProofError as exc:
        raise WitnessRefusal(422, f"the consistency proof does not verify: {exc}") from None
    return checkpoint
