"""The SQLite table rebuild: everything SQLite cannot ALTER.

SQLite's ALTER TABLE only renames and adds/drops plain columns, so any other
change is done the way the SQLite manual prescribes, inside the migration's
transaction (or its own savepoint), with foreign-key enforcement off:

1. create ``new__<table>`` with the new definition;
2. carry the AUTOINCREMENT counter over (``sqlite_sequence``), so ids of
   deleted rows are never handed out again;
3. copy the rows (``INSERT INTO new__t (...) SELECT ... FROM t``), mapping
   renamed columns and filling new or newly NOT NULL ones with their default;
4. save and drop the views that mention the table; save its triggers and any
   index that the model does not know about (made by RunSQL);
5. drop the old table -- with enforcement off this never fires ON DELETE
   CASCADE in other tables -- and rename the new one into place, with
   ``legacy_alter_table`` on so the rest of the schema is not re-parsed;
   foreign keys of other tables name the table, so they point at it again;
6. create the model's indexes, then the saved triggers, indexes and views;
7. ``PRAGMA foreign_key_check`` on the table: a violation raises
   IntegrityError and the migration rolls back.

In collect mode (no connection) steps that need to read the database (4, 7)
are left out; the SQL shown is exactly what runs otherwise -- except for an
empty table, which is simply dropped and created again (no copy, no RENAME).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import Statement
from shoal.exceptions import DatabaseError, IntegrityError
from shoal.models.fields import Field

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

    from .schema import DatabaseSchemaEditor

__all__ = ["rebuild_table", "recreate_empty_like_alter", "foreign_key_violations"]

TEMP_PREFIX = "new__"


def rebuild_table(
    editor: DatabaseSchemaEditor,
    state: ProjectState,
    model: ModelState,
    *,
    old_model: ModelState,
    fields: dict[str, Field],
    copy: dict[str, tuple[str, list[Any]]],
    reason: str,
    old_state: ProjectState | None = None,
) -> None:
    """Rebuild ``model``'s table so that it has exactly ``fields``.

    ``old_model`` describes the table as it is now (its index names are
    recognised as the model's own), in ``old_state`` (default: ``state``);
    ``copy`` maps each new column that takes data to ``(select expression,
    params)`` over the old table.
    """
    table = model.db_table
    temp_name = TEMP_PREFIX + table
    temp = model.clone()
    temp.fields = dict(fields)
    temp.options["db_table"] = temp_name
    qn = editor.quote_name

    with _transaction(editor):
        saved = None
        if not editor.collect_sql:
            before = old_state if old_state is not None else state
            saved = _SavedSchema.read(editor, table, lambda: editor.model_index_names(before, old_model),
                                      lambda: editor.model_index_shapes(before, old_model))
            if editor.table_is_empty(table):
                _recreate_empty(editor, state, model, fields, saved)
                return
        if table not in editor.fresh_tables:  # a table made in this migration has no rows to copy
            editor.note("rebuild", table, f"{reason} (every row is copied into a new table; "
                                          "other writers wait until the migration commits)")
        editor.execute(editor.table_sql(state, temp))
        editor.deferred_sql.extend(editor.model_indexes_sql(state, temp))
        if editor.has_autoincrement(temp):
            editor.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT %s, seq FROM sqlite_sequence WHERE name = %s",
                [temp_name, table],
            )
        if copy:
            columns = ", ".join(qn(c) for c in copy)
            exprs = ", ".join(expr for expr, _ in copy.values())
            params = [p for _, ps in copy.values() for p in ps]
            editor.execute(f"INSERT INTO {qn(temp_name)} ({columns}) SELECT {exprs} FROM {qn(table)}", params or None)
        if saved is not None:
            for name, _sql, _valid in saved.views:
                editor.execute(f"DROP VIEW {qn(name)}")
        editor.execute(editor.sql_delete_table.format(table=qn(table)))
        editor.deferred_sql = [
            s for s in editor.deferred_sql if not (isinstance(s, Statement) and s.references_table(table))
        ]
        editor.execute("PRAGMA legacy_alter_table = ON")
        editor.execute(editor.sql_rename_table.format(old_table=qn(temp_name), new_table=qn(table)))
        editor.execute("PRAGMA legacy_alter_table = OFF")
        for sql in editor.deferred_sql:
            if isinstance(sql, Statement):
                sql.rename_table_references(temp_name, table)
        editor.run_deferred_sql()
        if saved is not None:
            saved.restore(editor, table)
            violations = foreign_key_violations(editor.connection, table)
            if violations:
                raise IntegrityError(_violation_message(violations[0], len(violations), reason))


def _recreate_empty(
    editor: DatabaseSchemaEditor, state: ProjectState, model: ModelState, fields: dict[str, Field], saved: _SavedSchema
) -> None:
    """An empty table has no rows to carry over: drop it and create it anew
    under its own name.  This skips the copy and, above all, the RENAME, which
    makes SQLite re-parse the whole schema -- the bulk of the cost of applying
    a long history to a fresh database."""
    table = model.db_table
    qn = editor.quote_name
    fresh = model.clone()
    fresh.fields = dict(fields)
    seq = editor.connection.fetchone("SELECT seq FROM sqlite_sequence WHERE name = %s", [table]) \
        if editor.has_autoincrement(fresh) else None
    for name, _sql, _valid in saved.views:
        editor.execute(f"DROP VIEW {qn(name)}")
    editor.execute(editor.sql_delete_table.format(table=qn(table)))
    editor.deferred_sql = [s for s in editor.deferred_sql if not (isinstance(s, Statement) and s.references_table(table))]
    editor.execute(editor.table_sql(state, fresh))
    editor.deferred_sql.extend(editor.model_indexes_sql(state, fresh))
    if seq is not None and seq[0]:
        editor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, seq[0]])
    editor.run_deferred_sql()
    saved.restore(editor, table)


def recreate_empty_like_alter(
    editor: DatabaseSchemaEditor,
    state: ProjectState,
    model: ModelState,
    fields: dict[str, Field],
    *,
    drop_column: str | None = None,
    rename: tuple[str, str] | None = None,
    add_column: str | None = None,
) -> bool:
    """What ``ALTER TABLE ... DROP COLUMN`` / ``RENAME COLUMN`` / ``ADD COLUMN`` gives on an
    empty table -- the same column order, the same index names -- by dropping
    and creating the table, without the whole-schema re-parse those ALTERs
    cost (~15 ms each with a few hundred tables).  Returns False, having done
    nothing, when the table has views or triggers over it (the ALTER handles
    those) or its columns are not what the model says."""
    if editor.collect_sql:
        return False
    table = model.db_table
    qn = editor.quote_name
    conn = editor.connection
    dependants = conn.fetchone(
        "SELECT 1 FROM sqlite_master WHERE (type = 'trigger' AND tbl_name = %s) OR "
        "(type = 'view' AND sql LIKE %s) LIMIT 1", [table, f"%{table}%"]
    )
    if dependants is None and rename is not None:
        # Foreign keys of other tables naming the renamed column: RENAME COLUMN
        # rewrites their REFERENCES clauses, a re-created table would not.
        dependants = conn.fetchone(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name != %s AND sql LIKE %s LIMIT 1",
            [table, f"%REFERENCES {qn(table)} ({qn(rename[0])})%"],
        )
    if dependants is not None:
        return False
    order = [row[1] for row in conn.fetchall(f"PRAGMA table_info({qn(table)})")]
    if rename is not None:
        order = [rename[1] if c == rename[0] else c for c in order]
    if drop_column is not None:
        order = [c for c in order if c != drop_column]
    if add_column is not None:
        order.append(add_column)  # where ADD COLUMN puts it
    by_column = {editor.col(f): (n, f) for n, f in fields.items() if not f.many_to_many}
    if sorted(order) != sorted(by_column):
        return False
    fresh = model.clone()
    fresh.fields = {by_column[c][0]: by_column[c][1] for c in order}
    indexes = conn.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY rowid",
        [table],
    )
    seq = conn.fetchone("SELECT seq FROM sqlite_sequence WHERE name = %s", [table]) \
        if editor.has_autoincrement(fresh) else None
    editor.execute(editor.sql_delete_table.format(table=qn(table)))
    queued = len(editor.deferred_sql)
    editor.execute(editor.table_sql(state, fresh))
    del editor.deferred_sql[queued:]  # the table's own indexes are re-created as they were, below
    for _name, sql in indexes:
        if drop_column is not None and qn(drop_column) in sql:
            continue  # DROP COLUMN needs the column's own indexes gone first, too
        if rename is not None:
            sql = sql.replace(qn(rename[0]), qn(rename[1]))
        editor.execute(sql)
    if seq is not None and seq[0]:
        editor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, seq[0]])
    return True


@contextmanager
def _transaction(editor: DatabaseSchemaEditor) -> Iterator[None]:
    """The rebuild is all-or-nothing even outside an atomic migration."""
    if editor.collect_sql:
        yield
        return
    on = editor.connection.fetchone("PRAGMA foreign_keys")
    if on and on[0]:
        raise DatabaseError(
            "Cannot rebuild a SQLite table while foreign-key enforcement is on: dropping the old table would "
            "fire ON DELETE CASCADE. Foreign keys are switched off when the schema editor opens outside a "
            "transaction; do not open the schema editor inside connection.atomic()."
        )
    with editor.connection.atomic():
        yield


class _SavedSchema:
    """Views, triggers and foreign indexes of a table, kept across its rebuild."""

    def __init__(self) -> None:
        self.views: list[tuple[str, str, bool]] = []  # (name, sql, was usable)
        self.triggers: list[tuple[str, str]] = []
        self.indexes: list[tuple[str, str, tuple[Any, ...]]] = []  # (name, sql, shape)

    @classmethod
    def read(
        cls,
        editor: DatabaseSchemaEditor,
        table: str,
        own_indexes: Callable[[], set[str]],
        own_shapes: Callable[[], set[tuple[Any, ...]]],
    ) -> _SavedSchema:
        """Save what the rebuild would lose.  An index is the model's own (and is
        recreated from the model, not saved) if it has one of the model's index
        names, or the same columns and uniqueness as one of the model's indexes
        (an index named after a column that was renamed since).  The model's
        names and shapes are worked out only when the table has indexes to sort."""
        saved = cls()
        conn = editor.connection
        mention = re.compile(r'(?<![\w$])["`\[]?' + re.escape(table) + r'["`\]]?(?![\w$])', re.IGNORECASE)
        # Views may mention the table anywhere; triggers and indexes belong to it.
        # (Filtering here, not in Python, keeps a rebuild from reading every
        # index of a large schema.)
        rows = conn.fetchall(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND (type = 'view' OR (type IN ('trigger', 'index') AND tbl_name = %s COLLATE NOCASE)) ORDER BY rowid",
            [table],
        )
        own: set[str] | None = None
        model_shapes: set[tuple[Any, ...]] | None = None
        shapes: dict[str, tuple[Any, ...]] | None = None  # parsed only if a foreign index shows up
        for kind, name, tbl_name, sql in rows:
            if kind == "view" and mention.search(sql):
                saved.views.append((name, sql, _view_usable(editor, name)))
            elif kind == "trigger" and tbl_name.lower() == table.lower():
                saved.triggers.append((name, sql))
            elif kind == "index" and tbl_name.lower() == table.lower():
                if own is None:
                    own = {n.lower() for n in own_indexes()}
                if name.lower() in own:
                    continue
                if shapes is None:
                    shapes = _index_shapes(editor, table)
                    model_shapes = own_shapes()
                shape = shapes.get(name, ((), False, None))
                if shape[:2] not in model_shapes or shape[2] is not None:  # type: ignore[operator]
                    saved.indexes.append((name, sql, shape))
        return saved

    def restore(self, editor: DatabaseSchemaEditor, table: str) -> None:
        if not (self.indexes or self.triggers or self.views):
            return
        conn = editor.connection
        present = {
            r[0].lower()
            for r in conn.fetchall(
                "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = %s", [table]
            )
        }
        existing = set(_index_shapes(editor, table).values()) if self.indexes else set()
        for name, sql, shape in self.indexes:
            if name.lower() in present or shape in existing:
                continue
            try:
                editor.execute(sql)
            except DatabaseError as exc:
                editor.note("rebuild", table, f"index {name} (not declared on the model) could not be kept: {exc}")
        for name, sql in self.triggers:
            if name.lower() in present:
                continue
            try:
                editor.execute(sql)
            except DatabaseError as exc:
                raise DatabaseError(
                    f"Rebuilding table {table!r}: its trigger {name!r} no longer fits the new table ({exc}). "
                    "Drop or change the trigger with a RunSQL before this operation."
                ) from exc
        for name, sql, was_usable in self.views:
            editor.execute(sql)
            if was_usable and not _view_usable(editor, name):
                raise DatabaseError(
                    f"Rebuilding table {table!r} would break view {name!r}, which uses a column that is "
                    "removed or renamed. Drop or change the view with a RunSQL before this operation."
                )


def _index_shapes(editor: DatabaseSchemaEditor, table: str) -> dict[str, tuple[Any, ...]]:
    """index name -> (columns, unique, condition) of the table's indexes."""
    found = editor.connection.introspection.get_constraints(table)
    return {n: (tuple(i.columns), bool(i.unique), i.condition) for n, i in found.items() if i.index}


