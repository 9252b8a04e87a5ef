"""Audit and follow a log from its tiles alone, keeping every checkpoint seen per origin.

:func:`audit` verifies the log's signature and the witness policy on a checkpoint note, then
proves it against what was seen before: every earlier checkpoint of the origin must be a prefix
of it (same root at its size, from the tiles), and the newest earlier one is checked with a
consistency proof. Any contradiction is an :class:`Equivocation` carrying both signed notes as
evidence. Then it reads the entries (or the level 0 tiles) it has not read yet and recomputes
the root from them, keeping the compact range in the state so the next run reads only new ones.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_ledger_verify import checkpoints, compact_range, merkle, notes
from model_ledger_verify.tlog.cosign import Cosignature, WitnessPolicy
from model_ledger_verify.tlog.reader import Fetch, TileReader
from model_ledger_verify.tlog.tiles import TILE_WIDTH, TileError, tile_width

STATE_VERSION = 1


class AuditError(Exception):
    """The log failed an audit: a bad signature, too few cosignatures, tiles that do not hold."""


class Equivocation(AuditError):
    """Two signed checkpoints of one origin that cannot both be true: a split view or a fork."""

    def __init__(self, message: str, seen: str, new: str) -> None:
        super().__init__(message)
        self.seen_note = seen
        self.new_note = new

    def evidence(self) -> dict[str, str]:
        return {"reason": str(self), "seen": self.seen_note, "new": self.new_note}


@dataclass
class Seen:
    size: int
    root: bytes
    note: str


@dataclass
class OriginState:
    checkpoints: list[Seen] = field(default_factory=list)
    audited: compact_range.CompactRange = field(default_factory=compact_range.CompactRange)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class MonitorState:
    """Every checkpoint seen per origin and the audited compact range, kept in a JSON file."""

    def __init__(self, origins: dict[str, OriginState] | None = None) -> None:
        self.origins = origins or {}

    @classmethod
    def load(cls, path: Path | None) -> MonitorState:
        if path is None or not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            raise AuditError(f"{path}: unknown state version {data.get('version')!r}")
        origins = {}
        for origin, raw in data["origins"].items():
            seen = [Seen(s["size"], base64.b64decode(s["root"]), s["note"]) for s in raw["checkpoints"]]
            audited = compact_range.CompactRange(
                raw["audited_size"], [base64.b64decode(h) for h in raw["audited_range"]]
            )
            origins[origin] = OriginState(seen, audited)
        return cls(origins)

    def save(self, path: Path) -> None:
        data: dict[str, Any] = {"version": STATE_VERSION, "origins": {}}
        for origin, state in self.origins.items():
            data["origins"][origin] = {
                "checkpoints": [{"size": s.size, "root": _b64(s.root), "note": s.note} for s in state.checkpoints],
                "audited_size": state.audited.size,
                "audited_range": [_b64(h) for h in state.audited.hashes],
            }
        # Replace atomically: a crash must never leave a monitor without its history.
        fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)


@dataclass(frozen=True)
class AuditReport:
    origin: str
    size: int
    root: bytes
    cosignatures: list[Cosignature]
    previous_size: int | None
    entries_read: int
    tiles_fetched: int


def _open(
    note: str, keys: Sequence[notes.Verifier], policy: WitnessPolicy | None
) -> tuple[checkpoints.Checkpoint, list]:
    try:
        checkpoint = checkpoints.open_checkpoint(note, keys)
        found = policy.check(note) if policy is not None else []
    except notes.NoteError as exc:
        raise AuditError(f"checkpoint rejected: {exc}") from None
    return checkpoint, found


def _check_against_seen(
    reader: TileReader, checkpoint: checkpoints.Checkpoint, note: str, state: OriginState
) -> int | None:
    """Raise Equivocation if ``checkpoint`` contradicts a checkpoint seen before."""
    previous = None
    for seen in state.checkpoints:
        if seen.size == checkpoint.size and seen.root != checkpoint.root:
            raise Equivocation(f"two different roots signed for size {seen.size}", seen.note, note)
        if seen.size > checkpoint.size:
            raise Equivocation(
                f"checkpoint of size {checkpoint.size} does not extend the size {seen.size} already seen",
                seen.note,
                note,
            )
    earlier = [s for s in state.checkpoints if s.size < checkpoint.size]
    if earlier:
        last = max(earlier, key=lambda s: s.size)
        previous = last.size
        try:
            proof = reader.consistency_proof(last.size)
            merkle.verify_consistency(last.size, checkpoint.size, last.root, checkpoint.root, proof)
        except (merkle.ProofError, TileError) as exc:
            raise Equivocation(
                f"checkpoint of size {checkpoint.size} is not consistent with size {last.size}: {exc}", last.note, note
            ) from None
        for seen in earlier:
            if seen.size and reader.root(seen.size) != seen.root:
                raise Equivocation(
                    f"the tiles give another root for size {seen.size} than the one seen", seen.note, note
                )
    return previous


def audit(
    fetch: Fetch,
    note: str,
    keys: Sequence[notes.Verifier],
    state: MonitorState,
    *,
    policy: WitnessPolicy | None = None,
    entries: bool = True,
    on_entry: Callable[[int, bytes], None] | None = None,
) -> AuditReport:
    """Audit the log at checkpoint ``note`` from its tiles; update ``state`` if it holds.

    Raise AuditError (or Equivocation, with both notes) at the first thing that does not hold.
    With ``entries``, read the entry bundles and hash the leaves; otherwise the level 0 tiles.
    """
    checkpoint, found = _open(note, keys, policy)
    origin_state = state.origins.setdefault(checkpoint.origin, OriginState())
    reader = TileReader(fetch, checkpoint.size)
    try:
        previous = _check_against_seen(reader, checkpoint, note, origin_state)
        audited = compact_range.CompactRange(origin_state.audited.size, origin_state.audited.hashes)
        if audited.size > checkpoint.size:
            audited = compact_range.CompactRange()
        start = audited.size
        read = 0
        for index in range(start // TILE_WIDTH, (checkpoint.size + TILE_WIDTH - 1) // TILE_WIDTH):
            first = index * TILE_WIDTH
            if entries:
                leaves = reader.entries(index)
                hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
            else:
                leaves, hashes = [], reader.tile(0, index)
            skip = max(0, start - first)
            for offset in range(skip, tile_width(checkpoint.size, 0, index)):
                audited.append(hashes[offset])
                read += 1
                if on_entry is not None and leaves:
                    on_entry(first + offset, leaves[offset])
        if audited.root() != checkpoint.root:
            raise AuditError(f"the entries do not hash to the checkpoint's root at size {checkpoint.size}")
        if reader.root() != checkpoint.root:
            raise AuditError(f"the upper tiles do not hash to the checkpoint's root at size {checkpoint.size}")
    except TileError as exc:
        raise AuditError(f"bad tiles: {exc}") from None
    if not any(s.size == checkpoint.size for s in origin_state.checkpoints):
        origin_state.checkpoints.append(Seen(checkpoint.size, checkpoint.root, note))
        origin_state.checkpoints.sort(key=lambda s: s.size)
    origin_state.audited = audited
    return AuditReport(checkpoint.origin, checkpoint.size, checkpoint.root, found, previous, read, reader.fetched)


def newest_seen(state: MonitorState, origin: str, max_size: int) -> str | None:
    """Return the note of the biggest checkpoint seen for ``origin`` no bigger than ``max_size``."""
    seen = [s for s in state.origins.get(origin, OriginState()).checkpoints if s.size <= max_size]
    return max(seen, key=lambda s: s.size).note if seen else None


def record_verified(state: MonitorState, verified: Sequence[str]) -> None:
    """Add checkpoint notes verified elsewhere (an export bundle) to ``state``.

    Raise Equivocation if one has another root than a checkpoint of the same size seen before.
    """
    for note in verified:
        text = note[: note.rfind("\n\n") + 1]
        checkpoint = checkpoints.Checkpoint.parse(text)
        origin_state = state.origins.setdefault(checkpoint.origin, OriginState())
        same = [s for s in origin_state.checkpoints if s.size == checkpoint.size]
        if same and same[0].root != checkpoint.root:
            raise Equivocation(f"two different roots signed for size {checkpoint.size}", same[0].note, note)
        if not same:
            origin_state.checkpoints.append(Seen(checkpoint.size, checkpoint.root, note))
            origin_state.checkpoints.sort(key=lambda s: s.size)
