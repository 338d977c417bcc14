"""The ``shoal_migrations`` table: which migrations a database has applied.

One row per applied migration: id (big auto), app, name, applied (a UTC
timestamp), with a unique (app, name) so that even two processes that both
bypassed the migration lock cannot record one migration twice.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: reading the table needs neither (planning-performance work)
    from shoal.migrations.state import ModelState

Key = tuple[str, str]


class MigrationRecorder:
    """Reads and writes the applied-migrations table of one connection."""

    table = "shoal_migrations"

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._known_to_exist = False  # set once the table is there outside any transaction

    @classmethod
    def model_state(cls) -> ModelState:
        from shoal import models
        from shoal.migrations.state import ModelState

        return ModelState("shoal", "Migration", [
            ("id", models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")),
            ("app", models.CharField(max_length=255)),
            ("name", models.CharField(max_length=255)),
            ("applied", models.DateTimeField()),
        ], {"db_table": cls.table})

    def has_table(self) -> bool:
        return self.connection.introspection.has_table(self.table)

    def ensure_schema(self) -> None:
        """Create the table (and its unique index) if it does not exist yet.

        Once the table is known to exist outside a transaction (where no
        rollback can take it away) it is not looked up again: recording each of
        2,000 migrations would otherwise ask the catalog 2,000 times."""
        if self._known_to_exist:
            return
        if self.has_table():
            self._known_to_exist = not self.connection.in_atomic_block
            return
        from shoal.migrations.state import ProjectState

        model = self.model_state()
        state = ProjectState({model.key: model})
        quote = self.connection.ops.quote_name
        with self.connection.schema_editor(atomic=True) as editor:
            editor.create_model(state, model)
            editor.execute(
                f"CREATE UNIQUE INDEX {quote(self.table + '_app_name_uniq')} "
                f"ON {quote(self.table)} ({quote('app')}, {quote('name')})"
            )
        self._known_to_exist = not self.connection.in_atomic_block

    def applied_migrations(self) -> dict[Key, datetime.datetime | None]:
        """Applied migrations in the order they were applied (empty without the table)."""
        if not self.has_table():
            return {}
        quote = self.connection.ops.quote_name
        rows = self.connection.fetchall(
            f"SELECT {quote('app')}, {quote('name')}, {quote('applied')} FROM {quote(self.table)} ORDER BY {quote('id')}"
        )
        return {(app, name): applied for app, name, applied in rows}

    def applied_keys(self) -> set[Key]:
        """The applied migrations, without their times: what planning needs (a
        pure-Python driver spends as long converting 2,000 timestamps as reading them)."""
        if not self.has_table():
            return set()
        quote = self.connection.ops.quote_name
        rows = self.connection.fetchall(f"SELECT {quote('app')}, {quote('name')} FROM {quote(self.table)}")
        return {(app, name) for app, name in rows}

    def record_applied(self, app: str, name: str) -> None:
        self.ensure_schema()
        quote = self.connection.ops.quote_name
        now = datetime.datetime.now(datetime.timezone.utc)
        value = self.connection.ops.adapt_value(now, "DateTimeField")
        self.connection.execute(
            f"INSERT INTO {quote(self.table)} ({quote('app')}, {quote('name')}, {quote('applied')}) VALUES (%s, %s, %s)",
            [app, name, value],
        )

    def record_unapplied(self, app: str, name: str) -> None:
        self.ensure_schema()
        quote = self.connection.ops.quote_name
        self.connection.execute(
            f"DELETE FROM {quote(self.table)} WHERE {quote('app')} = %s AND {quote('name')} = %s", [app, name]
        )

    def flush(self) -> None:
        """Forget every applied migration (tests)."""
        if self.has_table():
            self.connection.execute(f"DELETE FROM {self.connection.ops.quote_name(self.table)}")
