"""C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint) carried as signed notes.

A checkpoint commits the log to a tree size and root hash; its text is the body of a note
signed by the log's key (and any witnesses' cosignatures, see :mod:`.notes`)::

    <origin>
    <tree size, decimal>
    <base64 root hash>
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .notes import _CONTROL, NoteError, Signer, Verifier, _b64decode, _b64encode, open_note, sign_note

__all__ = ["Checkpoint", "open_checkpoint", "sign_checkpoint"]

_MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog checkpoint body: origin, tree size, root hash and optional extension lines.

    Construction validates the fields and raises NoteError if the origin is empty or not a
    single line, the size is not an integer in [0, 2**64), the root is not 32 bytes, or an
    extension line is empty or not a single line.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise NoteError("checkpoint origin must be a non-empty string")
        if "\n" in self.origin or _CONTROL.search(self.origin):
            raise NoteError("checkpoint origin must be one line without control characters")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError("checkpoint size must be an integer")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise NoteError(f"checkpoint size {self.size} is out of range")
        if not isinstance(self.root, bytes | bytearray | memoryview) or len(self.root) != 32:
            raise NoteError("checkpoint root must be a 32-byte hash")
        object.__setattr__(self, "root", bytes(self.root))
        extensions = tuple(self.extensions)
        for line in extensions:
            if not isinstance(line, str) or not line or "\n" in line or _CONTROL.search(line):
                raise NoteError("checkpoint extension lines must be non-empty single lines")
        object.__setattr__(self, "extensions", extensions)

    def to_text(self) -> str:
        """Return the note text: origin, size, base64 root, then extensions, one per line."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Return the checkpoint in a note text (tlog-checkpoint §Note text).

        Raise NoteError unless the text ends in a newline and has at least three non-empty
        lines: an origin, a decimal size without leading zeros, and the canonical base64 of a
        32-byte root, followed by non-empty extension lines.
        """
        if not isinstance(text, str) or not text.endswith("\n"):
            raise NoteError("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint must have an origin, a size and a root hash")
        origin, size_text, root_text, *extensions = lines
        # tlog-checkpoint §Note text: every line is non-empty, the size has no leading zeros.
        if not origin:
            raise NoteError("checkpoint origin is empty")
        # ASCII digits only: int() would also take "+1", " 1", "1_0" and non-ASCII digits.
        if not _DECIMAL.fullmatch(size_text) or len(size_text) > 20:
            raise NoteError(f"checkpoint size {size_text[:30]!r} is not a canonical decimal")
        root = _b64decode(root_text, "checkpoint root")
        if len(root) != 32:
            raise NoteError("checkpoint root is not a 32-byte hash")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """Return ``checkpoint`` as a note signed by ``signer``."""
    return sign_note(checkpoint.to_text(), [signer])


def open_checkpoint(note: str | bytes, verifiers: Sequence[Verifier], origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint note and return the checkpoint.

    Raise NoteError if :func:`open_note` rejects the note, the text is not a valid checkpoint,
    or ``origin`` is given and differs from the checkpoint's origin.
    """
    text, _ = open_note(note, verifiers)
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint
