"""Optimized (squashed) histories build the same schema as the originals, on every backend."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shoal import migrations, models
from shoal.db.connections import create_connection
from shoal.migrations.migration import Migration
from shoal.migrations.optimizer import MigrationOptimizer
from shoal.migrations.state import ProjectState
from tests.squash_histories import APP, generate_history, split

SEEDS = [int(s) for s in os.environ.get("SHOAL_SQUASH_SEEDS", "1,2,3,4,5,6").split(",")]


def squashed(operations: list[Any]) -> list[Any]:
    """What squashmigrations keeps: elidable operations dropped, then optimized."""
    kept = [op for op in operations if not getattr(op, "elidable", False)]
    return MigrationOptimizer().optimize(kept, APP)


def apply_history(url: str, chunks: list[list[Any]], rows: bool = False) -> ProjectState:
    """Apply each chunk as one migration (in its own transaction where possible)."""
    connection = create_connection("default", url)
    state = ProjectState()
    try:
        for number, operations in enumerate(chunks, 1):
            migration = Migration(f"{number:04d}_step", APP)
            migration.operations = operations
            with connection.schema_editor(atomic=True) as editor:
                migration.apply(state, editor)
    finally:
        connection.close()
    return state


def schema(url: str) -> dict[str, Any]:
    """Every table: its columns, and its constraints and indexes without their names."""
    connection = create_connection("inspect", url)
    try:
        intro = connection.introspection
        out: dict[str, Any] = {}
        for table in intro.table_names():
            columns = {
                c.name: (c.type, c.null, c.default, c.primary_key, c.autoincrement)
                for c in intro.get_columns(table)
            }
            constraints = sorted(
                repr((tuple(info.columns), info.primary_key, info.unique, info.foreign_key, info.check,
                      info.index, tuple(info.orders), info.on_delete))
                for info in intro.get_constraints(table).values()
            )
            out[table] = {"columns": columns, "constraints": constraints}
        return out
    finally:
        connection.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_squashed_history_builds_identical_schema(vendor, database_factory, seed):
    """A generated history and its squash give the same tables, columns and constraints."""
    history = generate_history(seed, 30)
    optimized = squashed(history)
    assert len(optimized) < len(history)
    original_url, squashed_url = database_factory(vendor), database_factory(vendor)
    state_a = apply_history(original_url, split(history, seed, 4))
    state_b = apply_history(squashed_url, [optimized])
    assert state_a == state_b
    before, after = schema(original_url), schema(squashed_url)
    assert sorted(before) == sorted(after)
    for table in before:
        assert before[table] == after[table], table


def test_one_off_default_folded_into_create_model(vendor, database_factory):
    """A one-off default folded into CreateModel leaves the same NOT NULL column, without a default."""
    history = [
        migrations.CreateModel("Shelf", [("id", models.AutoField(primary_key=True))]),
        migrations.AddField("Shelf", "label", models.CharField(max_length=20, default="none"), preserve_default=False),
        migrations.AddField("Shelf", "size", models.IntegerField(null=True)),
        migrations.AlterField("Shelf", "size", models.IntegerField(default=4), preserve_default=False),
    ]
    optimized = squashed(history)
    assert len(optimized) == 1
    assert not dict(optimized[0].fields)["label"].has_default()
    urls = database_factory(vendor), database_factory(vendor)
    apply_history(urls[0], [[op] for op in history])
    apply_history(urls[1], [optimized])
    before, after = schema(urls[0]), schema(urls[1])
    assert before == after
    label = before["books_shelf"]["columns"]["label"]
    assert label[1] is False  # NOT NULL


def test_add_then_alter_on_table_with_rows_keeps_filling_rows(vendor, database_factory):
    """AddField(one-off default) + AlterField(no default) folded still fills rows that already exist."""
    create = migrations.CreateModel("Shelf", [("id", models.AutoField(primary_key=True))])
    later = [
        migrations.AddField("Shelf", "size", models.IntegerField(default=7), preserve_default=False),
        migrations.AlterField("Shelf", "size", models.BigIntegerField()),
    ]
    optimized = MigrationOptimizer().optimize(later, APP)
    assert len(optimized) == 1 and optimized[0].preserve_default is False
    results = []
    for ops in (later, optimized):
        url = database_factory(vendor)
        apply_history(url, [[create]])
        connection = create_connection("rows", url)
        try:
            connection.execute('INSERT INTO "books_shelf" ("id") VALUES (1)'.replace('"', connection.ops.quote_name("x")[0]))
        finally:
            connection.close()
        state = ProjectState()
        create.state_forwards(APP, state)
        connection = create_connection("default", url)
        try:
            migration = Migration("0002_step", APP)
            migration.operations = ops
            with connection.schema_editor(atomic=True) as editor:
                migration.apply(state, editor)
            results.append(connection.fetchall('SELECT "size" FROM "books_shelf"'.replace('"', connection.ops.quote_name("x")[0])))
        finally:
            connection.close()
        results.append(schema(url)["books_shelf"])
    assert results[0] == results[2] == [(7,)]
    assert results[1] == results[3]


def relations_history() -> list[Any]:
    """Foreign keys, a many-to-many, model and field renames across related models."""
    pk = [("id", models.AutoField(primary_key=True))]
    return [
        migrations.CreateModel("Author", [*pk, ("name", models.CharField(max_length=50))]),
        migrations.CreateModel("Tag", [*pk, ("label", models.CharField(max_length=20))]),
        migrations.CreateModel("Book", [*pk, ("title", models.CharField(max_length=80)),
                                        ("author", models.ForeignKey("books.Author", on_delete=models.CASCADE))]),
        migrations.AddField("Book", "tags", models.ManyToManyField("books.Tag")),
        migrations.AddField("Author", "born", models.IntegerField(null=True)),
        migrations.RenameModel("Author", "Writer"),
        migrations.RenameField("Book", "author", "writer"),
        migrations.AlterField("Book", "title", models.CharField(max_length=120, db_index=True)),
        migrations.AddField("Book", "isbn", models.CharField(max_length=13, default="-"), preserve_default=False),
        migrations.AlterUniqueTogether("Book", {("title", "writer")}),
        migrations.CreateModel("Review", [*pk, ("book", models.ForeignKey("books.Book", on_delete=models.CASCADE)),
                                          ("stars", models.IntegerField(default=3))]),
        migrations.RemoveField("Writer", "born"),
        migrations.AddIndex("Review", models.Index(fields=["stars"], name="review_stars_idx")),
        migrations.RemoveField("Review", "book"),
        migrations.DeleteModel("Review"),
    ]


def test_relations_history_builds_identical_schema(vendor, database_factory):
    """Foreign keys, M2M and renames squash into the same schema and state."""
    history = relations_history()
    optimized = squashed(history)
    assert len(optimized) < len(history)
    urls = database_factory(vendor), database_factory(vendor)
    state_a = apply_history(urls[0], [[op] for op in history])
    state_b = apply_history(urls[1], [optimized])
    from shoal.migrations.autodetector import MigrationAutodetector

    assert MigrationAutodetector(state_b, state_a).detect() == []
    assert schema(urls[0]) == schema(urls[1])


def test_unique_together_dropped_in_the_migration_that_created_it(vendor, database_factory):
    """CreateModel(unique_together) then AlterUniqueTogether(set()) in one migration leaves no unique."""
    ops = [
        migrations.CreateModel("Pair", [("id", models.AutoField(primary_key=True)), ("a", models.IntegerField()),
                                        ("b", models.IntegerField())], options={"unique_together": {("a", "b")}}),
        migrations.RunPython(migrations.RunPython.noop),  # keeps the optimizer from folding the two
        migrations.AlterUniqueTogether("Pair", set()),
    ]
    assert len(squashed(ops)) == 3
    url = database_factory(vendor)
    apply_history(url, [squashed(ops)])
    constraints = schema(url)["books_pair"]["constraints"]
    assert not [c for c in constraints if c.startswith("(('a', 'b'),")]
