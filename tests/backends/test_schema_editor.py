"""The schema editors change real databases as the model states say, keeping rows.

Every test runs on SQLite, PostgreSQL and MySQL/MariaDB and reads the schema
back with introspection (types, nullability, defaults, unique, index, FK).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shoal import models
from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.backends.base.introspection import ColumnInfo
from shoal.exceptions import DatabaseError, IntegrityError
from shoal.migrations.operations.fields import AddField, AlterField, RenameField
from shoal.migrations.operations.models import RenameModel
from shoal.migrations.state import ModelState, ProjectState


def auto(cls: type = models.BigAutoField) -> Any:
    return cls(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")


def library(pk: type = models.BigAutoField, m2m: bool = False) -> ProjectState:
    """authors.Author(name) <- books.Book(title, author FK[, readers M2M])."""
    state = ProjectState()
    state.add_model(ModelState("authors", "Author", [("id", auto(pk)), ("name", models.CharField(max_length=100))]))
    fields = [
        ("id", auto()),
        ("title", models.CharField(max_length=200)),
        ("author", models.ForeignKey("authors.author", on_delete=models.CASCADE)),
    ]
    if m2m:
        fields.append(("readers", models.ManyToManyField("authors.author", related_name="+")))
    state.add_model(ModelState("books", "Book", fields))
    return state


def changed(state: ProjectState, app: str, model: str, **fields: Any) -> ProjectState:
    """A copy of ``state`` with fields of ``app.model`` replaced/added (None removes)."""
    new = state.clone()

    def change(m: ModelState) -> None:
        for name, field in fields.items():
            if field is None:
                del m.fields[name]
            else:
                field.set_attributes_from_name(name)
                m.fields[name] = field

    new.update_model(app, model, change)
    return new


def edit(conn: BaseDatabaseWrapper, fn: Callable[[Any], None], **kwargs: Any) -> Any:
    with conn.schema_editor(**kwargs) as editor:
        fn(editor)
    return editor


def create_all(conn: BaseDatabaseWrapper, state: ProjectState) -> None:
    def run(ed: Any) -> None:
        for key in (("authors", "author"), ("books", "book")):
            ed.create_model(state, state.models[key])

    edit(conn, run)


def alter(
    conn: BaseDatabaseWrapper,
    old: ProjectState,
    new: ProjectState,
    app: str,
    model: str,
    name: str,
    new_name: str | None = None,
) -> Any:
    om, nm = old.get_model(app, model), new.get_model(app, model)
    return edit(conn, lambda ed: ed.alter_field(old, om, om.get_field(name), new, nm, nm.get_field(new_name or name)))


def add(conn: BaseDatabaseWrapper, new: ProjectState, app: str, model: str, name: str) -> Any:
    m = new.get_model(app, model)
    return edit(conn, lambda ed: ed.add_field(new, m, m.get_field(name)))


def seed(conn: BaseDatabaseWrapper) -> None:
    conn.execute("INSERT INTO authors_author (name) VALUES ('Ann'), ('Bob')")
    conn.execute("INSERT INTO books_book (title, author_id) VALUES ('One', 1), ('Two', 2), ('Three', 1)")


def columns(conn: BaseDatabaseWrapper, table: str) -> dict[str, ColumnInfo]:
    return {c.name: c for c in conn.introspection.get_columns(table)}


def rows(conn: BaseDatabaseWrapper, sql: str) -> list[tuple[Any, ...]]:
    return conn.fetchall(sql)


def fks(conn: BaseDatabaseWrapper, table: str) -> dict[str, tuple[str, str]]:
    return {
        info.columns[0]: info.foreign_key
        for info in conn.introspection.get_constraints(table).values()
        if info.foreign_key
    }


def uniques(conn: BaseDatabaseWrapper, table: str) -> list[list[str]]:
    return sorted(
        list(i.columns) for i in conn.introspection.get_constraints(table).values() if i.unique and not i.primary_key
    )


def indexed(conn: BaseDatabaseWrapper, table: str, column: str) -> bool:
    return any(i.index and list(i.columns)[:1] == [column] for i in conn.introspection.get_constraints(table).values())


INT = {"sqlite": "integer", "postgresql": "integer", "mysql": "int"}
BIG = {"sqlite": "bigint", "postgresql": "bigint", "mysql": "bigint"}


# --------------------------------------------------------------------------- create / delete


def test_create_model_builds_the_declared_schema(connection: BaseDatabaseWrapper) -> None:
    """CREATE TABLE gives types, NOT NULL, identity pk, FK with index, and no defaults."""
    create_all(connection, library(m2m=True))
    cols = columns(connection, "books_book")
    assert list(cols) == ["id", "title", "author_id"]
    assert cols["id"].primary_key and cols["id"].autoincrement
    assert cols["title"].type == "varchar(200)" and not cols["title"].null
    assert cols["author_id"].type == BIG[connection.vendor]
    assert all(c.default is None for c in cols.values())
    assert fks(connection, "books_book") == {"author_id": ("authors_author", "id")}
    assert indexed(connection, "books_book", "author_id")
    through = columns(connection, "books_book_readers")
    assert list(through) == ["id", "book_id", "author_id"]
    assert uniques(connection, "books_book_readers") == [["book_id", "author_id"]]
    assert fks(connection, "books_book_readers") == {
        "book_id": ("books_book", "id"),
        "author_id": ("authors_author", "id"),
    }


def test_delete_model_drops_table_and_auto_m2m_table(connection: BaseDatabaseWrapper) -> None:
    """delete_model removes the table and its implicit many-to-many table."""
    state = library(m2m=True)
    create_all(connection, state)
    edit(connection, lambda ed: ed.delete_model(state, state.get_model("books", "book")))
    tables = connection.introspection.table_names()
    assert "books_book" not in tables and "books_book_readers" not in tables and "authors_author" in tables


def test_unique_check_and_comment_on_create(connection: BaseDatabaseWrapper) -> None:
    """unique=True, a PositiveIntegerField CHECK and db_comment reach the database."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "shop",
            "Item",
            [
                ("id", auto()),
                ("code", models.CharField(max_length=10, unique=True, db_comment="stock code")),
                ("qty", models.PositiveIntegerField(default=0)),
            ],
        )
    )
    edit(connection, lambda ed: ed.create_model(state, state.get_model("shop", "item")))
    assert uniques(connection, "shop_item") == [["code"]]
    connection.execute("INSERT INTO shop_item (code, qty) VALUES ('a', 1)")
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, qty) VALUES ('a', 2)")
    with pytest.raises(DatabaseError):
        connection.execute("INSERT INTO shop_item (code, qty) VALUES ('b', -1)")
    assert columns(connection, "shop_item")["qty"].default is None
    if connection.features.supports_comments:
        assert columns(connection, "shop_item")["code"].comment == "stock code"


