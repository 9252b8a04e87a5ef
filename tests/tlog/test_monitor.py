"""The monitor's split-view detection, on logs built in memory and served as tiles."""

from __future__ import annotations

import pytest

from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.tlog.monitor import AuditError, Equivocation, MonitorState, audit
from model_ledger_verify.tlog.tiles import TILE_WIDTH, encode_bundle, tile_path, tiles_for_size

ORIGIN = "mem.example/log"


class MemoryLog:
    def __init__(self, leaves: list[bytes]) -> None:
        self.signer = notes.Signer.from_string(notes.generate_signer_key(ORIGIN))
        self.leaves = leaves

    def files(self, size: int) -> dict[str, bytes]:
        hashes = [merkle.leaf_hash(leaf) for leaf in self.leaves[:size]]
        levels = [hashes]
        while len(levels[-1]) >= TILE_WIDTH:
            below = levels[-1]
            levels.append(
                [merkle.root(below[i : i + TILE_WIDTH]) for i in range(0, len(below) - TILE_WIDTH + 1, TILE_WIDTH)]
            )
        out = {}
        for level, index, width in tiles_for_size(size):
            start = index * TILE_WIDTH
            out[tile_path(level, index, width)] = b"".join(levels[level][start : start + width])
            if level == 0:
                out[tile_path("entries", index, width)] = encode_bundle(self.leaves[start : start + width])
        return out

    def note(self, size: int) -> str:
        root = merkle.root([merkle.leaf_hash(leaf) for leaf in self.leaves[:size]])
        return checkpoints.sign_checkpoint(checkpoints.Checkpoint(ORIGIN, size, root), self.signer)

    def audit(self, size: int, state: MonitorState):
        files = self.files(size)
        return audit(files.__getitem__, self.note(size), [self.signer.verifier()], state)


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog([f"leaf {i}".encode() for i in range(600)])


def test_it_follows_a_growing_log_reading_only_new_entries(log):
    state = MonitorState()
    assert log.audit(300, state).entries_read == 300
    report = log.audit(555, state)
    assert report.previous_size == 300 and report.entries_read == 255
    assert [s.size for s in state.origins[ORIGIN].checkpoints] == [300, 555]


def test_a_smaller_checkpoint_after_a_bigger_one_is_equivocation(log):
    state = MonitorState()
    log.audit(555, state)
    with pytest.raises(Equivocation, match="does not extend") as caught:
        log.audit(300, state)
    assert caught.value.seen_note == log.note(555) and caught.value.new_note == log.note(300)


def test_a_rewritten_history_is_caught_by_the_consistency_proof(log):
    state = MonitorState()
    log.audit(300, state)
    forked = MemoryLog([*log.leaves[:10], b"rewritten", *log.leaves[11:]])
    forked.signer = log.signer
    with pytest.raises(Equivocation, match="not consistent with size 300"):
        forked.audit(400, state)


def test_tiles_that_do_not_match_the_signed_root_fail(log):
    files = log.files(300)
    files["tile/0/000"] = b"\x00" * 32 * 256
    with pytest.raises(AuditError):
        audit(files.__getitem__, log.note(300), [log.signer.verifier()], MonitorState())


def test_the_state_survives_a_round_trip(log, tmp_path):
    state = MonitorState()
    log.audit(300, state)
    state.save(tmp_path / "state.json")
    again = MonitorState.load(tmp_path / "state.json")
    assert log.audit(555, again).entries_read == 255