def _view_usable(editor: DatabaseSchemaEditor, name: str) -> bool:
    try:
        editor.connection.fetchall(f"SELECT * FROM {editor.quote_name(name)} LIMIT 0")
    except DatabaseError:
        return False
    return True


def foreign_key_violations(connection: Any, table: str | None = None) -> list[tuple[str, int, str, str, Any]]:
    """``(table, rowid, column, parent, value)`` for each row whose foreign key points nowhere."""
    qn = connection.ops.quote_name
    pragma = f"PRAGMA foreign_key_check({qn(table)})" if table else "PRAGMA foreign_key_check"
    out = []
    for child, rowid, parent, fkid in connection.fetchall(pragma):
        column, value = "?", None
        for row in connection.fetchall(f"PRAGMA foreign_key_list({qn(child)})"):
            if row[0] == fkid:
                column = row[3]
                break
        if rowid is not None and column != "?":
            found = connection.fetchone(f"SELECT {qn(column)} FROM {qn(child)} WHERE rowid = %s", [rowid])
            value = found[0] if found else None
        out.append((child, rowid, column, parent, value))
    return out


def _violation_message(first: tuple[str, int, str, str, Any], count: int, reason: str) -> str:
    child, rowid, column, parent, value = first
    more = f" ({count - 1} more)" if count > 1 else ""
    return (
        f"Foreign key violation after {reason}: row rowid={rowid} of table {child!r} has {column} = {value!r}, "
        f"which matches no row of {parent!r}{more}. Fix or delete those rows (e.g. in a RunPython before this "
        "operation); the migration was rolled back."
    )
