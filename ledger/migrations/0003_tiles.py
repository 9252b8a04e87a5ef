"""Store the tree as C2SP tlog-tiles instead of one row per node, and slim the entry indexes.

Existing logs are carried forward: the tiles are rebuilt from the stored leaf hashes, checked
against the nodes stored before, and only then are the nodes dropped. Entries lose the unused
varchar_pattern_ops twins of their unique keys, and the leaf hash gets a hash index on PostgreSQL.
"""

from django.db import migrations, models

from ledger import tiles, triggers
from model_ledger_verify import compact_range


def build_tiles(apps, schema_editor):
    """Rebuild every tile from the leaf hashes; refuse if the old nodes disagree with them."""
    Entry = apps.get_model("ledger", "Entry")
    Node = apps.get_model("ledger", "Node")
    Tile = apps.get_model("ledger", "Tile")
    TreeState = apps.get_model("ledger", "TreeState")
    db = schema_editor.connection.alias
    state = TreeState.objects.using(db).filter(pk=1).first()
    if state is None:
        return
    compact = compact_range.CompactRange()
    builder = tiles.TileBuilder(0, b"")
    on_tile_levels: dict[tuple[int, int], bytes] = {}
    hashes = Entry.objects.using(db).filter(seq__lt=state.size).order_by("seq").values_list("leaf_hash", flat=True)
    for leaf_hash in hashes.iterator(chunk_size=10_000):
        for level, index, digest in compact.append(bytes(leaf_hash)):
            if level % tiles.TILE_HEIGHT == 0:
                builder.add(level, index, digest)
                if level:
                    on_tile_levels[(level, index)] = digest
        if len(builder.full) >= 1_000:
            Tile.objects.using(db).bulk_create(Tile(level=t[0], index=t[1], hashes=t[2]) for t in builder.full)
            builder.full.clear()
    Tile.objects.using(db).bulk_create(Tile(level=t[0], index=t[1], hashes=t[2]) for t in builder.full)
    if compact.size != state.size or compact.root() != bytes(state.root):
        raise RuntimeError(
            f"The stored leaves ({compact.size}) do not give the tree state's root (size {state.size}); "
            "run `manage.py verify_ledger` on the previous release before migrating."
        )
    levels = sorted({level for level, _ in on_tile_levels})
    for level, index, digest in Node.objects.using(db).filter(level__in=levels).values_list("level", "index", "hash"):
        if on_tile_levels.get((level, index)) != bytes(digest):
            raise RuntimeError(f"The stored node {level}/{index} does not match the leaves; not migrating.")
    TreeState.objects.using(db).filter(pk=1).update(partial_tiles=builder.partials())


def install_triggers(apps, schema_editor):
    # SQLite rebuilt the altered tables without their triggers: install all of them again.
    triggers.install(schema_editor.connection, ("ledger_entry", "ledger_tile", "ledger_checkpoint"))


def leaf_hash_index(apps, schema_editor):
    kind = "USING hash " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX ledger_entry_leaf_hash ON ledger_entry {kind}(leaf_hash)")


def drop_leaf_hash_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS ledger_entry_leaf_hash")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="Tile",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "level", "index", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hashes", models.BinaryField(max_length=8192)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("level__gte", 0), ("index__gte", 0)),
                        name="ledger_tile_position_non_negative",
                        violation_error_message="A tile's level and index cannot be negative.",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="treestate",
            name="partial_tiles",
            field=models.BinaryField(default=b""),
        ),
        migrations.RunPython(build_tiles, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name="Node"),
        migrations.AlterField(
            model_name="entry",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="entry",
            name="leaf_hash",
            field=models.BinaryField(max_length=32),
        ),
        migrations.AlterField(
            model_name="submission",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="entry",
                    index=models.Index(fields=["leaf_hash"], name="ledger_entry_leaf_hash"),
                ),
            ],
            database_operations=[migrations.RunPython(leaf_hash_index, drop_leaf_hash_index)],
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",),
                name="ledger_entry_key_unique",
                violation_error_message="This idempotency key is already in the log.",
            ),
        ),
        migrations.AddConstraint(
            model_name="submission",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",),
                name="ledger_submission_key_unique",
                violation_error_message="This idempotency key is already queued.",
            ),
        ),
        migrations.RunPython(install_triggers, migrations.RunPython.noop),
    ]
