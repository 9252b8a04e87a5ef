"""`ledgerctl verify BUNDLE --state FILE`: every checkpoint seen is kept, and a split view is caught."""

from __future__ import annotations

import json

from model_ledger_verify import merkle
from model_ledger_verify.client.cli import main

from .bundles import build_bundle, leaf_bytes


def test_it_keeps_the_checkpoints_it_saw_and_catches_another_root_for_one_of_them(tmp_path, capsys):
    state = tmp_path / "seen.json"
    first = build_bundle(tmp_path / "first", size=64, checkpoint_sizes=(7, 64))
    assert main(["verify", str(first.path), "--key", first.key, "--state", str(state), "-q"]) == 0
    seen = json.loads(state.read_text())["origins"]["test.example/ledger"]["checkpoints"]
    assert [s["size"] for s in seen] == [7, 64]

    # A later export that extends it verifies and adds its checkpoint.
    later = build_bundle(tmp_path / "later", size=100, checkpoint_sizes=(64, 100), signer=first.signer)
    assert main(["verify", str(later.path), "--key", first.key, "--state", str(state), "-q"]) == 0

    # Another history, signed with the same key: a different root at size 64.
    leaves = [leaf_bytes(seq) for seq in range(100)]
    leaves[3] = leaf_bytes(3, subject="model:rewritten")
    other = build_bundle(tmp_path / "other", size=100, checkpoint_sizes=(64, 100), signer=first.signer, leaves=leaves)
    assert other.root(64) != merkle.root([merkle.leaf_hash(x) for x in first.leaves[:64]])
    capsys.readouterr()
    assert main(["verify", str(other.path), "--key", first.key, "--state", str(state), "-q", "--json"]) == 1
    # It had to extend the newest checkpoint seen (size 100), and does not.
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert json.loads(state.read_text())["origins"]["test.example/ledger"]["checkpoints"][-1]["size"] == 100
