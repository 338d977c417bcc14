"""``alter_field`` for databases that can ALTER a column in place (PostgreSQL, MySQL).

SQLite overrides :meth:`AlterMixin.alter_field` with its table rebuild.  The
order of steps matters and is the same on every ALTER-capable backend:

1. drop what the change would break: the field's own FK, FKs pointing at it
   (when its type changes), its unique constraint, indexes and CHECK;
2. rename the column; change type / nullability / db_default (a NOT NULL
   change with a Python default first fills NULL rows with it);
3. recreate: primary key, unique, indexes, the related columns' types, the
   FKs dropped in step 1, the CHECK, the comment.

Steps that read or write every row (a type change that rewrites the table, a
NOT NULL that is checked on every row, a new CHECK or primary key) record the
backend's note for them first (``note_event``; see
:attr:`~.schema_constraints.ConstraintsMixin.statement_notes`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import FK_SUFFIX_RECREATED, ForeignKeyName, Statement
from shoal.exceptions import MigrationError
from shoal.models.fields import Field

from .schema_columns import ColumnParams

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["AlterMixin"]


class AlterMixin:
    """Field alteration by ALTER TABLE; relies on the editor's helpers."""

    connection: Any
    collect_sql: bool
    deferred_sql: list[Any]
    sql_alter_column: str
    sql_alter_column_type: str
    sql_alter_column_null: str
    sql_alter_column_not_null: str
    sql_alter_column_default: str
    sql_alter_column_no_default: str
    sql_rename_column: str
    sql_update_null_rows: str
    sql_create_check: str
    sql_delete_check: str
    sql_create_pk: str
    sql_delete_pk: str
    sql_delete_index: str
    sql_alter_column_comment: str | None

    # Provided by the editor / ColumnsMixin.
    quote_name: Any
    quote_value: Any
    execute: Any
    note: Any
    note_event: Any
    column_params: Any
    column_type: Any
    make_index_name: Any
    existing_names: Any
    fk_name: Any
    _delete_fk: Any
    _delete_unique: Any
    _create_fk_sql: Any
    _create_unique_sql: Any
    _create_index_sql: Any
    _delete_index_sql: Any
    _set_column_comment: Any
    effective_default: Any
    field_should_be_indexed: Any
    incoming_relations: Any
    auto_through_model: Any
    alter_db_table: Any
    collate_sql: Any

    # ------------------------------------------------------------------ entry

    def alter_field(
        self,
        old_state: ProjectState,
        old_model: ModelState,
        old_field: Field,
        new_state: ProjectState,
        new_model: ModelState,
        new_field: Field,
    ) -> None:
        """Change one column to match ``new_field`` (see the module docstring)."""
        if old_field.many_to_many or new_field.many_to_many:
            self.alter_many_to_many(old_state, old_model, old_field, new_state, new_model, new_field)
            return
        old_p = self.column_params(old_state, old_model, old_field)
        new_p = self.column_params(new_state, new_model, new_field)
        if old_p == new_p:
            return
        self._alter_field(old_state, old_model, old_field, new_state, new_model, new_field, old_p, new_p)

    def alter_many_to_many(
        self,
        old_state: ProjectState,
        old_model: ModelState,
        old_field: Field,
        new_state: ProjectState,
        new_model: ModelState,
        new_field: Field,
    ) -> None:
        """Auto M2M tables follow a renamed table/target; other changes are refused."""
        if not (old_field.many_to_many and new_field.many_to_many):
            raise MigrationError(
                f"Cannot alter field {new_model.label_lower}.{new_field.name} between a many-to-many "
                "relation and a column; remove the field and add a new one instead."
            )
        old_t = self.auto_through_model(old_state, old_model, old_field)
        new_t = self.auto_through_model(new_state, new_model, new_field)
        if old_t is None or new_t is None:
            if (old_t is None) != (new_t is None):
                raise MigrationError(
                    f"Cannot add or remove through= on {new_model.label_lower}.{new_field.name} with AlterField; "
                    "use SeparateDatabaseAndState or remove and re-add the field."
                )
            return
        if old_t.db_table != new_t.db_table:
            self.alter_db_table(new_state, new_t, old_t.db_table, new_t.db_table)
        moved = old_t.clone()
        moved.options["db_table"] = new_t.db_table
        pairs = zip(list(old_t.fields.values())[1:], list(new_t.fields.values())[1:], strict=True)
        for old_fk, new_fk in pairs:
            self.alter_field(old_state, moved, old_fk, new_state, new_t, new_fk)

    # ------------------------------------------------------------------ steps

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
        table = new_model.db_table
        old_col, new_col = old_p.column, new_p.column
        fks = bool(self.connection.features.supports_foreign_keys)
        type_changed = old_p.type != new_p.type or old_p.collation != new_p.collation
        check_changed = (old_p.check is None) != (new_p.check is None) or old_p.internal_type != new_p.internal_type

        # 1. drop what the change would break.  The field's own FK goes whenever
        # anything but the comment changes, and is made again under the name
        # of the new column and target (as Django does, e.g. on a rename).
        drop_fk = fks and old_p.fk is not None and dataclasses.replace(old_p, comment=new_p.comment) != new_p
        if drop_fk and not self._unqueue_fk(table, old_col):
            assert old_p.fk is not None
            for name in self.existing_names(
                table, self.fk_name(table, old_col, *old_p.fk), [old_col], foreign_key=True
            ):
                self._delete_fk(table, name)
        incoming: list[tuple[ModelState, Field]] = []
        rel_type_changed = (old_p.primary_key or old_p.unique) and (
            self._rel_type_of(old_state, old_model, old_field) != self._rel_type_of(new_state, new_model, new_field)
        )
        if (type_changed or rel_type_changed) and (old_p.primary_key or old_p.unique):
            incoming = list(self.incoming_relations(new_state, new_model, new_field.name))
            for rel_model, rel_field in incoming:
                if fks and getattr(rel_field, "db_constraint", True):
                    rel_table, rel_col = rel_model.db_table, rel_field.column
                    expected = self.fk_name(rel_table, rel_col, table, old_col)
                    if self._unqueue_fk(rel_table, rel_col):
                        continue
                    for name in self.existing_names(rel_table, expected, [rel_col], foreign_key=True):
                        self._delete_fk(rel_table, name)
        if old_p.unique and not new_p.unique:
            self.drop_unique(table, old_col, new_p)
        self.drop_field_indexes(old_model, old_field, old_p, new_field, new_p, type_changed)
        if old_p.check and check_changed:
            self.drop_column_check(table, old_col)

        # 2. the column itself
        if old_col != new_col:
            self.execute(self.rename_column_sql(table, old_col, new_col, new_p))
            for sql in self.deferred_sql:
                if isinstance(sql, Statement):
                    sql.rename_column_references(table, old_col, new_col)
        if old_p.primary_key and not new_p.primary_key:
            self.drop_primary_key(table)
        self.alter_column(table, old_field, new_field, old_p, new_p, type_changed)

        # 3. recreate
        if new_p.primary_key and not old_p.primary_key:
            self.note_event(
                "primary_key", table, name=self.make_index_name(table, [new_col], "_pk"), columns=new_col
            )
            self.execute(
                self.sql_create_pk.format(
                    table=self.quote_name(table),
                    name=self.quote_name(self.make_index_name(table, [new_col], "_pk")),
                    columns=self.quote_name(new_col),
                )
            )
        if new_p.unique and not old_p.unique:
            self.execute(self._create_unique_sql(table, [new_col]))
        self.add_field_indexes(new_model, old_field, old_p, new_field, new_p, type_changed)
        if incoming:
            old_rel_type = self._rel_type_of(old_state, old_model, old_field)
            for rel_model, rel_field in incoming:
                rel_new = self.column_params(new_state, rel_model, rel_field)
                rel_old = dataclasses.replace(rel_new, type=old_rel_type)
                if rel_old.type != rel_new.type:
                    self.alter_column(rel_model.db_table, rel_field, rel_field, rel_old, rel_new, True)
            for rel_model, rel_field in incoming:
                if fks and getattr(rel_field, "db_constraint", True):
                    self.execute(
                        self._create_fk_sql(rel_model.db_table, rel_field.column, table, new_col, FK_SUFFIX_RECREATED)
                    )
        if fks and new_p.fk is not None and (drop_fk or old_p.fk is None):
            self.execute(self._create_fk_sql(table, new_col, *new_p.fk))
        if (
            new_p.check
            and (check_changed or not old_p.check)
            and self.connection.features.supports_column_check_constraints
        ):
            self.add_column_check(table, new_p)
        if (
            old_p.comment != new_p.comment
            and self.sql_alter_column_comment
            and self.connection.features.supports_comments
            and not self.connection.features.supports_comments_inline
        ):
            self._set_column_comment(table, new_col, new_p.comment)

    def _unqueue_fk(self, table: str, column: str) -> bool:
        """Forget a not-yet-run creation of the FK on ``table.column`` (its table was
        created earlier in this migration); True if there was one.  The caller
        then makes the FK anew instead of dropping one the database lacks."""
        queued = [
            s
            for s in self.deferred_sql
            if isinstance(s, Statement)
            and isinstance(s.parts.get("name"), ForeignKeyName)
            and s.parts["name"].table == table
            and s.parts["name"].columns == [column]
        ]
        for statement in queued:
            self.deferred_sql.remove(statement)
        return bool(queued)

    def drop_column_check(self, table: str, column: str) -> None:
        """Drop the type's CHECK of ``column`` (named by the database when it was inline)."""
        for name in self.existing_names(
            table, self.inline_constraint_name(table, column, "check"), [column], check=True
        ):
            self.execute(self.sql_delete_check.format(table=self.quote_name(table), name=self.quote_name(name)))

    def add_column_check(self, table: str, params: ColumnParams) -> None:
        """Add the type's CHECK (e.g. ``>= 0``) to an existing column, as a named constraint."""
        assert params.check is not None
        name = self.make_index_name(table, [params.column], "_check")
        self.note_event("check", table, name=name)
        self.execute(
            self.sql_create_check.format(table=self.quote_name(table), name=self.quote_name(name), check=params.check)
        )

    def _rel_type_of(self, state: ProjectState, model: ModelState, field: Field) -> str:
        if field.is_relation:
            return str(self.column_type(state, model, field))
        return str(field.rel_db_type(self.connection))

    # ------------------------------------------------------------------ hooks

    def inline_constraint_name(self, table: str, column: str, kind: str) -> str:
        """The name the database gives an unnamed inline constraint (``pkey``,
        ``key`` for unique, ``check``); used only when SQL is collected."""
        return _pg_object_name(table, column, kind, self.connection.ops.max_name_length() or 63)

    def drop_unique(self, table: str, column: str, new_p: ColumnParams) -> None:
        """Drop the single-column unique constraint of ``column`` (``new_p``: the column after)."""
        names = self.existing_names(table, None, [column], unique=True, primary_key=False, foreign_key=False)
        if self.collect_sql:
            names = [self.inline_constraint_name(table, column, "key")]
        for name in names:
            self._delete_unique(table, name)

    def drop_primary_key(self, table: str) -> None:
        for name in self.existing_names(table, self.inline_constraint_name(table, "", "pkey"), primary_key=True):
            self.execute(self.sql_delete_pk.format(table=self.quote_name(table), name=self.quote_name(name)))

    def rename_column_sql(self, table: str, old: str, new: str, params: ColumnParams) -> str:
        return self.sql_rename_column.format(
            table=self.quote_name(table), old_column=self.quote_name(old), new_column=self.quote_name(new)
        )

    def plain_index_names(self, model: ModelState, column: str) -> list[str]:
        """Non-unique single-column indexes on ``column`` that belong to the field itself."""
        table = model.db_table
        expected = self.make_index_name(table, [column])
        if self.collect_sql:
            return [expected]
        found = self.connection.introspection.get_constraints(table)
        meta = {getattr(i, "name", None) for i in model.options.get("indexes") or ()}
        fk_names = {n for n, info in found.items() if info.foreign_key}
        if expected in found:
            return [expected]
        return sorted(
            n
            for n, info in found.items()
            if info.index
            and not info.unique
            and not info.primary_key
            and list(info.columns) == [column]
            and n not in meta
            and n not in fk_names
            and not n.endswith("_like")
        )

    def drop_field_indexes(
        self,
        model: ModelState,
        old_field: Field,
        old_p: ColumnParams,
        new_field: Field,
        new_p: ColumnParams,
        type_changed: bool,
    ) -> None:
        """Drop the field's own index when it stops being wanted."""
        if self.alter_wants_index(old_field, old_p) and not self.alter_wants_index(new_field, new_p):
            for name in self.plain_index_names(model, old_p.column):
                self.execute(self._delete_index_sql(model.db_table, name))

    def add_field_indexes(
        self,
        model: ModelState,
        old_field: Field,
        old_p: ColumnParams,
        new_field: Field,
        new_p: ColumnParams,
        type_changed: bool,
    ) -> None:
        """Create the field's own index when it becomes wanted."""
        if self.alter_wants_index(new_field, new_p) and not self.alter_wants_index(old_field, old_p):
            self.execute(self._create_index_sql(model.db_table, [new_p.column]))

    def alter_wants_index(self, field: Field, params: ColumnParams) -> bool:
        """Whether, across an AlterField, the column should have an index of its own
        (as when it is created, unless a backend keeps indexes differently)."""
        return bool(self.field_should_be_indexed(field, params))

    def type_change_rewrites(self, old_p: ColumnParams, new_p: ColumnParams) -> bool:
        """Whether changing ``old_p.type`` to ``new_p.type`` rewrites the table."""
        return True

    def note_type_change(self, table: str, old_p: ColumnParams, new_p: ColumnParams) -> None:
        """Before the ALTER that changes a column's type: note it when it rewrites the table."""
        if self.type_change_rewrites(old_p, new_p):
            self.note_event("type_rewrite", table, column=new_p.column, old=old_p.type, new=new_p.type)

    def alter_type_fragment(self, old_p: ColumnParams, new_p: ColumnParams) -> str:
        collation = self.collate_sql(new_p.collation) if new_p.collation else ""
        return self.sql_alter_column_type.format(
            column=self.quote_name(new_p.column), type=new_p.type, collation=collation, using=""
        )

    def after_data_update(self, table: str) -> None:
        """Hook after an UPDATE inside a migration (PostgreSQL fires deferred FK checks)."""

    def fill_nulls(self, table: str, new_field: Field, new_p: ColumnParams) -> bool:
        """Before a NOT NULL change: give NULL rows the new default. True if it ran."""
        col = self.quote_name(new_p.column)
        if new_p.db_default is not None:
            self.note_event("fill_nulls", table, column=new_p.column)
            self.execute(f"UPDATE {self.quote_name(table)} SET {col} = {new_p.db_default} WHERE {col} IS NULL")
        else:
            default = self.effective_default(new_field)
            if default is None:
                return False
            self.note_event("fill_nulls", table, column=new_p.column)
            self.execute(self.sql_update_null_rows.format(table=self.quote_name(table), column=col), [default])
        if not self.collect_sql:
            self.connection.mark_data_changed()
        self.after_data_update(table)
        return True

    def alter_column(
        self,
        table: str,
        old_field: Field,
        new_field: Field,
        old_p: ColumnParams,
        new_p: ColumnParams,
        type_changed: bool,
    ) -> None:
        """Type, db_default and nullability of one column (ALTER COLUMN ...)."""
        col = self.quote_name(new_p.column)
        actions: list[str] = []
        if type_changed:
            self.note_type_change(table, old_p, new_p)
            actions.append(self.alter_type_fragment(old_p, new_p))
        if old_p.db_default != new_p.db_default:
            if new_p.db_default is None:
                actions.append(self.sql_alter_column_no_default.format(column=col))
            else:
                actions.append(self.sql_alter_column_default.format(column=col, default=new_p.db_default))
        if old_p.null and not new_p.null:
            self._run_actions(table, actions)
            actions = []
            self.fill_nulls(table, new_field, new_p)
            self.note_event("not_null", table, column=new_p.column)
            actions.append(self.sql_alter_column_not_null.format(column=col))
        elif new_p.null and not old_p.null:
            actions.append(self.sql_alter_column_null.format(column=col))
        self._run_actions(table, actions)

    def _run_actions(self, table: str, actions: list[str]) -> None:
        if not actions:
            return
        if self.connection.features.supports_combined_alters:
            actions = [", ".join(actions)]
        for action in actions:
            self.execute(self.sql_alter_column.format(table=self.quote_name(table), changes=action))


def _pg_object_name(table: str, column: str, kind: str, max_length: int) -> str:
    """How PostgreSQL names an unnamed constraint: ``<table>_<column>_<kind>``,
    cutting the longer of table/column until it fits."""
    a, b = table, column
    while len(a) + len(b) + len(kind) + (2 if b else 1) > max_length:
        if len(a) >= len(b):
            a = a[:-1]
        else:
            b = b[:-1]
    return f"{a}_{b}_{kind}" if b else f"{a}_{kind}"
