"""The optimizer and the operations' reduce() rules (no database)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from shoal import migrations, models
from shoal.migrations.autodetector import MigrationAutodetector
from shoal.migrations.operations.base import Operation
from shoal.migrations.optimizer import MigrationOptimizer, optimize
from shoal.migrations.state import ProjectState
from shoal.migrations.writer import MigrationWriter
from tests.squash_histories import generate_history

APP = "books"


def pk() -> tuple[str, Any]:
    return ("id", models.AutoField(primary_key=True))


def text(operations: list[Any]) -> list[str]:
    """Operations as the writer would print them (comparable, readable on failure)."""
    return [MigrationWriter.serialize(op)[0] for op in operations]


def assert_optimizes(before: list[Any], after: list[Any], base: tuple[Any, ...] = ()) -> None:
    """``before`` optimizes to exactly ``after``, with the same end state (after ``base``)."""
    result = optimize(before, APP)
    assert text(result) == text(after)
    assert_same_state([*base, *before], [*base, *result])


def state_of(operations: list[Any]) -> ProjectState:
    state = ProjectState()
    for op in operations:
        op.state_forwards(APP, state)
    return state


def assert_same_state(before: list[Any], after: list[Any]) -> None:
    """Same models, fields (in order), options: makemigrations would find nothing."""
    a, b = state_of(before), state_of(after)
    assert a == b
    assert MigrationAutodetector(b, a).detect() == []


def author(*extra: tuple[str, Any], **kwargs: Any) -> Any:
    return migrations.CreateModel("Author", [pk(), ("name", models.CharField(max_length=50)), *extra], **kwargs)


# -- CreateModel absorbs later changes ---------------------------------------------------


def test_create_and_delete_cancel():
    """CreateModel followed by DeleteModel of the same model leaves nothing."""
    assert_optimizes([author(), migrations.DeleteModel("Author")], [])


def test_create_absorbs_add_alter_rename_remove_field():
    """AddField, AlterField, RenameField and RemoveField fold into CreateModel, field order kept."""
    assert_optimizes(
        [
            author(),
            migrations.AddField("Author", "age", models.IntegerField(null=True)),
            migrations.AddField("Author", "bio", models.TextField(null=True)),
            migrations.AlterField("Author", "name", models.CharField(max_length=80)),
            migrations.RenameField("Author", "age", "years"),
            migrations.RemoveField("Author", "bio"),
        ],
        [migrations.CreateModel("Author", [pk(), ("name", models.CharField(max_length=80)),
                                           ("years", models.IntegerField(null=True))])],
    )


def test_create_absorbs_options_table_managers_and_unique_together():
    """Meta option, table, comment and unique_together operations fold into CreateModel."""
    assert_optimizes(
        [
            author(),
            migrations.AlterModelOptions("Author", {"ordering": ["name"], "verbose_name": "writer"}),
            migrations.AlterModelTable("Author", "people"),
            migrations.AlterModelTableComment("Author", "who wrote it"),
            migrations.AlterUniqueTogether("Author", {("id", "name")}),
        ],
        [author(options={"ordering": ["name"], "verbose_name": "writer", "db_table": "people",
                         "db_table_comment": "who wrote it", "unique_together": {("id", "name")}})],
    )


def test_create_absorbs_indexes_and_constraints():
    """AddIndex/RemoveIndex/RenameIndex and AddConstraint/RemoveConstraint fold into CreateModel."""
    index = models.Index(fields=["name"], name="author_name_idx")
    unique = models.UniqueConstraint(fields=["name"], name="author_name_uq")
    assert_optimizes(
        [
            author(),
            migrations.AddIndex("Author", index),
            migrations.AddIndex("Author", models.Index(fields=["id", "name"], name="gone_idx")),
            migrations.RemoveIndex("Author", "gone_idx"),
            migrations.RenameIndex("Author", new_name="author_n_idx", old_name="author_name_idx"),
            migrations.AddConstraint("Author", unique),
            migrations.AddConstraint("Author", models.UniqueConstraint(fields=["id", "name"], name="gone_uq")),
            migrations.RemoveConstraint("Author", "gone_uq"),
        ],
        [author(options={"indexes": [models.Index(fields=["name"], name="author_n_idx")], "constraints": [unique]})],
    )


def test_create_then_rename_model_follows_self_relations():
    """RenameModel folds into CreateModel, and a relation of the model to itself follows."""
    assert_optimizes(
        [
            migrations.CreateModel("Node", [pk(), ("parent", models.ForeignKey("books.Node", models.CASCADE, null=True))]),
            migrations.RenameModel("Node", "Vertex"),
        ],
        [migrations.CreateModel("Vertex", [pk(), ("parent", models.ForeignKey("books.vertex", models.CASCADE, null=True))])],
    )


def test_remove_field_named_by_unique_together_is_not_folded():
    """A field still named by unique_together is not removed inside CreateModel (the table would be invalid)."""
    ops = [
        author(options={"unique_together": {("id", "name")}}),
        migrations.RemoveField("Author", "name"),
    ]
    assert len(optimize(ops, APP)) == 2


def test_managed_flip_is_not_folded():
    """AlterModelOptions that changes managed stays separate (table or no table depends on it)."""
    ops = [author(options={"managed": False}), migrations.AlterModelOptions("Author", {"managed": True})]
    assert len(optimize(ops, APP)) == 2


# -- one-off defaults ----------------------------------------------------------------------


def test_one_off_default_stays_one_off_in_create_model():
    """AddField(preserve_default=False) folds into CreateModel without the default (ticket #26223)."""
    result = optimize(
        [author(), migrations.AddField("Author", "rating", models.IntegerField(default=3), preserve_default=False)],
        APP,
    )
    assert len(result) == 1
    rating = dict(result[0].fields)["rating"]
    assert not rating.has_default()
    assert "default" not in MigrationWriter.serialize(result[0])[0]
    assert_same_state(
        [author(), migrations.AddField("Author", "rating", models.IntegerField(default=3), preserve_default=False)],
        result,
    )


def test_one_off_alter_default_stays_one_off_in_create_model():
    """AlterField(preserve_default=False) folds into CreateModel without the default."""
    ops = [
        author(("size", models.IntegerField(null=True))),
        migrations.AlterField("Author", "size", models.IntegerField(default=4), preserve_default=False),
    ]
    result = optimize(ops, APP)
    assert len(result) == 1 and not dict(result[0].fields)["size"].has_default()
    assert_same_state(ops, result)


def test_add_with_one_off_then_alter_keeps_the_one_off_for_existing_rows():
    """AddField(one-off 7) + AlterField(no default) -> AddField(default=7, preserve_default=False)."""
    ops = [
        migrations.AddField("Author", "rating", models.IntegerField(default=7), preserve_default=False),
        migrations.AlterField("Author", "rating", models.BigIntegerField()),
    ]
    assert text(optimize(ops, APP)) == text(
        [migrations.AddField("Author", "rating", models.BigIntegerField(default=7), preserve_default=False)]
    )
    assert_same_state([author(), *ops], [author(), *optimize(ops, APP)])


def test_add_with_kept_default_then_alter_without_default():
    """A kept default later dropped survives only as a one-off that fills existing rows."""
    ops = [
        migrations.AddField("Author", "rating", models.IntegerField(default=0)),
        migrations.AlterField("Author", "rating", models.IntegerField()),
    ]
    assert text(optimize(ops, APP)) == text(
        [migrations.AddField("Author", "rating", models.IntegerField(default=0), preserve_default=False)]
    )
    assert_same_state([author(), *ops], [author(), *optimize(ops, APP)])


def test_alter_chain_with_one_off_default_folds_keeping_it_one_off():
    """AlterField chains fold; the last one's one-off default stays one-off."""
    ops = [
        migrations.AlterField("Author", "name", models.CharField(max_length=60, null=True)),
        migrations.AlterField("Author", "name", models.CharField(max_length=70)),
        migrations.AlterField("Author", "name", models.CharField(max_length=90, default="?"), preserve_default=False),
    ]
    assert text(optimize(ops, APP)) == text(
        [migrations.AlterField("Author", "name", models.CharField(max_length=90, default="?"), preserve_default=False)]
    )
    assert_same_state([author(), *ops], [author(), *optimize(ops, APP)])


# -- pairs of field and model operations -----------------------------------------------------


def test_add_then_remove_field_cancel():
    """AddField followed by RemoveField of the same field leaves nothing."""
    assert_optimizes(
        [migrations.AddField("Author", "x", models.IntegerField(null=True)), migrations.RemoveField("Author", "x")], [],
        base=(author(),),
    )


def test_add_then_rename_field():
    """AddField then RenameField becomes one AddField under the new name."""
    assert_optimizes(
        [migrations.AddField("Author", "x", models.IntegerField(null=True)), migrations.RenameField("Author", "x", "y")],
        [migrations.AddField("Author", "y", models.IntegerField(null=True))],
        base=(author(),),
    )


def test_rename_field_chain_folds_and_rename_back_vanishes():
    """RenameField a->b->c becomes a->c; a->b->a becomes nothing."""
    assert_optimizes(
        [migrations.RenameField("Author", "name", "b"), migrations.RenameField("Author", "b", "c")],
        [migrations.RenameField("Author", "name", "c")],
        base=(author(),),
    )
    assert optimize([migrations.RenameField("Author", "name", "b"), migrations.RenameField("Author", "b", "name")], APP) == []


def test_rename_model_chain_and_delete():
    """RenameModel chains fold; a renamed model deleted is deleted under its old name."""
    assert_optimizes(
        [migrations.RenameModel("Author", "Writer"), migrations.RenameModel("Writer", "Poet")],
        [migrations.RenameModel("Author", "Poet")],
        base=(author(),),
    )
    assert text(optimize([migrations.RenameModel("Author", "Writer"), migrations.DeleteModel("Writer")], APP)) == text(
        [migrations.DeleteModel("Author")]
    )


def test_alter_then_remove_field():
    """AlterField then RemoveField of that field is just the RemoveField."""
    assert text(optimize([migrations.AlterField("Author", "name", models.TextField()),
                          migrations.RemoveField("Author", "name")], APP)) == text([migrations.RemoveField("Author", "name")])


def test_other_model_operations_in_between_do_not_block():
    """Operations on unrelated models are crossed to fold AddField into its CreateModel."""
    ops = [
        author(),
        migrations.CreateModel("Shelf", [pk()]),
        migrations.AddField("Author", "age", models.IntegerField(null=True)),
    ]
    result = optimize(ops, APP)
    assert [type(op).__name__ for op in result] == ["CreateModel", "CreateModel"]
    assert [n for n, _ in result[0].fields] == ["id", "name", "age"]
    assert_same_state(ops, result)


def test_column_order_is_kept_when_an_earlier_add_folds():
    """AddField a, AddField b, AlterField a: a stays before b."""
    ops = [
        migrations.AddField("Author", "a", models.IntegerField(null=True)),
        migrations.AddField("Author", "b", models.IntegerField(null=True)),
        migrations.AlterField("Author", "a", models.BigIntegerField(null=True)),
    ]
    assert [op.name for op in optimize(ops, APP)] == ["a", "b"]


# -- what must not move ------------------------------------------------------------------------


def test_run_python_is_a_barrier():
    """Nothing folds across a RunPython (it may read or write the rows)."""
    ops = [author(), migrations.RunPython(migrations.RunPython.noop),
           migrations.AddField("Author", "age", models.IntegerField(null=True))]
    assert text(optimize(ops, APP)) == text(ops)


def test_run_sql_is_a_barrier_unless_elidable():
    """A RunSQL blocks folding; an elidable one is dropped and folding goes on."""
    add = migrations.AddField("Author", "age", models.IntegerField(null=True))
    assert len(optimize([author(), migrations.RunSQL("SELECT 1"), add], APP)) == 3
    result = optimize([author(), migrations.RunSQL("SELECT 1", elidable=True), add], APP)
    assert len(result) == 1 and [n for n, _ in result[0].fields] == ["id", "name", "age"]


def test_unknown_operation_is_a_barrier():
    """A third-party operation without a footprint is never crossed."""

    class Custom(Operation):
        def state_forwards(self, app_label: str, state: Any) -> None:
            pass

    ops = [author(), Custom(), migrations.AddField("Author", "age", models.IntegerField(null=True))]
    assert len(optimize(ops, APP)) == 3


def test_rename_model_not_moved_across_a_relation_to_it():
    """A RenameModel is not folded past a CreateModel whose foreign key names the old model."""
    ops = [
        author(),
        migrations.CreateModel("Book", [pk(), ("author", models.ForeignKey("books.Author", models.CASCADE))]),
        migrations.RenameModel("Author", "Writer"),
    ]
    result = optimize(ops, APP)
    assert text(result) == text(ops)
    assert_same_state(ops, result)


def test_relation_added_then_target_renamed_keeps_order():
    """AddField(fk -> Author) stays before RenameModel(Author), whatever folds around it."""
    ops = [
        author(),
        migrations.CreateModel("Book", [pk()]),
        migrations.AddField("Book", "author", models.ForeignKey("books.Author", models.CASCADE, null=True)),
        migrations.RenameModel("Author", "Writer"),
        migrations.AddField("Writer", "age", models.IntegerField(null=True)),
    ]
    result = optimize(ops, APP)
    assert_same_state(ops, result)
    state = state_of(result)  # replays without a dangling relation
    assert ("books", "writer") in state.models


def test_delete_model_not_moved_before_removal_of_a_relation_to_it():
    """DeleteModel(Author) is never placed before RemoveField of a foreign key that pointed at it."""
    ops = [
        migrations.AlterField("Author", "name", models.CharField(max_length=90)),
        migrations.RemoveField("Book", "author"),
        migrations.DeleteModel("Author"),
    ]
    result = optimize(ops, APP)
    assert text(result) == text([migrations.RemoveField("Book", "author"), migrations.DeleteModel("Author")])


def test_needs_app_label():
    """optimize() without an app label is a programming error."""
    with pytest.raises(TypeError):
        MigrationOptimizer().optimize([], "")


# -- generated histories -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_generated_history_same_state_never_longer(seed):
    """For generated histories: shorter or equal, same state (fields in order), and a fixed point."""
    ops = generate_history(seed, 40)
    result = optimize(ops, APP)
    assert len(result) <= len(ops)
    assert_same_state(ops, result)
    assert text(optimize(result, APP)) == text(result)


def test_generated_histories_shrink():
    """Squashing generated histories removes a good share of the operations."""
    before = after = 0
    for seed in range(20):
        ops = generate_history(seed, 40)
        before += len(ops)
        after += len(optimize(ops, APP))
    assert after < before * 0.7


def test_long_history_is_fast():
    """A 1,000-operation history optimizes in seconds, not minutes."""
    ops = generate_history(5, 1000)
    started = time.perf_counter()
    result = optimize(ops, APP)
    assert time.perf_counter() - started < 20
    assert len(result) < len(ops)


def test_optimizer_and_squash_import_no_driver():
    """The optimizer and squash planning are pure: importing them loads no database driver."""
    code = (
        "import sys; import shoal.migrations.optimizer, shoal.migrations.squash, "
        "shoal.migrations.squash_functions; "
        "bad = [m for m in ('psycopg', 'pymysql', 'sqlite3', 'shoal.db.backends.sqlite') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
