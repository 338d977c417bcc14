"""Meta.indexes and Meta.constraints reach real databases, and leave again.

Runs on every backend; partial indexes and conditional unique constraints are
checked where the backend has them (SQLite, PostgreSQL) and are left out on
MySQL/MariaDB as Django does.
"""

from __future__ import annotations

from typing import Any

import pytest

from shoal import models
from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.exceptions import DatabaseError, IntegrityError
from shoal.migrations.state import ModelState, ProjectState
from tests.backends.test_schema_editor import auto, edit, rows


def shop(**options: Any) -> ProjectState:
    """shop.Item(code, qty, shelf) with the given Meta options."""
    state = ProjectState()
    state.add_model(
        ModelState(
            "shop",
            "Item",
            [
                ("id", auto()),
                ("code", models.CharField(max_length=20)),
                ("qty", models.IntegerField(default=0)),
                ("shelf", models.IntegerField(null=True)),
            ],
            options,
        )
    )
    return state


def create(conn: BaseDatabaseWrapper, state: ProjectState) -> Any:
    return edit(conn, lambda ed: ed.create_model(state, state.get_model("shop", "item")))


def names(conn: BaseDatabaseWrapper) -> dict[str, Any]:
    return conn.introspection.get_constraints("shop_item")


def test_index_add_rename_remove(connection: BaseDatabaseWrapper) -> None:
    """A two-column index with a DESC column is created, renamed and dropped."""
    state = shop()
    create(connection, state)
    item = state.get_model("shop", "item")
    index = models.Index(fields=["-qty", "code"], name="item_qty_code_idx")
    edit(connection, lambda ed: ed.add_index(state, item, index))
    info = names(connection)["item_qty_code_idx"]
    assert info.columns == ["qty", "code"] and info.index and not info.unique
    if connection.features.supports_index_column_ordering:
        assert info.orders == ["DESC", "ASC"]
    renamed = models.Index(fields=["-qty", "code"], name="item_qty_code_2_idx")
    edit(connection, lambda ed: ed.rename_index(state, item, index, renamed))
    assert "item_qty_code_idx" not in names(connection) and "item_qty_code_2_idx" in names(connection)
    edit(connection, lambda ed: ed.remove_index(state, item, renamed))
    assert "item_qty_code_2_idx" not in names(connection)


def test_constraints_in_create_table(connection: BaseDatabaseWrapper) -> None:
    """CreateModel makes Meta.indexes, a UniqueConstraint and a CheckConstraint, all enforced."""
    state = shop(
        indexes=[models.Index(fields=["shelf"], name="item_shelf_idx")],
        constraints=[
            models.UniqueConstraint(fields=["code", "shelf"], name="item_code_shelf_uniq"),
            models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0"),
        ],
    )
    create(connection, state)
    found = names(connection)
    assert found["item_shelf_idx"].columns == ["shelf"]
    assert found["item_code_shelf_uniq"].unique and found["item_code_shelf_uniq"].columns == ["code", "shelf"]
    connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 1, 1)")
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 2, 1)")
    with pytest.raises(DatabaseError):
        connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('b', -1, 1)")


def test_add_and_remove_unique_and_check_constraints(connection: BaseDatabaseWrapper) -> None:
    """AddConstraint/RemoveConstraint on a filled table: enforced while present, gone after."""
    state = shop()
    create(connection, state)
    connection.execute("INSERT INTO shop_item (code, qty) VALUES ('a', 1), ('b', 2)")
    unique = models.UniqueConstraint(fields=["code"], name="item_code_uniq")
    check = models.CheckConstraint(condition=models.Q(qty__lt=100), name="item_qty_lt_100")
    after = shop(constraints=[unique, check])
    item = after.get_model("shop", "item")

    def add(ed: Any) -> None:
        ed.add_constraint(after, item, unique)
        ed.add_constraint(after, item, check)

    edit(connection, add)
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, qty) VALUES ('a', 3)")
    with pytest.raises(DatabaseError):
        connection.execute("INSERT INTO shop_item (code, qty) VALUES ('c', 500)")

    def remove(ed: Any) -> None:
        ed.remove_constraint(after, item, unique)
        only_check = shop(constraints=[check])  # the state RemoveConstraint sees for the second one
        ed.remove_constraint(only_check, only_check.get_model("shop", "item"), check)

    edit(connection, remove)
    connection.execute("INSERT INTO shop_item (code, qty) VALUES ('a', 500)")
    assert rows(connection, "SELECT count(*) FROM shop_item") == [(3,)]
    assert "item_code_uniq" not in names(connection)


@pytest.mark.backends("sqlite", "postgresql")
def test_partial_index_and_conditional_unique(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """A condition makes a partial index / a unique index over the matching rows only."""
    state = shop()
    create(connection, state)
    item = state.get_model("shop", "item")
    partial = models.Index(fields=["code"], name="item_code_stocked_idx", condition=models.Q(qty__gt=0))
    unique = models.UniqueConstraint(
        fields=["code"], name="item_code_shelved_uniq", condition=models.Q(shelf__isnull=False)
    )

    def add(ed: Any) -> None:
        ed.add_index(state, item, partial)
        ed.add_constraint(state, item, unique)

    editor = edit(connection, add)
    assert editor.notes == []
    found = names(connection)
    assert found["item_code_stocked_idx"].condition is not None
    connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 1, NULL), ('a', 1, NULL), ('a', 1, 5)")
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 1, 6)")
    edit(connection, lambda ed: (ed.remove_constraint(state, item, unique), ed.remove_index(state, item, partial)))
    connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 1, 6)")
    assert not {"item_code_stocked_idx", "item_code_shelved_uniq"} & set(names(connection))


@pytest.mark.backends("sqlite")
def test_sqlite_rebuild_keeps_meta_constraints(connection: BaseDatabaseWrapper, vendor: str) -> None:
    """A later rebuild recreates Meta.indexes and constraints from the model state."""
    unique = models.UniqueConstraint(fields=["code", "shelf"], name="item_code_shelf_uniq")
    partial = models.UniqueConstraint(fields=["code"], name="item_code_only_uniq", condition=models.Q(shelf=0))
    state = shop(indexes=[models.Index(fields=["shelf"], name="item_shelf_idx")], constraints=[unique, partial])
    create(connection, state)
    connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 1, 1)")
    new = state.clone()
    field = models.CharField(max_length=40)
    field.set_attributes_from_name("code")
    new.update_model("shop", "item", lambda m: m.fields.__setitem__("code", field))
    old_m, new_m = state.get_model("shop", "item"), new.get_model("shop", "item")
    editor = edit(connection, lambda ed: ed.alter_field(state, old_m, old_m.get_field("code"), new, new_m, field))
    assert [n.kind for n in editor.notes] == ["rebuild"]
    found = names(connection)
    assert {"item_shelf_idx", "item_code_shelf_uniq", "item_code_only_uniq"} <= set(found)
    with pytest.raises(IntegrityError):
        connection.execute("INSERT INTO shop_item (code, qty, shelf) VALUES ('a', 2, 1)")
