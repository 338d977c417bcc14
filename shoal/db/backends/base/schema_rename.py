"""Renaming tables: ``RenameModel`` and ``AlterModelTable``, with everything
that names the table.

Split out of :mod:`.schema` to keep modules small; mixed into
:class:`~shoal.db.backends.base.schema.BaseDatabaseSchemaEditor`.

What follows a table rename is what Django does, so that a database migrated
by either tool has the same schema:

* ``AlterModelTable``: the table and the model's own auto many-to-many tables
  (``<table>_<field>``) are renamed.
* ``RenameModel``: the table is renamed; every foreign key that points at it
  is altered (its constraint is made again under a name that mentions the new
  table; on SQLite the table is rebuilt); auto many-to-many tables that point
  at it rename their column for it (``author_id`` -> ``writer_id``), and the
  model's own auto many-to-many tables are renamed too (SQLite copies their
  rows into a new table instead; see its ``alter_many_to_many``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import Statement, truncate_name

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["RenameMixin"]


class RenameMixin:
    """Table renames; relies on the editor's helpers."""

    connection: Any
    deferred_sql: list[Any]
    sql_rename_table: str

    quote_name: Any
    execute: Any
    alter_field: Any
    alter_many_to_many: Any
    auto_through_model: Any
    max_name_length: Any

    def rename_table(self, old_table: str, new_table: str) -> None:
        """``ALTER TABLE ... RENAME``; queued statements follow the new name."""
        if old_table == new_table or (
            self.connection.features.ignores_table_name_case and old_table.lower() == new_table.lower()
        ):
            return
        self.execute(
            self.sql_rename_table.format(old_table=self.quote_name(old_table), new_table=self.quote_name(new_table))
        )
        for sql in self.deferred_sql:
            if isinstance(sql, Statement):
                sql.rename_table_references(old_table, new_table)

    def alter_db_table(self, state: ProjectState, model: ModelState, old_table: str, new_table: str) -> None:
        """Rename a table and its own auto many-to-many tables (``state`` is the state after)."""
        self.rename_table(old_table, new_table)
        if old_table == new_table:
            return
        for field in model.fields.values():
            through = self.auto_through_model(state, model, field)
            if through is None or getattr(field, "db_table", None):
                continue
            old_through = truncate_name(f"{old_table}_{field.name}", self.max_name_length)
            self.rename_table(old_through, through.db_table)

    def rename_model(
        self, old_state: ProjectState, old_model: ModelState, new_state: ProjectState, new_model: ModelState
    ) -> None:
        """Rename the model's table and follow it everywhere (see the module docstring)."""
        self.rename_table(old_model.db_table, new_model.db_table)
        done: set[tuple[Any, str]] = set()
        for rel_model, rel_field in list(new_state.relations_to(new_model.app_label, new_model.name)):
            own = rel_model.key == new_model.key
            old_rel_model = old_model if own else old_state.get_model(*rel_model.key)
            old_rel_field = old_rel_model.fields[str(rel_field.name)]
            if rel_field.many_to_many:
                self.alter_many_to_many(old_state, old_rel_model, old_rel_field, new_state, rel_model, rel_field)
            else:
                self.alter_field(old_state, old_rel_model, old_rel_field, new_state, rel_model, rel_field)
            done.add((rel_model.key, str(rel_field.name)))
        for name, field in new_model.fields.items():
            old_field = old_model.fields.get(name)
            if field.many_to_many and old_field is not None and (new_model.key, name) not in done:
                self.alter_many_to_many(old_state, old_model, old_field, new_state, new_model, field)
