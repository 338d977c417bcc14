"""Every model-level operation changes the schema forwards and back, on every backend.

Each test applies migrations (operation lists) to a fresh database with the
real ``Migration.apply``/``unapply`` path, reads the schema back through
introspection after each step and checks tables, columns, indexes,
constraints and foreign keys; then unapplies and checks the schema returned.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from shoal import migrations, models
from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.migrations.migration import Migration
from shoal.migrations.state import ProjectState

APP = "lang"


def auto() -> Any:
    return models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")


class Runner:
    """Applies operation lists as numbered migrations of app ``lang`` and unapplies them."""

    def __init__(self, conn: BaseDatabaseWrapper) -> None:
        self.conn = conn
        self.state = ProjectState()
        self.applied: list[tuple[Migration, ProjectState]] = []

    def forward(self, *operations: Any) -> ProjectState:
        migration = Migration(f"{len(self.applied) + 1:04d}_step", APP)
        migration.operations = list(operations)
        before = self.state
        with self.conn.schema_editor() as editor:
            self.state = migration.apply(before.clone(), editor)
        self.applied.append((migration, before))
        return self.state

    def backward(self) -> ProjectState:
        migration, before = self.applied.pop()
        with self.conn.schema_editor() as editor:
            migration.unapply(before.clone(), editor)
        self.state = before
        return before

    # -- reading the schema back -------------------------------------------------

    def tables(self) -> set[str]:
        return {t for t in self.conn.introspection.table_names() if t.startswith((APP, "lg_"))}

    def columns(self, table: str) -> dict[str, Any]:
        return {c.name: c for c in self.conn.introspection.get_columns(table)}

    def constraints(self, table: str) -> dict[str, Any]:
        return self.conn.introspection.get_constraints(table)

    def fks(self, table: str) -> dict[str, tuple[str, str]]:
        return self.conn.introspection.get_relations(table)

    def unique_columns(self, table: str) -> set[tuple[str, ...]]:
        return {tuple(i.columns) for i in self.constraints(table).values() if i.unique and not i.primary_key}


@pytest.fixture
def run(connection: BaseDatabaseWrapper) -> Runner:
    return Runner(connection)


def author_and_book(extra_author: list[Any] = (), author_options: dict[str, Any] | None = None) -> list[Any]:
    return [
        migrations.CreateModel("Tag", [("id", auto()), ("label", models.CharField(max_length=20))]),
        migrations.CreateModel(
            "Author",
            [("id", auto()), ("name", models.CharField(max_length=50)), *extra_author],
            options=author_options or {},
        ),
        migrations.CreateModel("Book", [
            ("id", auto()),
            ("title", models.CharField(max_length=50)),
            ("author", models.ForeignKey(f"{APP}.author", on_delete=models.CASCADE)),
            ("readers", models.ManyToManyField(f"{APP}.author", related_name="+")),
        ]),
    ]


# -- CreateModel with the whole model language -----------------------------------------------


TYPES = {  # column types that differ per backend, as Django's backends write them
    "sqlite": {"data": "text", "blob": "blob", "span": "bigint", "ip": "char(39)", "uid": "char(32)"},
    "postgresql": {"data": "jsonb", "blob": "bytea", "span": "interval", "ip": "inet", "uid": "uuid"},
    "mysql": {"data": ("json", "longtext"), "blob": "longblob", "span": "bigint", "ip": "char(39)",
              "uid": ("char(32)", "uuid")},  # MariaDB 10.7+ has a uuid type
}


def test_create_model_with_every_field_kind_and_option(run: Runner, vendor: str) -> None:
    """CreateModel builds columns, db_default, comments, indexes, constraints and M2M tables; undo drops them."""
    features = run.conn.features
    run.forward(
        migrations.CreateModel("Tag", [("id", auto()), ("label", models.SlugField())]),
        migrations.CreateModel(
            "Item",
            [
                ("id", auto()),
                ("name", models.CharField(max_length=30, db_column="item_name", db_comment="shown to users")),
                ("kind", models.CharField(max_length=1, choices=[("a", "A"), ("b", "B")], default="a")),
                ("data", models.JSONField(default=dict)),
                ("blob", models.BinaryField(null=True)),
                ("span", models.DurationField(default=datetime.timedelta(days=1))),
                ("ip", models.GenericIPAddressField(null=True)),
                ("uid", models.UUIDField(null=True)),
                ("score", models.IntegerField(db_default=5)),
                ("price", models.DecimalField(max_digits=8, decimal_places=2, null=True)),
                ("tags", models.ManyToManyField(f"{APP}.tag")),
            ],
            options={
                "db_table_comment": "things for sale",
                "unique_together": {("name", "kind")},
                "indexes": [
                    models.Index(fields=["-score", "name"], name="item_score_idx"),
                    models.Index(fields=["price"], name="item_priced_idx", condition=models.Q(price__isnull=False)),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=["uid"], name="item_uid_uniq"),
                    models.CheckConstraint(condition=models.Q(score__gte=0), name="item_score_check"),
                ],
            },
        ),
    )
    assert run.tables() == {"lang_tag", "lang_item", "lang_item_tags"}
    cols = run.columns("lang_item")
    assert list(cols) == ["id", "item_name", "kind", "data", "blob", "span", "ip", "uid", "score", "price"]
    for name, expected in TYPES[vendor].items():
        assert cols[name].type in (expected if isinstance(expected, tuple) else (expected,)), name
    assert cols["item_name"].type == "varchar(30)" and not cols["item_name"].null
    assert cols["blob"].null and not cols["data"].null
    assert cols["score"].default is not None and "5" in cols["score"].default
    assert cols["kind"].default is None  # a Python default never stays in the database
    if features.supports_comments:
        assert cols["item_name"].comment == "shown to users"
        assert run.conn.introspection.get_table_comment("lang_item") == "things for sale"
    found = run.constraints("lang_item")
    assert found["item_score_idx"].columns == ["score", "item_name"]
    if features.supports_index_column_ordering:
        assert found["item_score_idx"].orders == ["DESC", "ASC"]
    # Without partial indexes the condition is dropped and the index covers every row, as in Django.
    assert found["item_priced_idx"].columns == ["price"]
    assert bool(found["item_priced_idx"].condition) == features.supports_partial_indexes
    assert found["item_uid_uniq"].unique and found["item_uid_uniq"].columns == ["uid"]
    if features.supports_table_check_constraints:
        assert found["item_score_check"].check
    assert any(i.unique and i.columns == ["item_name", "kind"] for i in found.values())
    assert set(run.columns("lang_item_tags")) == {"id", "item_id", "tag_id"}
    assert run.fks("lang_item_tags") == {"item_id": ("lang_item", "id"), "tag_id": ("lang_tag", "id")}
    run.backward()
    assert run.tables() == set()


def test_multi_table_inheritance_proxy_and_unmanaged_models(run: Runner) -> None:
    """A child table is keyed by its parent link; proxy and unmanaged models get no table."""
    run.forward(
        migrations.CreateModel("Place", [("id", auto()), ("name", models.CharField(max_length=20))]),
        migrations.CreateModel(
            "Restaurant",
            [("place_ptr", models.OneToOneField(f"{APP}.place", on_delete=models.CASCADE, parent_link=True,
                                                auto_created=True, primary_key=True, serialize=False)),
             ("stars", models.IntegerField())],
            bases=(f"{APP}.place",),
        ),
        migrations.CreateModel("Spot", [], options={"proxy": True}, bases=(f"{APP}.place",)),
        migrations.CreateModel("Legacy", [("id", auto())], options={"managed": False, "db_table": "lg_legacy"}),
    )
    assert run.tables() == {"lang_place", "lang_restaurant"}
    assert list(run.columns("lang_restaurant")) == ["place_ptr_id", "stars"]
    assert run.conn.introspection.get_primary_key_columns("lang_restaurant") == ["place_ptr_id"]
    assert run.fks("lang_restaurant") == {"place_ptr_id": ("lang_place", "id")}
    run.backward()
    assert run.tables() == set()


# -- RenameModel and AlterModelTable --------------------------------------------------------


def test_rename_model_renames_table_fk_targets_and_m2m_tables(run: Runner) -> None:
    """RenameModel moves the table, FKs pointing at it, M2M columns naming it and its own M2M table."""
    run.forward(*author_and_book(extra_author=[("tags", models.ManyToManyField(f"{APP}.tag"))]))
    assert run.tables() == {"lang_tag", "lang_author", "lang_book", "lang_book_readers", "lang_author_tags"}
    run.forward(migrations.RenameModel("Author", "Writer"))
    assert run.tables() == {"lang_tag", "lang_writer", "lang_book", "lang_book_readers", "lang_writer_tags"}
    assert run.fks("lang_book") == {"author_id": ("lang_writer", "id")}
    assert run.fks("lang_book_readers") == {"book_id": ("lang_book", "id"), "writer_id": ("lang_writer", "id")}
    assert run.fks("lang_writer_tags") == {"writer_id": ("lang_writer", "id"), "tag_id": ("lang_tag", "id")}
    assert ("book_id", "writer_id") in run.unique_columns("lang_book_readers")
    run.backward()
    assert run.tables() == {"lang_tag", "lang_author", "lang_book", "lang_book_readers", "lang_author_tags"}
    assert run.fks("lang_book") == {"author_id": ("lang_author", "id")}
    assert run.fks("lang_book_readers") == {"book_id": ("lang_book", "id"), "author_id": ("lang_author", "id")}
    assert run.fks("lang_author_tags") == {"author_id": ("lang_author", "id"), "tag_id": ("lang_tag", "id")}


def test_rename_model_keeps_rows(run: Runner) -> None:
    """Rows and the relations between them survive a rename and its undo."""
    run.forward(*author_and_book())
    conn = run.conn
    conn.execute("INSERT INTO lang_author (name) VALUES (%s)", ["Le Guin"])
    (author_id,) = conn.fetchone("SELECT id FROM lang_author")
    conn.execute("INSERT INTO lang_book (title, author_id) VALUES (%s, %s)", ["Earthsea", author_id])
    run.forward(migrations.RenameModel("Author", "Writer"))
    assert conn.fetchall("SELECT b.title, w.name FROM lang_book b JOIN lang_writer w ON w.id = b.author_id") == [
        ("Earthsea", "Le Guin")
    ]
    run.backward()
    assert conn.fetchall("SELECT name FROM lang_author") == [("Le Guin",)]


def test_alter_model_table_moves_table_and_its_auto_m2m_table(run: Runner) -> None:
    """AlterModelTable renames the table, and the auto M2M table named after it; undo renames back."""
    run.forward(*author_and_book())
    run.forward(migrations.AlterModelTable("book", "lg_books"))
    assert run.tables() == {"lang_tag", "lang_author", "lg_books", "lg_books_readers"}
    assert run.fks("lg_books_readers") == {"book_id": ("lg_books", "id"), "author_id": ("lang_author", "id")}
    run.forward(migrations.AlterModelTable("author", "lg_authors"))
    assert run.fks("lg_books") == {"author_id": ("lg_authors", "id")}
    run.backward()
    run.backward()
    assert run.tables() == {"lang_tag", "lang_author", "lang_book", "lang_book_readers"}


def test_alter_model_table_comment(run: Runner) -> None:
    """AlterModelTableComment sets and clears the comment where the backend keeps comments."""
    if not run.conn.features.supports_comments:
        pytest.skip("no comments on this backend")
    run.forward(*author_and_book())
    run.forward(migrations.AlterModelTableComment("author", "who wrote it"))
    assert run.conn.introspection.get_table_comment("lang_author") == "who wrote it"
    run.backward()
    assert not run.conn.introspection.get_table_comment("lang_author")


# -- indexes, constraints, unique_together ---------------------------------------------------


def test_index_add_rename_remove_and_back(run: Runner) -> None:
    """AddIndex, RenameIndex and RemoveIndex, each undone in reverse order."""
    run.forward(*author_and_book())
    run.forward(migrations.AddIndex("book", models.Index(fields=["title"], name="book_title_idx")))
    run.forward(migrations.RenameIndex("book", new_name="book_ttl_idx", old_name="book_title_idx"))
    found = run.constraints("lang_book")
    assert "book_ttl_idx" in found and "book_title_idx" not in found
    assert found["book_ttl_idx"].columns == ["title"]
    run.forward(migrations.RemoveIndex("book", "book_ttl_idx"))
    assert "book_ttl_idx" not in run.constraints("lang_book")
    run.backward()
    assert "book_ttl_idx" in run.constraints("lang_book")
    run.backward()
    assert "book_title_idx" in run.constraints("lang_book")
    run.backward()
    assert "book_title_idx" not in run.constraints("lang_book")


@pytest.mark.backends("postgresql")
def test_index_opclasses_on_postgresql(run: Runner) -> None:
    """An index with opclasses is created with the operator class on PostgreSQL."""
    run.forward(*author_and_book())
    run.forward(migrations.AddIndex(
        "book", models.Index(fields=["title"], name="book_title_like", opclasses=["varchar_pattern_ops"])))
    (definition,) = run.conn.fetchone("SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["book_title_like"])
    assert "varchar_pattern_ops" in definition
    run.backward()
    assert "book_title_like" not in run.constraints("lang_book")


def test_constraints_add_and_remove(run: Runner) -> None:
    """AddConstraint / RemoveConstraint for unique (plain and conditional) and check constraints."""
    features = run.conn.features
    run.forward(*author_and_book())
    run.forward(
        migrations.AddConstraint("book", models.UniqueConstraint(fields=["title", "author"], name="book_uniq")),
        migrations.AddConstraint("book", models.UniqueConstraint(
            fields=["title"], condition=models.Q(title__startswith="A"), name="book_a_uniq")),
        migrations.AddConstraint("author", models.CheckConstraint(
            condition=~models.Q(name=""), name="author_named")),
    )
    book = run.constraints("lang_book")
    assert book["book_uniq"].unique and book["book_uniq"].columns == ["title", "author_id"]
    assert ("book_a_uniq" in book) == features.supports_partial_indexes
    if features.supports_table_check_constraints:
        assert run.constraints("lang_author")["author_named"].check
    run.forward(migrations.RemoveConstraint("book", "book_uniq"))
    assert "book_uniq" not in run.constraints("lang_book")
    run.backward()
    run.backward()
    assert "book_uniq" not in run.constraints("lang_book")
    assert "author_named" not in run.constraints("lang_author")


def test_alter_unique_together_forwards_and_back(run: Runner) -> None:
    """AlterUniqueTogether adds and drops the unique groups; undo restores the old set."""
    run.forward(*author_and_book())
    uniques = lambda: {tuple(c.columns) for c in run.constraints("lang_book").values()
                       if c.unique and not c.primary_key}
    run.forward(migrations.AlterUniqueTogether("book", {("title", "author")}))
    assert ("title", "author_id") in uniques()
    run.forward(migrations.AlterUniqueTogether("book", set()))
    assert ("title", "author_id") not in uniques()
    run.backward()
    assert ("title", "author_id") in uniques()
    run.backward()
    assert ("title", "author_id") not in uniques()


# -- order_with_respect_to, options and managers ---------------------------------------------


def test_alter_order_with_respect_to_adds_and_drops_order_column(run: Runner) -> None:
    """Setting order_with_respect_to adds _order (existing rows get 0); clearing it drops the column."""
    run.forward(*author_and_book())
    run.conn.execute("INSERT INTO lang_author (name) VALUES (%s)", ["A"])
    (author_id,) = run.conn.fetchone("SELECT id FROM lang_author")
    run.conn.execute("INSERT INTO lang_book (title, author_id) VALUES (%s, %s)", ["T", author_id])
    state = run.forward(migrations.AlterOrderWithRespectTo("book", "author"))
    cols = run.columns("lang_book")
    assert list(cols)[-1] == "_order" and not cols["_order"].null
    assert run.conn.fetchall("SELECT _order FROM lang_book") == [(0,)]
    assert state.get_model(APP, "book").options["order_with_respect_to"] == "author"
    run.forward(migrations.AlterOrderWithRespectTo("book", None))
    assert "_order" not in run.columns("lang_book")
    run.backward()
    assert "_order" in run.columns("lang_book")
    run.backward()
    assert "_order" not in run.columns("lang_book")
    assert run.conn.fetchall("SELECT title FROM lang_book") == [("T",)]


def test_create_model_with_order_with_respect_to_has_order_column(run: Runner) -> None:
    """A CreateModel with order_with_respect_to creates the _order column last."""
    run.forward(*author_and_book(), migrations.CreateModel(
        "Chapter",
        [("id", auto()), ("book", models.ForeignKey(f"{APP}.book", on_delete=models.CASCADE))],
        options={"order_with_respect_to": "book"},
    ))
    assert list(run.columns("lang_chapter")) == ["id", "book_id", "_order"]


def test_alter_model_options_and_managers_change_state_only(run: Runner) -> None:
    """AlterModelOptions and AlterModelManagers change the state and leave the schema alone."""
    run.forward(*author_and_book())
    before = {t: run.columns(t) for t in run.tables()}
    manager = models.Manager()
    manager.use_in_migrations = True
    state = run.forward(
        migrations.AlterModelOptions("author", {"ordering": ["name"], "verbose_name": "writer"}),
        migrations.AlterModelManagers("author", [("people", manager)]),
    )
    author = state.get_model(APP, "author")
    assert author.options["ordering"] == ["name"] and author.options["verbose_name"] == "writer"
    assert [name for name, _ in author.managers] == ["people"]
    assert {t: run.columns(t) for t in run.tables()} == before
    state = run.backward()
    assert "ordering" not in state.get_model(APP, "author").options


def test_rename_unnamed_index_by_its_fields(run: Runner) -> None:
    """RenameIndex(old_fields=...) finds the field's own index by columns and names it; undo keeps it."""
    run.forward(*author_and_book())
    state = run.forward(migrations.RenameIndex("book", new_name="book_author_named", old_fields=["author"]))
    found = run.constraints("lang_book")
    assert found["book_author_named"].columns == ["author_id"] and found["book_author_named"].index
    assert [i.name for i in state.get_model(APP, "book").options["indexes"]] == ["book_author_named"]
    run.backward()
    assert "book_author_named" in run.constraints("lang_book")


