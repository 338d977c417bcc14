"""MySQL / MariaDB schema editor.

DDL commits implicitly on MySQL, so a migration is not one transaction there
(``can_rollback_ddl`` is false and the editor opens none).  Differences from
the base: a column is changed with one ``MODIFY`` carrying its whole
definition; foreign keys are not deferrable and InnoDB indexes their columns
itself (so shoal adds no second index); text/blob/json columns take no plain
literal DEFAULT on MySQL (the ``(expression)`` form is used) and cannot be
indexed without a prefix (so ``db_index`` on them is skipped, as Django does).

Notes (see :attr:`DatabaseSchemaEditor.statement_notes`), from the InnoDB
online-DDL documentation of MySQL and MariaDB: changing a column's type copies
the table (ALGORITHM=COPY: reads continue, writes wait) except for a longer
VARCHAR whose length prefix keeps its size, which is done in place; making a
column NULL or NOT NULL, or adding a primary key, rebuilds the table in place
while reads and writes continue; adding a foreign key (shoal migrates with
``foreign_key_checks`` on) or a CHECK constraint copies the table; dropping the
primary key alone copies it.  Adding an index or a unique constraint is online
(in place, no rebuild, reads and writes continue) and adding a column is
instant, so those get no note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoal.db.backends.base.schema import BaseDatabaseSchemaEditor
from shoal.db.backends.base.schema_constraints import StatementNotesMixin
from shoal.models.fields import Field

if TYPE_CHECKING:
    from shoal.db.backends.base.schema_columns import ColumnParams
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["DatabaseSchemaEditor"]

_LIMITED_TYPES = ("tinyblob", "blob", "mediumblob", "longblob", "tinytext", "text", "mediumtext", "longtext", "json")


_COPY = "ALGORITHM=COPY: reads continue, writes wait until every row is copied"
_IN_PLACE = "ALGORITHM=INPLACE: reads and writes continue"
#: Bytes per character assumed for VARCHAR lengths (utf8mb4, the default charset).
_CHAR_BYTES = 4


def is_limited_type(params: ColumnParams) -> bool:
    """Text, blob and JSON columns: no plain DEFAULT on MySQL, no index without a prefix."""
    return params.type.split("(")[0].strip().lower() in _LIMITED_TYPES


def _varchar_length(col_type: str) -> int | None:
    """``varchar(100)`` -> 100; None for any other type."""
    base, _, rest = col_type.partition("(")
    if base.strip().lower() != "varchar" or not rest.endswith(")"):
        return None
    try:
        return int(rest[:-1])
    except ValueError:
        return None


class DatabaseSchemaEditor(StatementNotesMixin, BaseDatabaseSchemaEditor):
    """MySQL/MariaDB DDL; see the module docstring."""

    #: What each step costs on a table with rows (module docstring; SchemaNote kinds).
    statement_notes = {
        "fill_nulls": (
            "scan",
            "rows whose {column} is NULL get the default: every row is read and those are written "
            "(their row locks are held until the migration commits)",
        ),
        "type_copy": ("copy", "column {column} changes type from {old} to {new} (" + _COPY + ")"),
        "null_rebuild": ("rebuild", "column {column} becomes {null} (" + _IN_PLACE + ")"),
        "primary_key": ("rebuild", "adds primary key {name} on ({columns}) (" + _IN_PLACE + ")"),
        "drop_primary_key": ("copy", "drops the primary key without adding one (" + _COPY + ")"),
        "foreign_key": (
            "copy",
            "adds foreign key {name} ({column} -> {to_table}), checking every row (" + _COPY + ")",
        ),
        "check": ("copy", "adds CHECK {name}, checking every row (" + _COPY + ")"),
    }

    sql_rename_table = "RENAME TABLE {old_table} TO {new_table}"
    sql_delete_column = "ALTER TABLE {table} DROP COLUMN {column}"
    sql_delete_unique = "ALTER TABLE {table} DROP INDEX {name}"
    sql_delete_fk = "ALTER TABLE {table} DROP FOREIGN KEY {name}"
    sql_delete_index = "DROP INDEX {name} ON {table}"
    sql_delete_pk = "ALTER TABLE {table} DROP PRIMARY KEY"
    sql_create_fk = (
        "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
        "REFERENCES {to_table} ({to_column}){deferrable}"
    )
    sql_rename_index = "ALTER TABLE {table} RENAME INDEX {old_name} TO {new_name}"
    sql_modify_column = "ALTER TABLE {table} MODIFY {column} {definition}"
    sql_alter_table_comment = "ALTER TABLE {table} COMMENT = {comment}"
    sql_alter_column_comment = None
    sql_fk_deferrable = ""

    def __init__(self, connection: Any, collect_sql: bool = False, atomic: bool = True) -> None:
        super().__init__(connection, collect_sql=collect_sql, atomic=atomic)
        self._checks_in_modify: set[tuple[str, str]] = set()

    @property
    def is_mariadb(self) -> bool:
        """MariaDB or MySQL (from the server once connected, else from the URL)."""
        return bool(getattr(self.connection, "is_mariadb", False))

    @property
    def sql_delete_check(self) -> str:  # type: ignore[override]
        if self.is_mariadb:
            return "ALTER TABLE {table} DROP CONSTRAINT {name}"
        return "ALTER TABLE {table} DROP CHECK {name}"

    # ------------------------------------------------------------------ columns

    def inline_comment_sql(self, comment: str) -> str:
        return f" COMMENT {self.quote_value(comment)}"

    def _comment_literal(self, comment: str | None) -> str:
        return self.quote_value(comment or "")

    def rows_need_default(self, table: str) -> bool:
        """Only when the table has rows: each DROP DEFAULT that follows is a ~2 ms
        ALTER on MariaDB, while a look at the table costs a fraction of that."""
        return not self.table_is_empty(table)

    def default_clause(self, params: ColumnParams, literal: str) -> str:
        if is_limited_type(params) and not self.is_mariadb:
            return f"DEFAULT ({literal})"
        return f"DEFAULT {literal}"

    def add_column_fk_sql(self, table: str, field: Field, params: ColumnParams) -> str:
        """The FK goes in the same ALTER TABLE as the column."""
        if params.fk is None or not self.connection.features.supports_foreign_keys:
            return ""
        to_table, to_column = params.fk
        name = self.fk_name(table, params.column, to_table, to_column)
        return (
            f", ADD CONSTRAINT {self.quote_name(name)} FOREIGN KEY ({self.quote_name(params.column)}) "
            f"REFERENCES {self.quote_name(to_table)} ({self.quote_name(to_column)})"
        )

    def alter_wants_index(self, field: Field, params: ColumnParams) -> bool:
        """Whether the column has its own index across an AlterField: declared
        ``db_index`` without ``unique``, foreign key or not (an index made before
        the FK existed stays, as Django leaves it)."""
        return bool(field.db_index) and not field.unique and not is_limited_type(params)

    def field_should_be_indexed(self, field: Field, params: ColumnParams) -> bool:
        """InnoDB indexes FK columns itself; text/blob columns need a prefix length."""
        if not super().field_should_be_indexed(field, params):
            return False
        if params.fk is not None:
            return False
        return not is_limited_type(params)

    def inline_constraint_name(self, table: str, column: str, kind: str) -> str:
        if kind == "pkey":
            return "PRIMARY"
        if kind == "check" and not self.is_mariadb:
            return f"{table}_chk_1"
        return column  # MariaDB/MySQL name an inline UNIQUE (and MariaDB a column CHECK) after the column

    def drop_column_check(self, table: str, column: str) -> None:
        if not self.is_mariadb:
            super().drop_column_check(table, column)
            return
        # MariaDB: a CHECK written in the column definition is named after the
        # column and cannot be dropped by name; the MODIFY that follows (the
        # type changes with the CHECK) rewrites the column without it.
        if self.collect_sql:
            return
        for name in self.existing_names(table, None, [column], check=True):
            if name != column:
                self.execute(self.sql_delete_check.format(table=self.quote_name(table), name=self.quote_name(name)))

    def _keeps_inline_check(self, table: str, old_p: ColumnParams, new_p: ColumnParams) -> bool:
        """Whether the column has an inline CHECK (named after the column) that the
        MODIFY would drop while the same CHECK is still wanted."""
        if not (old_p.check and new_p.check and self.connection.features.supports_column_check_constraints):
            return False
        if old_p.internal_type != new_p.internal_type:
            return False  # a changed CHECK is dropped and added as a named constraint
        if self.collect_sql:
            return True
        found = self.connection.introspection.get_constraints(table)
        return any(info.check and name in (old_p.column, new_p.column) for name, info in found.items())

    def add_column_check(self, table: str, params: ColumnParams) -> None:
        if (table, params.column) in self._checks_in_modify:
            self._checks_in_modify.discard((table, params.column))
            return
        super().add_column_check(table, params)

    def drop_primary_key(self, table: str) -> None:
        self.note_event("drop_primary_key", table)
        self.execute(self.sql_delete_pk.format(table=self.quote_name(table)))

    def add_field(self, state: ProjectState, model: ModelState, field: Field) -> None:
        """As the base; notes a column added with its foreign key (that copies the table)."""
        if not field.many_to_many:
            params = self.column_params(state, model, field)
            if params.fk is not None and self.add_column_fk_sql(model.db_table, field, params):
                self.note_event(
                    "foreign_key",
                    model.db_table,
                    name=self.fk_name(model.db_table, params.column, *params.fk),
                    column=params.column,
                    to_table=params.fk[0],
                )
        super().add_field(state, model, field)

    def type_change_in_place(self, old_p: ColumnParams, new_p: ColumnParams) -> bool:
        """Whether InnoDB changes this type without copying the table: only a longer
        VARCHAR (same collation) whose length prefix can stay as it is."""
        old, new = _varchar_length(old_p.type), _varchar_length(new_p.type)
        if old is None or new is None or new < old or old_p.collation != new_p.collation:
            return False
        old_bytes, new_bytes = old * _CHAR_BYTES, new * _CHAR_BYTES
        if self.is_mariadb:
            # MariaDB: any longer VARCHAR, except from 128-255 bytes to more than 255.
            return not (128 <= old_bytes <= 255 < new_bytes)
        # MySQL: the 1-byte (up to 255 bytes) or 2-byte length prefix must stay.
        return (old_bytes <= 255) == (new_bytes <= 255)

    def note_modify(self, table: str, old_p: ColumnParams, new_p: ColumnParams, type_changed: bool) -> None:
        """Before a MODIFY: what it does to the table (copy, rebuild in place, or nothing to note)."""
        if type_changed and not self.type_change_in_place(old_p, new_p):
            self.note_event("type_copy", table, column=new_p.column, old=old_p.type, new=new_p.type)
        elif old_p.null != new_p.null:
            self.note_event("null_rebuild", table, column=new_p.column, null="NULL" if new_p.null else "NOT NULL")

    def alter_column(
        self,
        table: str,
        old_field: Field,
        new_field: Field,
        old_p: ColumnParams,
        new_p: ColumnParams,
        type_changed: bool,
    ) -> None:
        """One MODIFY with the full new definition (MySQL has no partial ALTER COLUMN)."""
        null_changed = old_p.null != new_p.null
        changed = type_changed or null_changed or old_p.db_default != new_p.db_default or old_p.comment != new_p.comment
        if not (changed or (self.is_mariadb and old_p.check != new_p.check)):
            return
        if old_p.null and not new_p.null:
            self.fill_nulls(table, new_field, new_p)
        self.note_modify(table, old_p, new_p, type_changed)
        definition = self.column_sql(None, None, new_field, new_p, constraints=False)  # type: ignore[arg-type]
        if self.is_mariadb and self._keeps_inline_check(table, old_p, new_p):
            # MariaDB keeps a CHECK written in CREATE TABLE inside the column
            # definition, so MODIFY would drop it: write it again (add_column_check
            # then skips it).  Django loses it here; shoal keeps the type's CHECK.
            definition += " " + self.sql_check_constraint.format(check=new_p.check)
            self._checks_in_modify.add((table, new_p.column))
        self.execute(
            self.sql_modify_column.format(
                table=self.quote_name(table), column=self.quote_name(new_p.column), definition=definition
            )
        )
