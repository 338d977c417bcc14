"""``Meta.indexes`` and ``Meta.constraints``: create, drop and rename them.

Split out of :mod:`.schema` to keep modules small; mixed into
:class:`~shoal.db.backends.base.schema.BaseDatabaseSchemaEditor`.

* An ``Index`` is a ``CREATE INDEX`` run after the table exists: ``-field``
  orders a column descending, ``opclasses`` and ``include`` are honoured where
  the backend has them, a ``condition`` makes it partial (on a backend
  without partial indexes the condition is ignored and the index is made over
  all rows, as Django does on MySQL).
* A ``UniqueConstraint`` is a table constraint (``CONSTRAINT n UNIQUE (...)``)
  unless it has a condition or ``include``: then it is a unique index.
* A ``CheckConstraint`` is ``CONSTRAINT n CHECK (...)``; its ``Q`` condition
  is compiled against the model state with every value inlined as a literal.

Index and constraint objects may carry their own ``create_sql`` /
``remove_sql`` / ``constraint_sql(state, model, editor)`` methods, which then
take precedence.

Notes: building an index or adding a constraint reads every row of a table,
under a lock that differs per database.  Each backend states those costs in
:attr:`ConstraintsMixin.statement_notes`; :meth:`ConstraintsMixin.note_event`
records the matching :class:`~shoal.db.backends.base.schema.SchemaNote`, and
:class:`StatementNotesMixin` (listed first in a backend editor's bases) finds
the index/constraint statements wherever they come from, queued ones included,
and leaves out tables created earlier in the same editor block (they hold no
rows yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import Statement

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["ConstraintsMixin", "StatementNotesMixin"]


class ConstraintsMixin:
    """Indexes and constraints declared in Meta; relies on the editor's helpers."""

    connection: Any
    deferred_sql: list[Any]
    sql_table_constraint: str
    sql_delete_unique: str
    sql_delete_check: str
    sql_delete_index: str
    #: Rename an index in place (SQLite has no such statement: drop + create).
    sql_rename_index: str | None = "ALTER INDEX {old_name} RENAME TO {new_name}"
    #: Operator classes per index column (PostgreSQL).
    supports_index_opclasses = False
    #: ``INCLUDE (...)`` covering columns (PostgreSQL).
    supports_index_include = False

    #: What this backend's DDL costs on a table that may hold rows: event ->
    #: (SchemaNote kind, detail template).  An event missing here is cheap on this
    #: backend and gets no note.  Events and the facts their templates may use:
    #: ``index`` / ``unique`` / ``primary_key`` (name, columns), ``foreign_key``
    #: (name, column, to_table), ``check`` (name), ``not_null`` (column),
    #: ``type_rewrite`` (column, old, new); backends add their own.
    statement_notes: dict[str, tuple[str, str]] = {}
    #: Tables created earlier in this editor block (see StatementNotesMixin).
    fresh_tables: set[str] | frozenset[str] = frozenset()
    #: Connected editors note scans and rewrites only when asked (it costs a look
    #: at each table for rows, and nothing reads the notes of a real run yet);
    #: collecting editors (sqlmigrate, migrate --plan) always do.
    notes_when_connected = False
    #: Table -> whether it had rows when last looked at (see may_hold_rows).
    rows_memo: dict[str, bool]

    collect_sql: bool
    quote_name: Any
    execute: Any
    note: Any
    col: Any
    _create_index_sql: Any
    _delete_index_sql: Any

    @property
    def supports_nulls_distinct(self) -> bool:
        """``UNIQUE NULLS [NOT] DISTINCT`` (PostgreSQL 15+)."""
        return False

    # -- notes -------------------------------------------------------------------

    def note_event(self, event: str, table: str, **facts: Any) -> None:
        """Record this backend's note for ``event`` on ``table`` (see :attr:`statement_notes`)
        before the statement concerned runs; nothing when the table cannot hold rows."""
        entry = self.statement_notes.get(event)
        if entry is None or not self.may_hold_rows(table):
            return
        kind, template = entry
        self.note(kind, table, template.format(**facts))

    def may_hold_rows(self, table: str) -> bool:
        """Whether ``table`` may have rows: not if it was created in this editor block;
        when connected, whether it has one (collect mode cannot know: assume it may)."""
        if table in self.fresh_tables:
            return False
        if self.collect_sql:
            return True
        if not self.notes_when_connected:
            return False
        # One look per table while no rows can have changed (a migration adding an
        # index and a foreign key to a table asks once, not per statement).
        memo = self.rows_memo
        changed = self.connection.data_changed
        known = memo.get(table)
        if known is not None and (known or not changed):
            return known
        has_rows = self.connection.fetchone(f"SELECT 1 FROM {self.quote_name(table)} LIMIT 1") is not None
        memo[table] = has_rows
        return has_rows

    # -- helpers -----------------------------------------------------------------

    def condition_sql(self, state: ProjectState, model: ModelState, condition: Any) -> str:
        """A ``Q`` (or SQL text) as a boolean SQL expression over the model's columns."""
        if condition is None:
            return ""
        if isinstance(condition, str):
            return condition
        from shoal.models.conditions import compile_condition

        return compile_condition(condition, model, self.connection, state)

    def _field_columns(self, model: ModelState, names: Any) -> list[str]:
        return [self.col(model.get_field(name)) for name in names]

    @staticmethod
    def unique_is_index(constraint: Any) -> bool:
        """A UniqueConstraint with a condition or INCLUDE columns is a unique index."""
        return getattr(constraint, "condition", None) is not None or bool(getattr(constraint, "include", ()))

    @staticmethod
    def is_unique_constraint(constraint: Any) -> bool:
        return bool(getattr(constraint, "fields", None))

    def _include_sql(self, model: ModelState, names: Any) -> str:
        if not names or not self.supports_index_include:
            return ""
        return " INCLUDE (" + ", ".join(self.quote_name(c) for c in self._field_columns(model, names)) + ")"

    def _queued_creation(self, name: str) -> Statement | None:
        """The statement in ``deferred_sql`` that will create index/constraint ``name``."""
        quoted = self.quote_name(name)
        for sql in self.deferred_sql:
            if isinstance(sql, Statement) and str(sql.parts.get("name", "")) == quoted:
                return sql
        return None

    def _unqueue(self, name: str) -> bool:
        """Drop a not-yet-run creation of ``name`` (made earlier in this migration); True if found."""
        sql = self._queued_creation(name)
        if sql is None:
            return False
        self.deferred_sql.remove(sql)
        return True

    # -- indexes -----------------------------------------------------------------

    def index_sql(self, state: ProjectState, model: ModelState, index: Any) -> Statement | None:
        """``CREATE INDEX`` for a ``Meta.indexes`` entry (None: not supported here)."""
        if hasattr(index, "create_sql"):
            return index.create_sql(state, model, self)  # type: ignore[no-any-return]
        fields = list(getattr(index, "fields", ()) or ())
        if not fields:
            raise NotImplementedError(f"Index {index!r} on {model.label_lower}: only field indexes are supported.")
        partial = self.connection.features.supports_partial_indexes
        columns = self._field_columns(model, [f.lstrip("-") for f in fields])
        ordering = self.connection.features.supports_index_column_ordering
        suffixes = [" DESC" if f.startswith("-") and ordering else "" for f in fields]
        opclasses = list(getattr(index, "opclasses", ()) or ()) if self.supports_index_opclasses else []
        suffixes = [s + (f" {opclasses[i]}" if i < len(opclasses) else "") for i, s in enumerate(suffixes)]
        return self._create_index_sql(  # type: ignore[no-any-return]
            model.db_table,
            columns,
            name=index.name,
            col_suffixes=suffixes,
            include=self._include_sql(model, getattr(index, "include", ())),
            condition=self.condition_sql(state, model, getattr(index, "condition", None)) if partial else "",
        )

    def add_index(self, state: ProjectState, model: ModelState, index: Any) -> None:
        """Create one ``Meta.indexes`` index."""
        sql = self.index_sql(state, model, index)
        if sql is not None:
            self.execute(sql)

    def remove_index(self, state: ProjectState, model: ModelState, index: Any) -> None:
        """Drop one ``Meta.indexes`` index."""
        if hasattr(index, "remove_sql"):
            self.execute(index.remove_sql(state, model, self))
            return
        if not self._unqueue(index.name):
            self.execute(self._delete_index_sql(model.db_table, index.name))

    def rename_index(self, state: ProjectState, model: ModelState, old_index: Any, new_index: Any) -> None:
        """Give an index its new name (drop and create where it cannot be renamed)."""
        queued = self._queued_creation(old_index.name)
        if queued is not None:
            queued.parts["name"] = self.quote_name(new_index.name)
            return
        if self.sql_rename_index is None:
            self.remove_index(state, model, old_index)
            self.add_index(state, model, new_index)
            return
        self.execute(
            self.sql_rename_index.format(
                table=self.quote_name(model.db_table),
                old_name=self.quote_name(old_index.name),
                new_name=self.quote_name(new_index.name),
            )
        )

    # -- constraints -------------------------------------------------------------

    def _unique_index_sql(self, state: ProjectState, model: ModelState, constraint: Any) -> Statement | None:
        if constraint.condition is not None and not self.connection.features.supports_partial_indexes:
            return None
        return self._create_index_sql(  # type: ignore[no-any-return]
            model.db_table,
            self._field_columns(model, constraint.fields),
            unique=True,
            name=constraint.name,
            include=self._include_sql(model, getattr(constraint, "include", ())),
            condition=self.condition_sql(state, model, constraint.condition),
        )

    def _deferrable_sql(self, constraint: Any) -> str:
        value = getattr(constraint, "deferrable", None)
        if value is None or not self.connection.features.supports_deferrable_unique_constraints:
            return ""
        mode = str(getattr(value, "value", getattr(value, "name", value))).upper()
        return f" DEFERRABLE INITIALLY {'IMMEDIATE' if 'IMMEDIATE' in mode else 'DEFERRED'}"

    def constraint_sql(self, state: ProjectState, model: ModelState, constraint: Any) -> str | None:
        """The table-level definition in CREATE TABLE (None: made separately, or not here).

        A unique index (condition/include) is queued in ``deferred_sql`` instead.
        """
        if hasattr(constraint, "constraint_sql"):
            return constraint.constraint_sql(state, model, self)  # type: ignore[no-any-return]
        name = self.quote_name(constraint.name)
        if self.is_unique_constraint(constraint):
            if self.unique_is_index(constraint):
                sql = self._unique_index_sql(state, model, constraint)
                if sql is not None:
                    self.deferred_sql.append(sql)
                return None
            cols = ", ".join(self.quote_name(c) for c in self._field_columns(model, constraint.fields))
            nulls = ""
            if getattr(constraint, "nulls_distinct", None) is not None and self.supports_nulls_distinct:
                nulls = " NULLS DISTINCT" if constraint.nulls_distinct else " NULLS NOT DISTINCT"
            body = f"UNIQUE{nulls} ({cols}){self._deferrable_sql(constraint)}"
            return self.sql_table_constraint.format(name=name, constraint=body)
        condition = getattr(constraint, "condition", None)
        if condition is not None:
            if not self.connection.features.supports_table_check_constraints:
                return None
            check = self.condition_sql(state, model, condition)
            return self.sql_table_constraint.format(name=name, constraint=f"CHECK ({check})")
        raise NotImplementedError(
            f"Constraint {getattr(constraint, 'name', constraint)!r} on {model.label_lower} is not supported."
        )

    def add_constraint(self, state: ProjectState, model: ModelState, constraint: Any) -> None:
        """Add one ``Meta.constraints`` entry to an existing table."""
        if hasattr(constraint, "create_sql"):
            self.execute(constraint.create_sql(state, model, self))
            return
        if self.is_unique_constraint(constraint) and self.unique_is_index(constraint):
            sql = self._unique_index_sql(state, model, constraint)
            if sql is not None:
                self.execute(sql)
            return
        definition = self.constraint_sql(state, model, constraint)
        if definition:
            if self.is_unique_constraint(constraint):
                columns = ", ".join(self._field_columns(model, constraint.fields))
                self.note_event("unique", model.db_table, name=constraint.name, columns=columns)
            else:
                self.note_event("check", model.db_table, name=constraint.name)
            self.execute(f"ALTER TABLE {self.quote_name(model.db_table)} ADD {definition}")

    def remove_constraint(self, state: ProjectState, model: ModelState, constraint: Any) -> None:
        """Drop one ``Meta.constraints`` entry."""
        if hasattr(constraint, "remove_sql"):
            self.execute(constraint.remove_sql(state, model, self))
            return
        table = model.db_table
        if self.is_unique_constraint(constraint):
            if self.unique_is_index(constraint):
                if constraint.condition is None or self.connection.features.supports_partial_indexes:
                    if not self._unqueue(constraint.name):
                        self.execute(self._delete_index_sql(table, constraint.name))
                return
            template = self.sql_delete_unique
        else:
            if not self.connection.features.supports_table_check_constraints:
                return
            template = self.sql_delete_check
        self.execute(template.format(table=self.quote_name(table), name=self.quote_name(constraint.name)))