# --------------------------------------------------------------------------- add / remove


def test_add_nullable_field_keeps_rows(connection: BaseDatabaseWrapper) -> None:
    """A nullable column without default is added; existing rows get NULL."""
    state = library()
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", isbn=models.CharField(max_length=13, null=True))
    add(connection, new, "books", "book", "isbn")
    col = columns(connection, "books_book")["isbn"]
    assert col.null and col.type == "varchar(13)" and col.default is None
    assert rows(connection, "SELECT title, isbn FROM books_book ORDER BY id") == [
        ("One", None),
        ("Two", None),
        ("Three", None),
    ]


def test_add_not_null_field_fills_rows_and_leaves_no_default(connection: BaseDatabaseWrapper) -> None:
    """A Python default fills existing rows, then no DEFAULT stays in the database."""
    state = library()
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", pages=models.IntegerField(default=7))
    add(connection, new, "books", "book", "pages")
    col = columns(connection, "books_book")["pages"]
    assert not col.null and col.default is None and col.type == INT[connection.vendor]
    assert rows(connection, "SELECT pages FROM books_book") == [(7,), (7,), (7,)]
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO books_book (title, author_id) VALUES ('x', 1)")


def test_add_field_one_off_default_through_operation(connection: BaseDatabaseWrapper) -> None:
    """AddField(preserve_default=False): the one-off default fills rows; the model keeps none."""
    state = library()
    create_all(connection, state)
    seed(connection)
    op = AddField("book", "summary", models.TextField(default="n/a"), preserve_default=False)
    new = state.clone()
    op.state_forwards("books", new)
    edit(connection, lambda ed: op.database_forwards("books", ed, state, new))
    assert rows(connection, "SELECT summary FROM books_book") == [("n/a",)] * 3
    col = columns(connection, "books_book")["summary"]
    assert not col.null and col.default is None


