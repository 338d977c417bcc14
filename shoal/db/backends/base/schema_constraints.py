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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import Statement

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["ConstraintsMixin"]


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

    quote_name: Any
    execute: Any
    col: Any
    _create_index_sql: Any
    _delete_index_sql: Any

    @property
    def supports_nulls_distinct(self) -> bool:
        """``UNIQUE NULLS [NOT] DISTINCT`` (PostgreSQL 15+)."""
        return False

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
