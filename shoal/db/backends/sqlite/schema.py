"""SQLite schema editor: plain ALTERs where SQLite has them, the rebuild otherwise.

SQLite keeps foreign keys in the CREATE TABLE (inline ``REFERENCES``), has
no ALTER COLUMN, and cannot add constraints to a table; those changes go
through :func:`~shoal.db.backends.sqlite.rebuild.rebuild_table`.  The editor
switches foreign-key enforcement off before its transaction opens (the pragma
is ignored inside a transaction), checks every foreign key before the
transaction commits, and switches enforcement back on afterwards.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from shoal.db.backends.base.schema import BaseDatabaseSchemaEditor
from shoal.db.backends.base.schema_constraints import StatementNotesMixin
from shoal.db.ddl_references import Statement
from shoal.exceptions import IntegrityError
from shoal.models.expressions import is_db_expression
from shoal.models.fields import Field

from .rebuild import foreign_key_violations, rebuild_table, recreate_empty_like_alter

if TYPE_CHECKING:
    from shoal.db.backends.base.schema_columns import ColumnParams
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["DatabaseSchemaEditor"]


class DatabaseSchemaEditor(StatementNotesMixin, BaseDatabaseSchemaEditor):
    """SQLite DDL; see the module docstring."""

    sql_delete_table = "DROP TABLE {table}"
    sql_create_inline_fk = "REFERENCES {to_table} ({to_column}){deferrable}"
    sql_create_unique = "CREATE UNIQUE INDEX {name} ON {table} ({columns})"
    sql_delete_unique = "DROP INDEX {name}"
    sql_delete_column = "ALTER TABLE {table} DROP COLUMN {column}"
    sql_alter_table_comment = None
    sql_rename_index = None  # no ALTER INDEX ... RENAME: drop and create
    sql_alter_column_comment = None

    def __init__(self, connection: Any, collect_sql: bool = False, atomic: bool = True) -> None:
        super().__init__(connection, collect_sql=collect_sql, atomic=atomic)
        self._restore_fks = False
        self._check_fks = False

    # ------------------------------------------------------------------ context

    def _prepare_connection(self) -> None:
        row = self.connection.fetchone("PRAGMA foreign_keys")
        enforced = bool(row and row[0])
        if self.connection.in_atomic_block:
            # The pragma would be ignored.  With enforcement on, rebuilds refuse
            # to run; with it off (the executor's batch of migrations), this
            # editor checks the foreign keys itself before its savepoint ends.
            self._check_fks = not enforced
            return
        if enforced:
            self.connection.execute("PRAGMA foreign_keys = OFF")
            self._restore_fks = True
        self._check_fks = True

    def _restore_connection(self) -> None:
        if self._restore_fks:
            self._restore_fks = False
            self.connection.execute("PRAGMA foreign_keys = ON")

    def _before_commit(self) -> None:
        """Enforcement was off during the migration: check every foreign key now."""
        if not self._check_fks:
            return
        violations = foreign_key_violations(self.connection)
        if violations:
            child, rowid, column, parent, value = violations[0]
            more = f" ({len(violations) - 1} more)" if len(violations) > 1 else ""
            raise IntegrityError(
                f"Foreign key violation: row rowid={rowid} of table {child!r} has {column} = {value!r}, which "
                f"matches no row of {parent!r}{more}. Fix or delete those rows; the migration was rolled back."
            )

    # ------------------------------------------------------------------ helpers

    def db_default_sql(self, field: Field) -> str:
        """A DecimalField's db_default is ``(CAST('1.50' AS NUMERIC))``: the text
        literal alone would be stored as text, and Django writes the same."""
        sql = super().db_default_sql(field)
        if field.get_internal_type() == "DecimalField":
            return f"(CAST({sql} AS NUMERIC))"
        return sql

    def has_autoincrement(self, model: ModelState) -> bool:
        """Whether the table's primary key is an AUTOINCREMENT column."""
        pk = model.pk
        return pk is not None and not pk.is_relation and "AUTOINCREMENT" in (pk.db_type_suffix(self.connection) or "")

    def model_index_names(self, state: ProjectState, model: ModelState) -> set[str]:
        """Names of the indexes shoal creates for ``model`` (the rest are kept in rebuilds)."""
        table = model.db_table
        names = set()
        for field in self.concrete_fields(model):
            if self.field_should_be_indexed(field, self.column_params(state, model, field)):
                names.add(self.make_index_name(table, [self.col(field)]))
        for group in model.options.get("unique_together") or ():
            names.add(self.make_index_name(table, [self._column_of(model, n) for n in group], "_uniq"))
        for index in model.options.get("indexes") or ():
            names.add(index.name)
        for constraint in model.options.get("constraints") or ():
            if self.is_unique_constraint(constraint) and self.unique_is_index(constraint):
                names.add(constraint.name)
        return names

    def model_index_shapes(self, state: ProjectState, model: ModelState) -> set[tuple[Any, ...]]:
        """(columns, unique) of the field indexes and unique_together of ``model``."""
        shapes: set[tuple[Any, ...]] = set()
        for field in self.concrete_fields(model):
            if self.field_should_be_indexed(field, self.column_params(state, model, field)):
                shapes.add(((self.col(field),), False))
        for group in model.options.get("unique_together") or ():
            shapes.add((tuple(self._column_of(model, n) for n in group), True))
        return shapes

    def _rebuild(
        self,
        state: ProjectState,
        model: ModelState,
        old_model: ModelState,
        fields: dict[str, Field],
        copy: dict[str, tuple[str, list[Any]]],
        reason: str,
        old_state: ProjectState | None = None,
    ) -> None:
        rebuild_table(
            self, state, model, old_model=old_model, fields=fields, copy=copy, reason=reason, old_state=old_state
        )

    def _plain_copy(self, fields: dict[str, Field], skip: str | None = None) -> dict[str, tuple[str, list[Any]]]:
        return {
            self.col(f): (self.quote_name(self.col(f)), [])
            for name, f in fields.items()
            if not f.many_to_many and name != skip
        }

    def _fill_expression(self, field: Field, params: ColumnParams, source: str | None) -> tuple[str, list[Any]] | None:
        """How a new/altered column gets its value: from ``source`` (a column) or
        its default; None leaves it to the column's DEFAULT (or NULL)."""
        default = None if params.db_default is not None else self.effective_default(field)
        if source is None:
            return ("%s", [default]) if default is not None else None
        src = self.quote_name(source)
        if not params.null:
            if params.db_default is not None:
                return f"coalesce({src}, {params.db_default})", []
            if default is not None:
                return f"coalesce({src}, %s)", [default]
        return src, []

    def rebuild(self, state: ProjectState, model: ModelState, reason: str = "table rebuild") -> None:
        """Rebuild ``model``'s table from its own definition (e.g. after a target's type changed)."""
        fields = {n: f for n, f in model.fields.items() if not f.many_to_many}
        self._rebuild(state, model, model, fields, self._plain_copy(fields), reason)

    # ------------------------------------------------------------------ fields

    def add_field(self, state: ProjectState, model: ModelState, field: Field) -> None:
        """ADD COLUMN for a nullable column without default; otherwise the rebuild."""
        if field.many_to_many:
            super().add_field(state, model, field)
            return
        params = self.column_params(state, model, field)
        plain = (
            not params.primary_key
            and not params.unique
            and self.effective_default(field) is None
            and (params.null or params.db_default is not None)
            and not is_db_expression(field.db_default)  # ADD COLUMN takes constant defaults only
        )
        if plain:
            fields = {n: f for n, f in model.fields.items() if not f.many_to_many}
            if self.table_is_empty(model.db_table) and recreate_empty_like_alter(
                self, state, model, fields, add_column=params.column
            ):
                # ADD COLUMN re-parses the whole schema (~1.5 ms with a few hundred tables).
                self.deferred_sql.extend(self.field_indexes_sql(state, model, field, params))
                return
            super().add_field(state, model, field)
            return
        fields = {n: (field if n == field.name else f) for n, f in model.fields.items() if not f.many_to_many}
        copy = self._plain_copy(fields, skip=field.name)
        fill = self._fill_expression(field, params, None)
        if fill is not None:
            copy[params.column] = fill
        old_model = model.clone()
        old_model.fields.pop(str(field.name), None)
        self._rebuild(state, model, old_model, fields, copy, f"adding column {params.column}")

    def remove_field(self, state: ProjectState, model: ModelState, field: Field) -> None:
        """DROP COLUMN when SQLite allows it for this column; otherwise the rebuild."""
        if field.many_to_many:
            super().remove_field(state, model, field)
            return
        params = self.column_params(state, model, field)
        in_meta = any(field.name in group for group in model.options.get("unique_together") or ()) or any(
            field.name in [f.lstrip("-") for f in getattr(i, "fields", ()) or ()]
            for i in list(model.options.get("indexes") or ()) + list(model.options.get("constraints") or ())
        )
        droppable = (
            self.connection.features.supports_drop_column
            and not params.primary_key
            and not params.unique
            and params.fk is None
            and not in_meta
        )
        if droppable:
            fields = {n: f for n, f in model.fields.items() if n != field.name and not f.many_to_many}
            if self.table_is_empty(model.db_table) and recreate_empty_like_alter(
                self, state, model, fields, drop_column=params.column
            ):
                return
            # DROP COLUMN refuses an indexed column: drop its own index first.
            if self.field_should_be_indexed(field, params):
                for name in self.plain_index_names(model, params.column):
                    self.execute(self._delete_index_sql(model.db_table, name))
            self.note("rewrite", model.db_table, f"DROP COLUMN {params.column} rewrites the table")
            super().remove_field(state, model, field)
            return
        fields = {n: f for n, f in model.fields.items() if n != field.name and not f.many_to_many}
        self.deferred_sql = [
            s
            for s in self.deferred_sql
            if not (isinstance(s, Statement) and s.references_column(model.db_table, params.column))
        ]
        self._rebuild(state, model, model, fields, self._plain_copy(fields), f"removing column {params.column}")

    def _alter_field(
        self,
        old_state: ProjectState,
        old_model: ModelState,
        old_field: Field,
        new_state: ProjectState,
        new_model: ModelState,
        new_field: Field,
        old_p: ColumnParams,
        new_p: ColumnParams,
    ) -> None:
        """RENAME COLUMN for a pure rename; anything else rebuilds the table (and, when a
        referenced key changes type, the tables whose foreign keys point at it).  (The
        base ``alter_field`` has resolved both columns and found them different.)"""
        table = new_model.db_table
        if dataclasses.replace(old_p, index=new_p.index) == new_p:  # only db_index: CREATE/DROP INDEX
            self.drop_field_indexes(new_model, old_field, old_p, new_field, new_p, False)
            self.add_field_indexes(new_model, old_field, old_p, new_field, new_p, False)
            return
        same_check = new_p.check if old_p.internal_type == new_p.internal_type else old_p.check
        renamed_only = dataclasses.replace(old_p, column=new_p.column, check=same_check) == new_p
        if renamed_only and old_p.fk is None and new_p.fk is None:
            # (Even on an empty table, which would be cheaper to recreate: the rebuild
            # would give the indexes new names, RENAME COLUMN keeps them, as Django does;
            # a foreign key column is renamed by the rebuild, as Django does too.)
            fields = {n: f for n, f in new_model.fields.items() if not f.many_to_many}
            if not (self.table_is_empty(table) and recreate_empty_like_alter(
                self, new_state, new_model, fields, rename=(old_p.column, new_p.column)
            )):
                self.execute(self.rename_column_sql(table, old_p.column, new_p.column, new_p))
            for sql in self.deferred_sql:
                if isinstance(sql, Statement):
                    sql.rename_column_references(table, old_p.column, new_p.column)
            return
        # Anything else rebuilds (another field class alone too, as Django does).
        fields = {
            n: (new_field if n == new_field.name else f) for n, f in new_model.fields.items() if not f.many_to_many
        }
        copy = self._plain_copy(fields, skip=new_field.name)
        fill = self._fill_expression(new_field, new_p, old_p.column)
        if fill is not None:
            copy[new_p.column] = fill
        self._rebuild(
            new_state, new_model, old_model, fields, copy, f"altering column {old_p.column}", old_state=old_state
        )
        # Tables whose FKs point here name this column and copy its type:
        # rebuild them when either changed (a RENAME COLUMN would have fixed the name).
        # (Django leaves them alone when only the related type changes -- SmallAutoField
        # to BigAutoField, both "integer" here; shoal keeps their declared type in step.)
        if (new_p.primary_key or new_p.unique) and (
            old_p.column != new_p.column
            or self._rel_type_of(old_state, old_model, old_field) != self._rel_type_of(new_state, new_model, new_field)
        ):
            done = {table}
            for rel_model, _rel_field in list(self.incoming_relations(new_state, new_model, str(new_field.name))):
                if rel_model.db_table not in done:
                    done.add(rel_model.db_table)
                    self.rebuild(new_state, rel_model, f"following the new type of {table}.{new_p.column}")

    # ------------------------------------------------------------------ tables

    def copy_m2m_table(self, old_through: ModelState, new_state: ProjectState, new_through: ModelState) -> None:
        """CREATE the new through table, INSERT ... SELECT the rows, DROP the old one."""
        qn = self.quote_name
        old_table, table = old_through.db_table, new_through.db_table
        self.create_model(new_state, new_through)
        pairs = list(zip(old_through.fields.values(), new_through.fields.values(), strict=True))
        self.execute(
            f"INSERT INTO {qn(table)} ({', '.join(qn(self.col(new)) for _, new in pairs)}) "
            f"SELECT {', '.join(qn(self.col(old)) for old, _ in pairs)} FROM {qn(old_table)}"
        )
        self.execute(self.sql_delete_table.format(table=qn(old_table)))
        self.deferred_sql = [
            s for s in self.deferred_sql if not (isinstance(s, Statement) and s.references_table(old_table))
        ]

    def alter_many_to_many(
        self,
        old_state: ProjectState,
        old_model: ModelState,
        old_field: Field,
        new_state: ProjectState,
        new_model: ModelState,
        new_field: Field,
    ) -> None:
        """An auto M2M table whose name changes is copied into a new table (as Django does)."""
        if old_field.many_to_many and new_field.many_to_many:
            old_t = self.auto_through_model(old_state, old_model, old_field)
            new_t = self.auto_through_model(new_state, new_model, new_field)
            if old_t is not None and new_t is not None and old_t.db_table != new_t.db_table:
                self.copy_m2m_table(old_t, new_state, new_t)
                return
        super().alter_many_to_many(old_state, old_model, old_field, new_state, new_model, new_field)

    def add_constraint(self, state: ProjectState, model: ModelState, constraint: Any) -> None:
        """A unique index is created; other constraints need a rebuild with the constraint in the model."""
        if hasattr(constraint, "create_sql") or (
            self.is_unique_constraint(constraint) and self.unique_is_index(constraint)
        ):
            super().add_constraint(state, model, constraint)
            return
        name = getattr(constraint, "name", None)
        new = model.clone()
        if all(getattr(c, "name", None) != name for c in new.options.get("constraints") or ()):
            new.options["constraints"] = list(new.options.get("constraints") or ()) + [constraint]
        self.rebuild(state, new, f"adding constraint {name or ''}".strip())

    def remove_constraint(self, state: ProjectState, model: ModelState, constraint: Any) -> None:
        """A unique index is dropped; other constraints need a rebuild without them."""
        if hasattr(constraint, "remove_sql") or (
            self.is_unique_constraint(constraint) and self.unique_is_index(constraint)
        ):
            super().remove_constraint(state, model, constraint)
            return
        new = model.clone()
        new.options["constraints"] = [
            c
            for c in model.options.get("constraints") or ()
            if getattr(c, "name", None) != getattr(constraint, "name", None)
        ]
        self.rebuild(state, new, f"removing constraint {getattr(constraint, 'name', '')}".strip())