def test_db_default_is_a_real_database_default(connection: BaseDatabaseWrapper) -> None:
    """db_default stays in the database: rows inserted without the column get it."""
    state = library()
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", stock=models.IntegerField(db_default=5))
    add(connection, new, "books", "book", "stock")
    assert columns(connection, "books_book")["stock"].default is not None
    connection.execute("INSERT INTO books_book (title, author_id) VALUES ('new', 2)")
    assert rows(connection, "SELECT stock FROM books_book ORDER BY id") == [(5,)] * 4


def test_add_foreign_key_field_enforces(connection: BaseDatabaseWrapper) -> None:
    """A nullable FK column is added with its constraint and index."""
    state = library()
    create_all(connection, state)
    seed(connection)
    new = changed(
        state, "books", "book", editor=models.ForeignKey("authors.author", models.SET_NULL, null=True, related_name="+")
    )
    add(connection, new, "books", "book", "editor")
    assert fks(connection, "books_book")["editor_id"] == ("authors_author", "id")
    assert indexed(connection, "books_book", "editor_id")
    connection.execute("UPDATE books_book SET editor_id = 2 WHERE id = 1")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("UPDATE books_book SET editor_id = 99 WHERE id = 2")


def test_remove_field_keeps_other_columns_and_rows(connection: BaseDatabaseWrapper) -> None:
    """remove_field drops a plain column and an FK column (with its constraint)."""
    state = library()
    create_all(connection, state)
    seed(connection)
    book = state.get_model("books", "book")
    edit(connection, lambda ed: ed.remove_field(state, book, book.get_field("author")))
    assert list(columns(connection, "books_book")) == ["id", "title"]
    assert fks(connection, "books_book") == {}
    after = changed(state, "books", "book", author=None)
    book2 = after.get_model("books", "book")
    edit(connection, lambda ed: ed.remove_field(after, book2, book2.get_field("title")))
    assert list(columns(connection, "books_book")) == ["id"]
    assert rows(connection, "SELECT id FROM books_book ORDER BY id") == [(1,), (2,), (3,)]


def test_add_and_remove_m2m_field_manage_the_through_table(connection: BaseDatabaseWrapper) -> None:
    """Adding/removing an auto M2M field creates/drops its table."""
    state = library()
    create_all(connection, state)
    new = changed(state, "books", "book", readers=models.ManyToManyField("authors.author", related_name="+"))
    add(connection, new, "books", "book", "readers")
    assert "books_book_readers" in connection.introspection.table_names()
    book = new.get_model("books", "book")
    edit(connection, lambda ed: ed.remove_field(new, book, book.get_field("readers")))
    assert "books_book_readers" not in connection.introspection.table_names()


# --------------------------------------------------------------------------- alter


def test_rename_column_keeps_data_and_fk(connection: BaseDatabaseWrapper) -> None:
    """RenameField renames the column (FK column included) and keeps rows."""
    state = library()
    create_all(connection, state)
    seed(connection)
    for old_name, new_name in (("title", "name"), ("author", "writer")):
        op = RenameField("book", old_name, new_name)
        new = state.clone()
        op.state_forwards("books", new)
        edit(connection, lambda ed, op=op, old=state, new=new: op.database_forwards("books", ed, old, new))
        state = new
    assert list(columns(connection, "books_book")) == ["id", "name", "writer_id"]
    assert fks(connection, "books_book") == {"writer_id": ("authors_author", "id")}
    assert rows(connection, "SELECT name, writer_id FROM books_book ORDER BY id") == [
        ("One", 1),
        ("Two", 2),
        ("Three", 1),
    ]