def test_order_with_respect_to_numbers_new_rows_per_parent(connection: BaseDatabaseWrapper) -> None:
    """Rows saved through the ORM get _order 0, 1, ... among rows with the same parent."""
    from shoal.apps import Apps
    from shoal.migrations.state import ModelState
    from shoal.models.sql import bind_connection

    reg = Apps()

    class Question(models.Model):
        class Meta:
            app_label = APP
            apps = reg

    class Answer(models.Model):
        question = models.ForeignKey(Question, on_delete=models.CASCADE)
        text = models.CharField(max_length=10)

        class Meta:
            app_label = APP
            apps = reg
            order_with_respect_to = "question"

    state = ProjectState()
    for model in (Question, Answer):
        state.add_model(ModelState.from_model(model))
    with connection.schema_editor() as editor:
        for model in (Question, Answer):
            editor.create_model(state, state.get_model(APP, model.__name__))
    with bind_connection(connection):
        first, second = Question.objects.create(), Question.objects.create()
        for question, text in ((first, "a"), (second, "x"), (first, "b"), (first, "c")):
            Answer.objects.create(question=question, text=text)
        assert sorted((a.text, a._order) for a in Answer.objects.all()) == [("a", 0), ("b", 1), ("c", 2), ("x", 0)]
        assert [a.text for a in Answer.objects.filter(question=first)] == ["a", "b", "c"]  # ordered by _order


def test_delete_model_drops_table_and_m2m_and_undo_recreates(run: Runner) -> None:
    """DeleteModel drops the table with its auto M2M table; undo creates both with their FKs again."""
    run.forward(*author_and_book())
    run.forward(migrations.DeleteModel("Book"))
    assert run.tables() == {"lang_tag", "lang_author"}
    run.backward()
    assert run.tables() == {"lang_tag", "lang_author", "lang_book", "lang_book_readers"}
    assert run.fks("lang_book") == {"author_id": ("lang_author", "id")}
    assert run.fks("lang_book_readers") == {"book_id": ("lang_book", "id"), "author_id": ("lang_author", "id")}