def _plain_name(part: Any) -> str:
    """An identifier as people read it: ``"books_book_title_idx"`` -> books_book_title_idx."""
    return str(part).strip('"`[]')


class StatementNotesMixin:
    """Notes for the index and constraint statements a backend editor runs.

    Put it first in a backend editor's bases (``class DatabaseSchemaEditor(
    StatementNotesMixin, BaseDatabaseSchemaEditor)``): it keeps
    :attr:`ConstraintsMixin.fresh_tables` (tables created in this editor block,
    which hold no rows yet), and before each ``CREATE INDEX`` / ``ADD ... UNIQUE``
    / ``ADD ... FOREIGN KEY`` statement, queued ones included, records the
    backend's note for it (:meth:`ConstraintsMixin.note_event`).
    """

    sql_create_index: str
    sql_create_unique_index: str
    sql_create_unique: str
    sql_create_fk: str
    deferred_sql: list[Any]
    note_event: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fresh_tables: set[str] = set()

    def create_model(self, state: ProjectState, model: ModelState) -> None:
        """As the base; the new table (and its auto M2M tables) count as fresh."""
        self.fresh_tables.add(model.db_table)
        super().create_model(state, model)  # type: ignore[misc]

    def delete_model(self, state: ProjectState, model: ModelState) -> None:
        """As the base; a later table of that name is not the fresh one."""
        super().delete_model(state, model)  # type: ignore[misc]
        self.fresh_tables.discard(model.db_table)

    def rename_table(self, old_table: str, new_table: str) -> None:
        """As the base; a fresh table stays fresh under its new name."""
        super().rename_table(old_table, new_table)  # type: ignore[misc]
        if old_table in self.fresh_tables:
            self.fresh_tables.discard(old_table)
            self.fresh_tables.add(new_table)

    def run_deferred_sql(self) -> None:
        """As the base, but each queued statement reaches :meth:`execute` as itself
        (not as text), so that its note is recorded right before it."""
        while self.deferred_sql:
            self.execute(self.deferred_sql.pop(0))

    def execute(self, sql: Any, params: Any = None) -> None:
        """Record the note an index/constraint statement deserves, then run it."""
        if isinstance(sql, Statement):
            self.note_statement(sql)
        super().execute(sql, params)  # type: ignore[misc]

    def note_statement(self, sql: Statement) -> None:
        """The note for one statement built from this editor's templates (others: none)."""
        table = getattr(sql.parts.get("table"), "table", None)
        if not isinstance(table, str):
            return
        name = _plain_name(sql.parts.get("name", ""))
        columns = ", ".join(getattr(sql.parts.get("columns"), "columns", None) or ())
        if sql.template in (self.sql_create_index, self.sql_create_unique_index):
            self.note_event("index", table, name=name, columns=columns)
        elif sql.template == self.sql_create_unique:
            self.note_event("unique", table, name=name, columns=columns)
        elif sql.template == self.sql_create_fk:
            column = ", ".join(getattr(sql.parts.get("column"), "columns", None) or ())
            to_table = getattr(sql.parts.get("to_table"), "table", "")
            self.note_event("foreign_key", table, name=name, column=column, to_table=to_table)