def test_alter_type_keeps_data(connection: BaseDatabaseWrapper) -> None:
    """varchar(200) -> text and integer -> bigint keep values."""
    state = changed(library(), "books", "book", pages=models.IntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("UPDATE books_book SET pages = 12")
    new = changed(state, "books", "book", title=models.TextField(), pages=models.BigIntegerField(null=True))
    alter(connection, state, new, "books", "book", "title")
    new2 = new
    alter(connection, changed(state, "books", "book", title=models.TextField()), new2, "books", "book", "pages")
    cols = columns(connection, "books_book")
    assert cols["title"].type in ("text", "longtext") and cols["pages"].type == BIG[connection.vendor]
    assert rows(connection, "SELECT title, pages FROM books_book ORDER BY id") == [
        ("One", 12),
        ("Two", 12),
        ("Three", 12),
    ]


def test_alter_null_to_not_null_fills_nulls_with_default(connection: BaseDatabaseWrapper) -> None:
    """Going NOT NULL with a default fills NULL rows first and leaves no DEFAULT behind."""
    state = changed(library(), "books", "book", pages=models.IntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("UPDATE books_book SET pages = 50 WHERE id = 2")
    op = AlterField("book", "pages", models.IntegerField(default=1), preserve_default=False)
    new = state.clone()
    op.state_forwards("books", new)
    edit(connection, lambda ed: op.database_forwards("books", ed, state, new))
    col = columns(connection, "books_book")["pages"]
    assert not col.null and col.default is None
    assert rows(connection, "SELECT pages FROM books_book ORDER BY id") == [(1,), (50,), (1,)]


def test_alter_not_null_to_null(connection: BaseDatabaseWrapper) -> None:
    """null=True makes the column accept NULL."""
    state = library()
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", title=models.CharField(max_length=200, null=True))
    alter(connection, state, new, "books", "book", "title")
    assert columns(connection, "books_book")["title"].null
    connection.execute("INSERT INTO books_book (title, author_id) VALUES (NULL, 1)")


def test_alter_unique_on_and_off(connection: BaseDatabaseWrapper) -> None:
    """unique=True adds a unique constraint that refuses duplicates; False removes it."""
    state = library()
    create_all(connection, state)
    seed(connection)
    uniq = changed(state, "books", "book", title=models.CharField(max_length=200, unique=True))
    alter(connection, state, uniq, "books", "book", "title")
    assert uniques(connection, "books_book") == [["title"]]
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO books_book (title, author_id) VALUES ('One', 1)")
    plain = changed(uniq, "books", "book", title=models.CharField(max_length=200))
    alter(connection, uniq, plain, "books", "book", "title")
    assert uniques(connection, "books_book") == []
    connection.execute("INSERT INTO books_book (title, author_id) VALUES ('One', 1)")


def test_alter_unique_on_field_created_unique(connection: BaseDatabaseWrapper) -> None:
    """A unique made inline by CREATE TABLE is found and dropped by name from the database."""
    state = changed(library(), "books", "book", title=models.CharField(max_length=200, unique=True))
    create_all(connection, state)
    plain = changed(state, "books", "book", title=models.CharField(max_length=200))
    alter(connection, state, plain, "books", "book", "title")
    assert uniques(connection, "books_book") == []


def test_alter_db_index_on_and_off(connection: BaseDatabaseWrapper) -> None:
    """db_index=True creates the column index; False drops it."""
    state = library()
    create_all(connection, state)
    seed(connection)
    on = changed(state, "books", "book", title=models.CharField(max_length=200, db_index=True))
    alter(connection, state, on, "books", "book", "title")
    assert indexed(connection, "books_book", "title")
    off = changed(on, "books", "book", title=models.CharField(max_length=200))
    alter(connection, on, off, "books", "book", "title")
    assert not indexed(connection, "books_book", "title")
    assert len(rows(connection, "SELECT * FROM books_book")) == 3


def test_alter_integer_to_foreign_key_and_back(connection: BaseDatabaseWrapper) -> None:
    """An integer column becomes an enforced FK, is retargeted, then loses its FK."""
    state = changed(library(), "books", "book", owner=models.BigIntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    connection.execute("UPDATE books_book SET owner = 2")
    fk = changed(
        state,
        "books",
        "book",
        owner=models.ForeignKey("authors.author", models.CASCADE, null=True, db_column="owner", related_name="+"),
    )
    alter(connection, state, fk, "books", "book", "owner")
    assert fks(connection, "books_book")["owner"] == ("authors_author", "id")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("UPDATE books_book SET owner = 99")
    to_book = changed(
        fk,
        "books",
        "book",
        owner=models.ForeignKey("books.book", models.CASCADE, null=True, db_column="owner", related_name="+"),
    )
    alter(connection, fk, to_book, "books", "book", "owner")
    assert fks(connection, "books_book")["owner"] == ("books_book", "id")
    back = changed(to_book, "books", "book", owner=models.BigIntegerField(null=True))
    alter(connection, to_book, back, "books", "book", "owner")
    assert "owner" not in fks(connection, "books_book")
    assert rows(connection, "SELECT owner FROM books_book") == [(2,)] * 3


def test_primary_key_type_change_reaches_foreign_keys(connection: BaseDatabaseWrapper) -> None:
    """AutoField -> BigAutoField retypes FK columns (M2M too) and keeps FKs and identity."""
    state = library(pk=models.AutoField, m2m=True)
    create_all(connection, state)
    seed(connection)
    assert columns(connection, "books_book")["author_id"].type == INT[connection.vendor]
    new = changed(state, "authors", "author", id=auto(models.BigAutoField))
    alter(connection, state, new, "authors", "author", "id")
    assert columns(connection, "books_book")["author_id"].type == BIG[connection.vendor]
    assert columns(connection, "books_book_readers")["author_id"].type == BIG[connection.vendor]
    assert fks(connection, "books_book")["author_id"] == ("authors_author", "id")
    connection.execute("INSERT INTO authors_author (name) VALUES ('Cy')")
    assert rows(connection, "SELECT id, name FROM authors_author ORDER BY id")[-1] == (3, "Cy")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("INSERT INTO books_book (title, author_id) VALUES ('x', 42)")


def test_rename_model_keeps_incoming_fk(connection: BaseDatabaseWrapper) -> None:
    """RenameModel renames the table; the FK of another table still enforces against it."""
    state = library()
    create_all(connection, state)
    seed(connection)
    op = RenameModel("Author", "Writer")
    new = state.clone()
    op.state_forwards("authors", new)
    edit(connection, lambda ed: op.database_forwards("authors", ed, state, new))
    assert "authors_writer" in connection.introspection.table_names()
    assert fks(connection, "books_book")["author_id"] == ("authors_writer", "id")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("INSERT INTO books_book (title, author_id) VALUES ('x', 42)")


def test_alter_unique_together(connection: BaseDatabaseWrapper) -> None:
    """alter_unique_together adds then drops a two-column unique constraint."""
    state = library()
    create_all(connection, state)
    seed(connection)
    book = state.get_model("books", "book")
    edit(connection, lambda ed: ed.alter_unique_together(state, book, set(), {("title", "author")}))
    assert uniques(connection, "books_book") == [["title", "author_id"]]
    edit(connection, lambda ed: ed.alter_unique_together(state, book, {("title", "author")}, set()))
    assert uniques(connection, "books_book") == []


def test_comments(connection: BaseDatabaseWrapper) -> None:
    """db_comment and db_table_comment are set and changed where the backend keeps comments."""
    if not connection.features.supports_comments:
        pytest.skip("no comments on this backend")
    state = library()
    create_all(connection, state)
    new = changed(state, "books", "book", title=models.CharField(max_length=200, db_comment="Title"))
    alter(connection, state, new, "books", "book", "title")
    assert columns(connection, "books_book")["title"].comment == "Title"
    book = new.get_model("books", "book")
    edit(connection, lambda ed: ed.alter_db_table_comment(book, None, "All books"))
    assert connection.introspection.get_table_comment("books_book") == "All books"


def test_collect_mode_does_not_touch_the_database(connection: BaseDatabaseWrapper) -> None:
    """collect_sql=True only collects: no table is created."""
    state = library()
    editor = edit(connection, lambda ed: ed.create_model(state, state.get_model("authors", "author")), collect_sql=True)
    assert editor.collected_sql and editor.collected_sql[0].startswith("CREATE TABLE")
    assert "authors_author" not in connection.introspection.table_names()


def test_one_to_one_becomes_foreign_key(connection: BaseDatabaseWrapper) -> None:
    """Dropping the unique of a OneToOne keeps its FK working (MySQL needs an index first)."""
    state = changed(
        library(),
        "books",
        "book",
        sequel=models.OneToOneField("books.book", models.SET_NULL, null=True, related_name="+"),
    )
    create_all(connection, state)
    seed(connection)
    assert uniques(connection, "books_book") == [["sequel_id"]]
    new = changed(
        state, "books", "book", sequel=models.ForeignKey("books.book", models.SET_NULL, null=True, related_name="+")
    )
    alter(connection, state, new, "books", "book", "sequel")
    assert uniques(connection, "books_book") == []
    assert fks(connection, "books_book")["sequel_id"] == ("books_book", "id")
    connection.execute("UPDATE books_book SET sequel_id = 1")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("UPDATE books_book SET sequel_id = 99")


def test_add_unique_field_and_check_constraint(connection: BaseDatabaseWrapper) -> None:
    """A unique column is added to a filled table; IntegerField -> PositiveIntegerField adds the CHECK."""
    state = changed(library(), "books", "book", pages=models.IntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", isbn=models.CharField(max_length=13, null=True, unique=True))
    add(connection, new, "books", "book", "isbn")
    assert uniques(connection, "books_book") == [["isbn"]]
    positive = changed(new, "books", "book", pages=models.PositiveIntegerField(null=True))
    alter(connection, new, positive, "books", "book", "pages")
    connection.execute("UPDATE books_book SET pages = 5")
    with pytest.raises(DatabaseError):
        connection.execute("UPDATE books_book SET pages = -5")
    back = changed(positive, "books", "book", pages=models.IntegerField(null=True))
    alter(connection, positive, back, "books", "book", "pages")
    connection.execute("UPDATE books_book SET pages = -5")
    assert rows(connection, "SELECT DISTINCT pages FROM books_book") == [(-5,)]


@pytest.mark.backends("postgresql")
def test_postgresql_like_index_follows_the_column(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """An indexed varchar gets a varchar_pattern_ops _like index, dropped when it becomes an integer."""
    state = changed(library(), "books", "book", code=models.CharField(max_length=10, db_index=True, null=True))
    create_all(connection, state)
    like = [n for n in connection.introspection.get_constraints("books_book") if n.endswith("_like")]
    assert len(like) == 1
    new = changed(state, "books", "book", code=models.IntegerField(null=True, db_index=True))
    alter(connection, state, new, "books", "book", "code")
    names = connection.introspection.get_constraints("books_book")
    assert not [n for n in names if n.endswith("_like")]
    assert indexed(connection, "books_book", "code")
    assert columns(connection, "books_book")["code"].type == "integer"


def test_self_referential_foreign_key(connection: BaseDatabaseWrapper) -> None:
    """A model may point at itself; the FK is created and enforced."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "tree",
            "Node",
            [
                ("id", auto()),
                ("parent", models.ForeignKey("tree.node", models.CASCADE, null=True, related_name="+")),
            ],
        )
    )
    edit(connection, lambda ed: ed.create_model(state, state.get_model("tree", "node")))
    assert fks(connection, "tree_node") == {"parent_id": ("tree_node", "id")}
    connection.execute("INSERT INTO tree_node (parent_id) VALUES (NULL)")
    connection.execute("INSERT INTO tree_node (parent_id) VALUES (1)")
    with pytest.raises(IntegrityError):
        with connection.atomic():
            connection.execute("INSERT INTO tree_node (parent_id) VALUES (9)")


def test_check_survives_other_column_changes(connection: BaseDatabaseWrapper) -> None:
    """Making a PositiveIntegerField NOT NULL keeps its >= 0 CHECK (MariaDB's MODIFY would drop it)."""
    state = changed(library(), "books", "book", pages=models.PositiveIntegerField(null=True))
    create_all(connection, state)
    seed(connection)
    new = changed(state, "books", "book", pages=models.PositiveIntegerField(default=0, db_comment="page count"))
    alter(connection, state, new, "books", "book", "pages")
    assert rows(connection, "SELECT DISTINCT pages FROM books_book") == [(0,)]
    with pytest.raises(DatabaseError):
        connection.execute("UPDATE books_book SET pages = -1")
    checks = [i for i in connection.introspection.get_constraints("books_book").values() if i.check]
    assert len(checks) == 1


@pytest.mark.parametrize("with_rows", [True, False], ids=["rows", "empty"])
def test_python_default_fills_rows_and_is_not_kept(connection: BaseDatabaseWrapper, vendor: str, with_rows: bool) -> None:
    """AddField with a Python default: existing rows get it, the column keeps no DEFAULT;
    MySQL skips the fill (and its costly DROP DEFAULT) when the table has no rows."""
    state = library()
    create_all(connection, state)
    if with_rows:
        seed(connection)
    new = changed(state, "books", "book", pages=models.IntegerField(default=5))
    with connection.capture_queries() as queries:
        add(connection, new, "books", "book", "pages")
    assert columns(connection, "books_book")["pages"].default is None
    assert not columns(connection, "books_book")["pages"].null
    if with_rows:
        assert rows(connection, "SELECT DISTINCT pages FROM books_book") == [(5,)]
    if vendor == "mysql":
        assert any("DROP DEFAULT" in q for q in queries) is with_rows
