"""The SQLite table rebuild keeps everything around the table, and fails safely.

SQLite only: rows, indexes, unique and check constraints, foreign keys in and
out, the AUTOINCREMENT counter, views, triggers and hand-made indexes survive;
a broken foreign key or view rolls the whole migration back; dropping the old
table never cascades.
"""

from __future__ import annotations

from typing import Any

import pytest

from shoal import models
from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.exceptions import DatabaseError, IntegrityError
from shoal.migrations.state import ModelState, ProjectState
from tests.backends.test_schema_editor import (
    add,
    alter,
    changed,
    columns,
    create_all,
    edit,
    fks,
    indexed,
    library,
    rows,
    seed,
    uniques,
)

pytestmark = pytest.mark.backends("sqlite")


def table_sql(conn: BaseDatabaseWrapper, name: str) -> str | None:
    row = conn.fetchone("SELECT sql FROM sqlite_master WHERE name = %s", [name])
    return row[0] if row else None


def longer_name(state: ProjectState) -> ProjectState:
    """authors.Author.name max_length 100 -> 150: a change only a rebuild can make."""
    return changed(state, "authors", "author", name=models.CharField(max_length=150))


def test_rebuild_keeps_rows_indexes_uniques_and_checks(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """After a rebuild: rows, unique, unique_together, index and CHECK are all still there."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "shop",
            "Item",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("code", models.CharField(max_length=10, unique=True)),
                ("title", models.CharField(max_length=50, db_index=True)),
                ("qty", models.PositiveIntegerField()),
                ("shelf", models.IntegerField()),
            ],
            {"unique_together": {("title", "shelf")}},
        )
    )
    edit(connection, lambda ed: ed.create_model(state, state.get_model("shop", "item")))
    connection.execute("INSERT INTO shop_item (code, title, qty, shelf) VALUES ('a', 'x', 1, 1), ('b', 'y', 2, 1)")
    new = changed(
        state,
        "shop",
        "item",
        qty=models.PositiveIntegerField(db_comment="count"),
        title=models.CharField(max_length=80, db_index=True),
    )
    editor = alter(connection, state, new, "shop", "item", "title")
    assert [n.kind for n in editor.notes] == ["rebuild"]
    assert columns(connection, "shop_item")["title"].type == "varchar(80)"
    assert rows(connection, "SELECT code, title, qty FROM shop_item ORDER BY id") == [("a", "x", 1), ("b", "y", 2)]
    assert uniques(connection, "shop_item") == [["code"], ["title", "shelf"]]
    assert indexed(connection, "shop_item", "title")
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, title, qty, shelf) VALUES ('a', 'z', 1, 2)")
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, title, qty, shelf) VALUES ('c', 'z', -1, 2)")
    assert table_sql(connection, "new__shop_item") is None


def test_incoming_foreign_key_survives_and_enforces(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Rebuilding the parent keeps the child's FK pointing at it, still enforced."""
    state = library()
    create_all(connection, state)
    seed(connection)
    alter(connection, state, longer_name(state), "authors", "author", "name")
    assert fks(connection, "books_book") == {"author_id": ("authors_author", "id")}
    assert rows(connection, "SELECT count(*) FROM books_book") == [(3,)]
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("INSERT INTO books_book (title, author_id) VALUES ('x', 42)")
    assert connection.fetchone("PRAGMA foreign_keys") == (1,)


def test_dropping_the_old_table_never_cascades(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """A child with ON DELETE CASCADE keeps its rows when the parent is rebuilt."""
    state = library()
    create_all(connection, state)
    seed(connection)
    connection.execute(
        "CREATE TABLE fan (id integer PRIMARY KEY, author_id integer NOT NULL "
        'REFERENCES "authors_author" ("id") ON DELETE CASCADE)'
    )
    connection.execute("INSERT INTO fan (author_id) VALUES (1), (2), (2)")
    alter(connection, state, longer_name(state), "authors", "author", "name")
    assert rows(connection, "SELECT count(*) FROM fan") == [(3,)]
    assert rows(connection, "SELECT count(*) FROM books_book") == [(3,)]
    connection.execute("DELETE FROM fan")
    connection.execute("DELETE FROM books_book WHERE author_id = 2")
    connection.execute("INSERT INTO fan (author_id) VALUES (2)")
    connection.execute("DELETE FROM authors_author WHERE id = 2")  # cascade still works afterwards
    assert rows(connection, "SELECT count(*) FROM fan") == [(0,)]


def test_autoincrement_counter_survives(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Ids of rows deleted before a rebuild are never handed out again."""
    state = library()
    create_all(connection, state)
    connection.execute("INSERT INTO authors_author (name) VALUES ('a'), ('b'), ('c')")
    connection.execute("DELETE FROM authors_author WHERE id = 3")
    alter(connection, state, longer_name(state), "authors", "author", "name")
    connection.execute("INSERT INTO authors_author (name) VALUES ('d')")
    assert rows(connection, "SELECT id FROM authors_author ORDER BY id") == [(1,), (2,), (4,)]


def test_view_trigger_and_hand_made_index_survive(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Views over the table, its triggers and RunSQL indexes are recreated after the rebuild."""
    state = library()
    create_all(connection, state)
    seed(connection)
    connection.execute("CREATE TABLE log (msg text)")
    connection.execute("CREATE VIEW ann_books AS SELECT title FROM books_book WHERE author_id = 1")
    connection.execute(
        "CREATE TRIGGER book_ins AFTER INSERT ON books_book BEGIN INSERT INTO log VALUES (NEW.title); END"
    )
    connection.execute("CREATE INDEX hand_title ON books_book (title)")
    new = changed(state, "books", "book", pages=models.IntegerField(default=10))
    editor = add(connection, new, "books", "book", "pages")
    assert editor.notes and editor.notes[0].kind == "rebuild"
    assert rows(connection, "SELECT title FROM ann_books ORDER BY title") == [("One",), ("Three",)]
    connection.execute("INSERT INTO books_book (title, author_id, pages) VALUES ('Four', 1, 3)")
    assert rows(connection, "SELECT msg FROM log") == [("Four",)]
    assert "hand_title" in connection.introspection.get_constraints("books_book")


def test_view_broken_by_the_change_rolls_back(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Removing a column a view uses fails with a clear error and changes nothing."""
    state = changed(library(), "books", "book", isbn=models.CharField(max_length=13, unique=True, null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("CREATE VIEW isbns AS SELECT isbn FROM books_book")
    book = state.get_model("books", "book")
    with pytest.raises(DatabaseError, match="isbns"):
        edit(connection, lambda ed: ed.remove_field(state, book, book.get_field("isbn")))
    assert "isbn" in columns(connection, "books_book")
    assert rows(connection, "SELECT count(*) FROM isbns") == [(3,)]


def test_dangling_foreign_key_rolls_back_everything(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Turning a column with dangling values into an FK raises and rolls back the migration."""
    state = changed(library(), "books", "book", owner=models.BigIntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("UPDATE books_book SET owner = 99 WHERE id = 2")
    fk = changed(
        state,
        "books",
        "book",
        owner=models.ForeignKey("authors.author", models.CASCADE, null=True, db_column="owner", related_name="+"),
    )
    before = table_sql(connection, "books_book")
    om, nm = state.get_model("books", "book"), fk.get_model("books", "book")
    extra = changed(state, "books", "book", note=models.TextField(null=True))
    xm = extra.get_model("books", "book")

    def migration(ed: Any) -> None:
        ed.add_field(extra, xm, xm.get_field("note"))  # an earlier operation of the same migration
        ed.alter_field(state, om, om.get_field("owner"), fk, nm, nm.get_field("owner"))

    with pytest.raises(IntegrityError, match=r"books_book.*owner = 99.*authors_author"):
        edit(connection, migration)
    assert table_sql(connection, "books_book") == before
    assert "note" not in columns(connection, "books_book")
    assert rows(connection, "SELECT owner FROM books_book ORDER BY id") == [(None,), (99,), (None,)]
    assert connection.fetchone("PRAGMA foreign_keys") == (1,)


def test_non_atomic_editor_rebuild_is_still_all_or_nothing(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """With atomic=False a failing rebuild still leaves the table as it was."""
    state = changed(library(), "books", "book", owner=models.BigIntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("UPDATE books_book SET owner = 99")
    fk = changed(
        state,
        "books",
        "book",
        owner=models.ForeignKey("authors.author", models.CASCADE, null=True, db_column="owner", related_name="+"),
    )
    with pytest.raises(IntegrityError):
        alter_nonatomic = edit  # same helper, atomic=False
        om, nm = state.get_model("books", "book"), fk.get_model("books", "book")
        alter_nonatomic(
            connection,
            lambda ed: ed.alter_field(state, om, om.get_field("owner"), fk, nm, nm.get_field("owner")),
            atomic=False,
        )
    assert fks(connection, "books_book") == {"author_id": ("authors_author", "id")}
    assert "new__books_book" not in connection.introspection.table_names()
    assert rows(connection, "SELECT count(*) FROM books_book") == [(3,)]


def test_violation_left_by_any_operation_is_caught_before_commit(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Foreign keys are off during the migration, so all of them are checked before COMMIT."""
    state = library()
    create_all(connection, state)
    seed(connection)
    with pytest.raises(IntegrityError, match="books_book"):
        edit(connection, lambda ed: ed.execute("INSERT INTO books_book (title, author_id) VALUES ('bad', 77)"))
    assert rows(connection, "SELECT count(*) FROM books_book") == [(3,)]


def test_rebuild_inside_an_outer_transaction_is_refused(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """Enforcement cannot be switched off inside a transaction, so the rebuild refuses to run."""
    state = library()
    create_all(connection, state)
    seed(connection)
    with pytest.raises(DatabaseError, match="foreign-key enforcement"):
        with connection.atomic():
            alter(connection, state, longer_name(state), "authors", "author", "name")
    assert columns(connection, "authors_author")["name"].type == "varchar(100)"


def test_plain_operations_avoid_the_rebuild(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """A pure rename and a nullable column use ALTER TABLE, not the rebuild."""
    state = library()
    create_all(connection, state)
    seed(connection)
    renamed = changed(state, "books", "book", title=None)
    renamed = changed(renamed, "books", "book", heading=models.CharField(max_length=200, db_column="heading"))
    om, nm = state.get_model("books", "book"), renamed.get_model("books", "book")
    editor = edit(
        connection, lambda ed: ed.alter_field(state, om, om.get_field("title"), renamed, nm, nm.get_field("heading"))
    )
    assert editor.notes == []
    with_isbn = changed(state, "books", "book", isbn=models.CharField(max_length=13, null=True))
    editor = add(connection, with_isbn, "books", "book", "isbn")
    assert editor.notes == []
    assert list(columns(connection, "books_book")) == ["id", "heading", "author_id", "isbn"]
    indexed_state = changed(
        with_isbn,
        "books",
        "book",
        isbn=models.CharField(max_length=13, null=True, db_index=True, db_comment="ignored by SQLite"),
    )
    editor = alter(connection, with_isbn, indexed_state, "books", "book", "isbn")
    assert editor.notes == [] and indexed(connection, "books_book", "isbn")


def test_rebuilt_key_column_renamed_and_retyped_keeps_incoming_fks(
    connection: BaseDatabaseWrapper, vendor: str
) -> None:
    """A to_field column renamed in a rebuild (not a RENAME COLUMN): referencing tables follow it."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "authors",
            "Author",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("code", models.CharField(max_length=10, unique=True)),
            ],
        )
    )
    state.add_model(
        ModelState(
            "books",
            "Book",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("author", models.ForeignKey("authors.author", models.CASCADE, to_field="code")),
            ],
        )
    )
    create_all(connection, state)
    connection.execute("INSERT INTO authors_author (code) VALUES ('a1')")
    connection.execute("INSERT INTO books_book (author_id) VALUES ('a1')")
    new = changed(state, "authors", "author", code=None)
    new = changed(new, "authors", "author", code=models.CharField(max_length=10, unique=True, null=True, db_column="ref"))
    alter(connection, state, new, "authors", "author", "code")
    assert columns(connection, "authors_author")["ref"].null
    assert fks(connection, "books_book") == {"author_id": ("authors_author", "ref")}
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("INSERT INTO books_book (author_id) VALUES ('zz')")


def test_nullable_column_on_an_empty_table_matches_add_column(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """On an empty table a nullable column is added by re-creating the table (ADD COLUMN
    re-parses the whole schema); the schema must be the one ADD COLUMN gives a table with rows."""
    state = library()
    with_editor = changed(state, "books", "book", editor=models.ForeignKey(
        "authors.author", models.SET_NULL, null=True, related_name="+"))

    def schema_after_adding(with_rows: bool) -> tuple[Any, ...]:
        for table in connection.introspection.table_names():
            connection.execute(f'DROP TABLE "{table}"')
        create_all(connection, state)
        if with_rows:
            seed(connection)
        with connection.capture_queries() as queries:
            add(connection, with_editor, "books", "book", "editor")
        assert any("ADD COLUMN" in q for q in queries) is with_rows
        cols = columns(connection, "books_book")
        constraints = connection.introspection.get_constraints("books_book")
        shapes = sorted((tuple(c.columns), c.unique, c.index, c.foreign_key, c.primary_key)
                        for c in constraints.values())
        return [(c.name, c.type, c.null) for c in cols.values()], shapes, sorted(constraints)

    empty, full = schema_after_adding(False), schema_after_adding(True)
    assert empty == full
    assert [c[0] for c in empty[0]] == ["id", "title", "author_id", "editor_id"]
    assert fks(connection, "books_book")["editor_id"] == ("authors_author", "id")
    assert indexed(connection, "books_book", "editor_id")
