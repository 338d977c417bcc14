"""SQLite capabilities; version-dependent ones follow the linked sqlite3 library."""

from __future__ import annotations

from shoal.db.backends.base.features import BaseDatabaseFeatures

__all__ = ["DatabaseFeatures"]


class DatabaseFeatures(BaseDatabaseFeatures):
    """What SQLite can do (the library version is known without connecting)."""

    # DDL is transactional: a failed migration leaves no half-made table.
    can_rollback_ddl = True
    #: Consecutive atomic migrations share one transaction, each in its own
    #: savepoint (committed together; a failure keeps the ones before it).
    #: A COMMIT costs an fsync, the main cost of a long history on SQLite.
    #: Not on PostgreSQL: its DDL locks would be held across the whole batch.
    batch_migration_commits = True
    # Only RENAME TABLE / RENAME COLUMN / ADD COLUMN / DROP COLUMN exist; any
    # other change is a table rebuild.
    supports_alter_column = False
    # Constraints cannot be added to an existing table (rebuild instead).
    supports_add_constraint = False
    # Foreign keys may be DEFERRABLE INITIALLY DEFERRED (checked at COMMIT).
    can_defer_constraint_checks = True
    # DEFAULT in DDL cannot be a bound parameter; it must be a literal.
    requires_literal_defaults = True
    # No comments on tables or columns.
    supports_comments = False
    # SELECT ... FOR UPDATE does not exist (the whole database is locked).
    supports_select_for_update = False
    # No native uuid/json/interval/boolean types: text and integers.
    has_native_uuid_field = False
    has_native_json_field = False
    has_native_duration_field = False
    has_native_boolean_field = False
    # Datetimes are stored as naive UTC text.
    supports_timezones = False
    # REGEXP works through a Python function registered on connect.
    supports_regex = True

    @property
    def _version(self) -> tuple[int, ...]:
        return self.connection.server_version

    @property
    def can_return_columns_from_insert(self) -> bool:  # type: ignore[override]
        """INSERT ... RETURNING needs SQLite 3.35."""
        return self._version >= (3, 35)

    @property
    def supports_rename_column(self) -> bool:  # type: ignore[override]
        """ALTER TABLE ... RENAME COLUMN needs SQLite 3.25."""
        return self._version >= (3, 25)

    @property
    def supports_drop_column(self) -> bool:  # type: ignore[override]
        """ALTER TABLE ... DROP COLUMN is reliable from SQLite 3.35.5."""
        return self._version >= (3, 35, 5)

    @property
    def supports_update_conflicts(self) -> bool:  # type: ignore[override]
        """INSERT ... ON CONFLICT DO UPDATE needs SQLite 3.24."""
        return self._version >= (3, 24)

    @property
    def max_query_params(self) -> int:  # type: ignore[override]
        """SQLITE_MAX_VARIABLE_NUMBER: 999 before 3.32, 32766 after."""
        return 32766 if self._version >= (3, 32) else 999
