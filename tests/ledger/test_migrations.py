"""A log written before tiles is carried forward by migration 0003 and still verifies."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ledger import selectors, services, triggers
from ledger.integrity import verify_database
from ledger.models import Entry, Tile, TreeState
from model_ledger_verify import checkpoints, compact_range, merkle, notes
from model_ledger_verify import leaf as leaf_format
from tests.ledger.helpers import event

BEFORE = [("ledger", "0002_append_only_triggers")]
AFTER = [("ledger", "0003_tiles")]
SIZE = 600  # two full level-0 tiles and a partial one


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _old_log(apps, signing_key_file) -> bytes:
    """Write entries, one row per interior node, the tree state and a checkpoint, as before."""
    Entry, Node, TreeState_, SigningKey, Checkpoint = (
        apps.get_model("ledger", name) for name in ("Entry", "Node", "TreeState", "SigningKey", "Checkpoint")
    )
    compact = compact_range.CompactRange()
    entries, nodes = [], []
    for seq in range(SIZE):
        ev = event(seq)
        leaf = leaf_format.encode(
            origin="test.example/ledger",
            seq=seq,
            ts="2026-11-27T23:40:01.000000Z",
            type=ev["type"],
            actor=ev["actor"],
            subject=ev["subject"],
            idempotency_key=ev["idempotency_key"],
            data=b'{"n":%d}' % seq,
        )
        lh = merkle.leaf_hash(leaf)
        entries.append(Entry(seq=seq, leaf=leaf, leaf_hash=lh, idempotency_key=ev["idempotency_key"]))
        nodes += [Node(level=lv, index=ix, hash=h) for lv, ix, h in compact.append(lh) if lv]
    Entry.objects.bulk_create(entries)
    Node.objects.bulk_create(nodes)
    root = compact.root()
    now = timezone.now()
    TreeState_.objects.create(size=SIZE, frontier=b"".join(compact.hashes), root=root, updated_at=now)
    signer = notes.Signer.from_string(signing_key_file.read_text().strip())
    key = SigningKey.objects.create(
        key_id=signer.key_id.hex(), name=signer.name, verifier_key=signer.verifier_key(), valid_from=now
    )
    note = checkpoints.sign_checkpoint(
        checkpoints.Checkpoint(origin="test.example/ledger", size=SIZE, root=root), signer
    )
    Checkpoint.objects.create(size=SIZE, root=root, note=note, key=key, signed_at=now)
    return root


@pytest.mark.django_db(transaction=True)
def test_a_log_built_before_tiles_verifies_and_proves_after_the_migration(signing_key_file):
    old_apps = _migrate(BEFORE)
    try:
        root = _old_log(old_apps, signing_key_file)
    finally:
        _migrate(AFTER)
    # On to the present schema, which verify_database reads (the witnesses' cosignatures too).
    _migrate_to_latest()

    report = verify_database()
    assert (report.entries, report.checkpoints, report.root) == (SIZE, 1, root)
    assert sorted(Tile.objects.values_list("level", "index")) == [(0, 0), (0, 1)]
    assert len(bytes(TreeState.objects.get().partial_tiles)) == (SIZE - 512 + 2) * 32
    leaves = [leaf_hash for _, leaf_hash, _ in selectors.entry_range(0, SIZE)]
    for index in (0, 255, 256, 511, 599):
        assert selectors.inclusion_proof(index, SIZE) == merkle.inclusion_proof(index, leaves)
    assert selectors.consistency_proof(300, SIZE) == merkle.consistency_proof(300, leaves)
    # And the log grows on from there.
    services.submit(**event(SIZE, prefix="after"))
    services.tree_integrate_all()
    assert verify_database().entries == SIZE + 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_refuses_a_log_whose_nodes_disagree_with_its_leaves(signing_key_file):
    old_apps = _migrate(BEFORE)
    try:
        _old_log(old_apps, signing_key_file)
        old_apps.get_model("ledger", "Node").objects.filter(level=8, index=1).update(hash=b"\x00" * 32)
        with pytest.raises(RuntimeError, match="stored node 8/1 does not match"):
            _migrate(AFTER)
    finally:
        # Leave an empty log for the migration back to the present.
        triggers.uninstall(connection, ("ledger_entry", "ledger_node", "ledger_checkpoint"))
        with connection.cursor() as cursor:
            for table in ("ledger_checkpoint", "ledger_signingkey", "ledger_treestate", "ledger_node", "ledger_entry"):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        _migrate(AFTER)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_entry_key_takes_the_c_collation_and_its_unique_index_serves_prefix_reads():
    """Migration 0009: one index on the key serves equality and `LIKE 'prefix%'` alike."""
    _migrate([("ledger", "0008_witness_alert_refused")])
    for n in range(40):
        services.submit(**event(n, prefix="role.granted:" if n % 2 else "model.registered:"))
    services.tree_integrate_all()
    _migrate_to_latest()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'ledger_entry' AND column_name = 'idempotency_key'"
        )
        assert cursor.fetchone() == ("C",)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_entry' ORDER BY 1")
        assert [name for (name,) in cursor.fetchall()] == [
            "ledger_entry_key_unique",
            "ledger_entry_leaf_hash",
            "ledger_entry_pkey",
        ]
        cursor.execute("SET enable_seqscan = off")
        try:
            query = Entry.objects.filter(idempotency_key__startswith="role.granted:").values_list("seq")
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "ledger_entry_key_unique" in plan, plan
    assert query.count() == 20
    assert verify_database().entries == 40


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def _back_to_the_latest_migrations():
    """Leave the shared test database fully migrated: later apps' migrations follow 0003."""
    yield
    _migrate_to_latest()
