"""The schema editor: turns operations on model states into DDL.

One interface for every backend (the migration operations call exactly these
methods); backends differ in the ``sql_*`` templates and in a few hooks.

Every method takes migration *state* (a :class:`~shoal.migrations.state.ProjectState`
plus the :class:`~shoal.migrations.state.ModelState` concerned), never model
classes: the column type of a foreign key comes from its target in that state.

Running and printing share one path: with ``collect_sql=True`` nothing
connects, and each statement (parameters inlined as literals by
``connection.ops.quote_value``) is appended to :attr:`collected_sql`, which is
what ``sqlmigrate`` prints and what the SQL snapshot tests compare.

Defaults: a Python ``default`` never stays in the database.  It fills existing
rows when a column is added or made NOT NULL, and is then dropped; ``db_default``
is a real database default.  Foreign keys and indexes of new tables are queued
in :attr:`deferred_sql` and run when the editor's block ends (all tables exist
by then).

When a statement rewrites or copies a whole table (SQLite rebuild, a MySQL
MODIFY, a PostgreSQL type change) the editor records a :class:`SchemaNote`, so
callers can be honest about what an operation will lock or rewrite.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import FK_SUFFIX, Columns, ForeignKeyName, IndexName, Statement, Table, index_name
from shoal.models.fields import Field

from .schema_columns import ColumnParams, ColumnsMixin
from .schema_alter import AlterMixin
from .schema_constraints import ConstraintsMixin
from .schema_rename import RenameMixin

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["BaseDatabaseSchemaEditor", "SchemaNote", "ColumnParams"]


@dataclass
class SchemaNote:
    """What a statement will do beyond its face value (rewrite, copy, lock).

    Printed by ``sqlmigrate`` (as an SQL comment before the statement) and by
    ``migrate --plan``, so that a reader knows which steps hold a table for as
    long as it takes to read or write every row.  ``statement`` is the index in
    :attr:`BaseDatabaseSchemaEditor.collected_sql` of the first statement
    concerned (collect mode), else None.
    """

    #: "rebuild" (a new table is built and filled), "rewrite" (every row is
    #: written again), "copy" (MySQL's ALGORITHM=COPY), "scan" (every row is read,
    #: to check a constraint or build an index).
    kind: str
    table: str
    detail: str
    statement: int | None = None

    VERBS = {"rebuild": "rebuilds", "rewrite": "rewrites", "copy": "copies", "scan": "scans"}

    @property
    def summary(self) -> str:
        """One line for people: ``rewrites table "books_book": <detail>``."""
        verb = self.VERBS.get(self.kind, self.kind)
        return " ".join(f'{verb} table "{self.table}": {self.detail}'.split())

    def __str__(self) -> str:
        return self.summary


class BaseDatabaseSchemaEditor(ColumnsMixin, ConstraintsMixin, AlterMixin, RenameMixin):
    """DDL for one database connection; use as a context manager.

    ``with connection.schema_editor() as editor:`` opens a transaction when
    the backend has transactional DDL and ``atomic`` is true, and runs the
    deferred SQL when the block ends without error.
    """

    # --- templates (str.format; values are already quoted) ---------------
    sql_create_table = "CREATE TABLE {table} ({definition})"
    sql_rename_table = "ALTER TABLE {old_table} RENAME TO {new_table}"
    sql_delete_table = "DROP TABLE {table} CASCADE"
    sql_create_column = "ALTER TABLE {table} ADD COLUMN {column} {definition}"
    sql_alter_column = "ALTER TABLE {table} {changes}"
    sql_alter_column_type = "ALTER COLUMN {column} TYPE {type}{collation}{using}"
    sql_alter_column_null = "ALTER COLUMN {column} DROP NOT NULL"
    sql_alter_column_not_null = "ALTER COLUMN {column} SET NOT NULL"
    sql_alter_column_default = "ALTER COLUMN {column} SET DEFAULT {default}"
    sql_alter_column_no_default = "ALTER COLUMN {column} DROP DEFAULT"
    sql_delete_column = "ALTER TABLE {table} DROP COLUMN {column} CASCADE"
    sql_rename_column = "ALTER TABLE {table} RENAME COLUMN {old_column} TO {new_column}"
    sql_update_null_rows = "UPDATE {table} SET {column} = %s WHERE {column} IS NULL"
    sql_check_constraint = "CHECK ({check})"
    sql_create_check = "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check})"
    sql_delete_check = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_create_unique = "ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})"
    sql_delete_unique = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_create_fk = (
        "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
        "REFERENCES {to_table} ({to_column}){deferrable}"
    )
    #: Inline ``REFERENCES`` on a column definition (SQLite); None: deferred ALTER.
    sql_create_inline_fk: str | None = None
    sql_delete_fk = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_create_index = "CREATE INDEX {name} ON {table} ({columns}){include}{condition}"
    sql_create_unique_index = "CREATE UNIQUE INDEX {name} ON {table} ({columns}){include}{condition}"
    sql_delete_index = "DROP INDEX {name}"
    sql_create_pk = "ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({columns})"
    sql_delete_pk = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_alter_table_comment: str | None = "COMMENT ON TABLE {table} IS {comment}"
    sql_alter_column_comment: str | None = "COMMENT ON COLUMN {table}.{column} IS {comment}"
    sql_table_constraint = "CONSTRAINT {name} {constraint}"
    #: Appended to every foreign key shoal creates ("" where FKs cannot be deferred).
    sql_fk_deferrable = " DEFERRABLE INITIALLY DEFERRED"

    def __init__(self, connection: Any, collect_sql: bool = False, atomic: bool = True) -> None:
        self.connection = connection
        self.collect_sql = collect_sql
        self.atomic_migration = atomic and connection.features.can_rollback_ddl
        self.collected_sql: list[str] = []
        self.deferred_sql: list[Any] = []
        self.notes: list[SchemaNote] = []
        self.rows_memo: dict[str, bool] = {}
        #: Set by the executor to honour routers; None means "allow everything".
        self.router: Any = None
        self._stack: ExitStack | None = None

    # ------------------------------------------------------------------ context

    def __enter__(self) -> "BaseDatabaseSchemaEditor":
        self.deferred_sql = []
        self._stack = ExitStack()
        if not self.collect_sql:
            try:
                self._stack.callback(self._restore_connection)
                self._prepare_connection()
                if self.atomic_migration:
                    self._stack.enter_context(self.connection.atomic())
            except BaseException:
                stack, self._stack = self._stack, None
                stack.close()
                raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        stack, self._stack = self._stack, None
        assert stack is not None, "schema editor __exit__ without __enter__"
        if exc_type is None:
            try:
                self.run_deferred_sql()
                if not self.collect_sql:
                    self._before_commit()
            except BaseException:
                if stack.__exit__(*sys.exc_info()):
                    return True
                raise
        return bool(stack.__exit__(exc_type, exc, tb))

    def _prepare_connection(self) -> None:
        """Backend hook run before the transaction opens (SQLite: foreign keys off)."""

    def _restore_connection(self) -> None:
        """Undo :meth:`_prepare_connection` after the transaction ended."""

    def _before_commit(self) -> None:
        """Backend hook run after the deferred SQL, inside the transaction."""

    def run_deferred_sql(self) -> None:
        """Run (or collect) the queued statements, in order."""
        while self.deferred_sql:
            self.execute(str(self.deferred_sql.pop(0)))

    # ------------------------------------------------------------------ running

    def execute(self, sql: Any, params: Sequence[Any] | None = None) -> None:
        """Run one statement, or append it (params inlined, ending in ``;``) to
        :attr:`collected_sql` in collect mode."""
        text = str(sql)
        if self.collect_sql:
            if params is not None:
                text = self.connection.ops.compose_sql(text, params)
            text = text.rstrip()
            self.collected_sql.append(text if text.endswith(";") else text + ";")
            return
        self.connection.execute(text, None if params is None else list(params))

    def allow_migrate(self, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        """Whether the routers allow migrating ``app_label`` (and model) on this database."""
        if self.router is None:
            return True
        return bool(self.router.allow_migrate(self.connection.alias, app_label, model_name=model_name, **hints))

    def quote_name(self, name: str) -> str:
        """A quoted identifier."""
        return str(self.connection.ops.quote_name(name))

    def quote_value(self, value: Any) -> str:
        """A SQL literal (for DDL defaults and collect-only SQL)."""
        return str(self.connection.ops.quote_value(value))

    def note(self, kind: str, table: str, detail: str) -> None:
        """Record that the next statement rewrites/copies ``table``."""
        index = len(self.collected_sql) if self.collect_sql else None
        self.notes.append(SchemaNote(kind, table, detail, index))

    # ------------------------------------------------------------------ names

    def make_index_name(self, table: str, columns: Sequence[str], suffix: str = "") -> str:
        """The deterministic name of an index/constraint (see ddl_references.index_name)."""
        return index_name(table, columns, suffix, self.max_name_length)

    def _index_name_ref(self, table: str, columns: Sequence[str], suffix: str) -> IndexName:
        return IndexName(table, columns, suffix, self.make_index_name, self.quote_name)

    def existing_names(
        self,
        table: str,
        expected: str | None,
        columns: Sequence[str] | None = None,
        *,
        exclude: Sequence[str] = (),
        **flags: Any,
    ) -> list[str]:
        """Names of constraints/indexes on ``table`` matching ``flags``.

        Connected: read from the database (``expected`` first when it exists).
        Collect mode: ``[expected]`` (the name shoal would have given it).
        ``flags`` compare ConstraintInfo attributes: unique, primary_key, index,
        check, foreign_key (truthiness).
        """
        if self.collect_sql:
            return [expected] if expected else []
        found = self.connection.introspection.get_constraints(table)
        if expected and expected in found:
            return [expected]
        names = []
        for name, info in found.items():
            if name in exclude:
                continue
            if columns is not None and list(info.columns) != list(columns):
                continue
            if any(bool(getattr(info, key)) != bool(want) for key, want in flags.items()):
                continue
            names.append(name)
        return sorted(names)

    # ------------------------------------------------------------------ statements

    def _create_index_sql(
        self,
        table: str,
        columns: Sequence[str],
        *,
        suffix: str = "",
        unique: bool = False,
        name: str | None = None,
        col_suffixes: Sequence[str] = (),
        include: str = "",
        condition: str = "",
    ) -> Statement:
        template = self.sql_create_unique_index if unique else self.sql_create_index
        ref: Any = self.quote_name(name) if name else self._index_name_ref(table, columns, suffix)
        return Statement(
            template,
            name=ref,
            table=Table(table, self.quote_name),
            columns=Columns(table, columns, self.quote_name, col_suffixes),
            include=include,
            condition=f" WHERE {condition}" if condition else "",
        )

    def _delete_index_sql(self, table: str, name: str) -> str:
        return self.sql_delete_index.format(table=self.quote_name(table), name=self.quote_name(name))

    def _create_unique_sql(self, table: str, columns: Sequence[str], name: str | None = None) -> Statement:
        ref: Any = self.quote_name(name) if name else self._index_name_ref(table, columns, "_uniq")
        return Statement(
            self.sql_create_unique,
            name=ref,
            table=Table(table, self.quote_name),
            columns=Columns(table, columns, self.quote_name),
        )

    def _fk_deferrable(self) -> str:
        return self.sql_fk_deferrable

    def _create_fk_sql(
        self, table: str, column: str, to_table: str, to_column: str, suffix_template: str = FK_SUFFIX
    ) -> Statement:
        name = ForeignKeyName(
            table, [column], to_table, [to_column], self.make_index_name, self.quote_name, suffix_template
        )
        return Statement(
            self.sql_create_fk,
            table=Table(table, self.quote_name),
            name=name,
            column=Columns(table, [column], self.quote_name),
            to_table=Table(to_table, self.quote_name),
            to_column=Columns(to_table, [to_column], self.quote_name),
            deferrable=self._fk_deferrable(),
        )

    def fk_name(self, table: str, column: str, to_table: str, to_column: str) -> str:
        return self.make_index_name(table, [column], f"_fk_{to_table}_{to_column}")

    # ------------------------------------------------------------------ models

    def table_sql(self, state: ProjectState, model: ModelState) -> str:
        """``CREATE TABLE`` for ``model``; queues its FKs and unique_together."""
        table = model.db_table
        definitions = []
        for names in sorted(model.options.get("unique_together") or ()):
            columns = [self._column_of(model, n) for n in names]
            self.deferred_sql.append(self._create_unique_sql(table, columns))
        for field in self.concrete_fields(model):
            params = self.column_params(state, model, field)
            definition = self.column_sql(state, model, field, params)
            definition += self.column_extras_sql(state, model, field, params)
            definitions.append(f"{self.quote_name(self.col(field))} {definition}")
            if params.fk and not self.sql_create_inline_fk and self.connection.features.supports_foreign_keys:
                self.deferred_sql.append(self._create_fk_sql(table, self.col(field), *params.fk))
        for constraint in model.options.get("constraints") or ():
            sql = self.constraint_sql(state, model, constraint)
            if sql:
                definitions.append(sql)
        return self.sql_create_table.format(table=self.quote_name(table), definition=", ".join(definitions))

    def create_model(self, state: ProjectState, model: ModelState) -> None:
        """Create the table, then (deferred) its indexes and FKs, and auto M2M tables."""
        self.execute(self.table_sql(state, model))
        comment = model.options.get("db_table_comment")
        if comment:
            self.alter_db_table_comment(model, None, comment)
        if self.sql_alter_column_comment and self.connection.features.supports_comments:
            for field in self.concrete_fields(model):
                if field.db_comment:
                    self._set_column_comment(model.db_table, self.col(field), field.db_comment)
        self.deferred_sql.extend(self.model_indexes_sql(state, model))
        for field in model.fields.values():
            through = self.auto_through_model(state, model, field)
            if through is not None:
                self.create_model(state, through)

    def delete_model(self, state: ProjectState, model: ModelState) -> None:
        """Drop the table (and its auto M2M tables); forget queued SQL about it."""
        for field in model.fields.values():
            through = self.auto_through_model(state, model, field)
            if through is not None:
                self.delete_model(state, through)
        self.execute(self.sql_delete_table.format(table=self.quote_name(model.db_table)))
        self.deferred_sql = [
            s for s in self.deferred_sql if not (isinstance(s, Statement) and s.references_table(model.db_table))
        ]

    def alter_db_table_comment(self, model: ModelState, old_comment: str | None, new_comment: str | None) -> None:
        """Set or clear the table's comment where the backend keeps comments."""
        if not self.connection.features.supports_comments or not self.sql_alter_table_comment:
            return
        if (old_comment or "") == (new_comment or ""):
            return
        self.execute(
            self.sql_alter_table_comment.format(
                table=self.quote_name(model.db_table), comment=self._comment_literal(new_comment)
            )
        )

    def _comment_literal(self, comment: str | None) -> str:
        return self.quote_value(comment or "") if comment else "NULL"

    def _set_column_comment(self, table: str, column: str, comment: str | None) -> None:
        assert self.sql_alter_column_comment
        self.execute(
            self.sql_alter_column_comment.format(
                table=self.quote_name(table), column=self.quote_name(column), comment=self._comment_literal(comment)
            )
        )

    def alter_unique_together(self, state: ProjectState, model: ModelState, old_set: Any, new_set: Any) -> None:
        """Drop the unique groups no longer wanted, create the new ones."""
        old = {tuple(g) for g in old_set or ()}
        new = {tuple(g) for g in new_set or ()}
        table = model.db_table
        for group in sorted(old - new):
            columns = [self._column_of(model, n) for n in group]
            # Created by a CreateModel earlier in this same editor block and still
            # queued: dropping it from the queue is dropping it (squash fix, issue 7).
            queued = str(self._create_unique_sql(table, columns))
            pending = [s for s in self.deferred_sql if str(s) == queued]
            if pending:
                self.deferred_sql = [s for s in self.deferred_sql if str(s) != queued]
                continue
            expected = self.make_index_name(table, columns, "_uniq")
            for name in self.existing_names(table, expected, columns, unique=True, primary_key=False):
                self._delete_unique(table, name)
        for group in sorted(new - old):
            columns = [self._column_of(model, n) for n in group]
            self.execute(self._create_unique_sql(table, columns))

    def _column_of(self, model: ModelState, name: str) -> str:
        return self.col(model.get_field(name))

    def _delete_unique(self, table: str, name: str) -> None:
        self.execute(self.sql_delete_unique.format(table=self.quote_name(table), name=self.quote_name(name)))

    # ------------------------------------------------------------------ indexes

    def model_indexes_sql(self, state: ProjectState, model: ModelState) -> list[Statement]:
        """Every index a new table gets after CREATE TABLE: field indexes, Meta.indexes."""
        out: list[Statement] = []
        for field in self.concrete_fields(model):
            out.extend(self.field_indexes_sql(state, model, field, self.column_params(state, model, field)))
        for index in model.options.get("indexes") or ():
            sql = self.index_sql(state, model, index)
            if sql is not None:
                out.append(sql)
        return out

    def field_should_be_indexed(self, field: Field, params: ColumnParams) -> bool:
        """db_index on a column that is not already unique (a unique is an index)."""
        return bool(field.db_index) and not field.unique

    def field_indexes_sql(
        self, state: ProjectState, model: ModelState, field: Field, params: ColumnParams
    ) -> list[Statement]:
        """The indexes one column gets for its own options."""
        if self.field_should_be_indexed(field, params):
            return [self._create_index_sql(model.db_table, [self.col(field)])]
        return []

    # ------------------------------------------------------------------ fields

    def add_field(self, state: ProjectState, model: ModelState, field: Field) -> None:
        """Add a column (or an auto M2M table); a Python default fills existing rows only."""
        through = self.auto_through_model(state, model, field)
        if through is not None:
            self.create_model(state, through)
            return
        if field.many_to_many:
            return
        table = model.db_table
        params = self.column_params(state, model, field)
        use_default = self.effective_default(field) is not None and self.rows_need_default(table)
        definition = self.column_sql(state, model, field, params, include_default=use_default)
        definition += self.column_extras_sql(state, model, field, params)
        sql = self.sql_create_column.format(
            table=self.quote_name(table),
            column=self.quote_name(self.col(field)),
            definition=definition,
        )
        sql += self.add_column_fk_sql(table, field, params)
        self.execute(sql)
        if use_default and params.db_default is None:  # a db_default is the column's own DEFAULT: kept
            self.execute(
                self.sql_alter_column.format(
                    table=self.quote_name(table),
                    changes=self.sql_alter_column_no_default.format(column=self.quote_name(self.col(field))),
                )
            )
        if (
            params.fk
            and not self.sql_create_inline_fk
            and not self.add_column_fk_sql(table, field, params)
            and self.connection.features.supports_foreign_keys
        ):
            self.deferred_sql.append(self._create_fk_sql(table, self.col(field), *params.fk))
        if field.db_comment and self.sql_alter_column_comment and self.connection.features.supports_comments:
            self._set_column_comment(table, self.col(field), field.db_comment)
        self.deferred_sql.extend(self.field_indexes_sql(state, model, field, params))

    def table_is_empty(self, table: str) -> bool:
        """Whether the table has no rows (never true in collect mode: it cannot look)."""
        if self.collect_sql:
            return False
        return self.connection.fetchone(f"SELECT 1 FROM {self.quote_name(table)} LIMIT 1") is None

    def rows_need_default(self, table: str) -> bool:
        """Whether ADD COLUMN must write the field's Python default into existing
        rows (as a DEFAULT it then drops).  Always assumed here; a backend whose
        DROP DEFAULT costs more than a look at the table asks :meth:`table_is_empty`."""
        return True

    def add_column_fk_sql(self, table: str, field: Field, params: ColumnParams) -> str:
        """Text appended to ADD COLUMN to create the FK in the same statement ("" = none)."""
        return ""

    def remove_field(self, state: ProjectState, model: ModelState, field: Field) -> None:
        """Drop a column (FK constraint first) or an auto M2M table."""
        through = self.auto_through_model(state, model, field)
        if through is not None:
            self.delete_model(state, through)
            return
        if field.many_to_many:
            return
        table = model.db_table
        params = self.column_params(state, model, field)
        if params.fk and self.connection.features.supports_foreign_keys and not self.sql_create_inline_fk:
            for name in self.existing_names(
                table,
                self.fk_name(table, self.col(field), *params.fk),
                [self.col(field)],
                foreign_key=True,
            ):
                self._delete_fk(table, name)
        self.execute(
            self.sql_delete_column.format(table=self.quote_name(table), column=self.quote_name(self.col(field)))
        )
        self.deferred_sql = [
            s
            for s in self.deferred_sql
            if not (isinstance(s, Statement) and s.references_column(table, self.col(field)))
        ]

    def _delete_fk(self, table: str, name: str) -> None:
        self.execute(self.sql_delete_fk.format(table=self.quote_name(table), name=self.quote_name(name)))
