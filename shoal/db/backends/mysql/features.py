"""MySQL / MariaDB capabilities; many depend on which server and which version.

Before connecting, the server is assumed to be the newest MariaDB shoal knows
(or what the URL option ``server_version`` says, e.g. ``8.0-mysql``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shoal.db.backends.base.features import BaseDatabaseFeatures

if TYPE_CHECKING:
    from .connection import DatabaseWrapper

__all__ = ["DatabaseFeatures"]


class DatabaseFeatures(BaseDatabaseFeatures):
    """What MySQL and MariaDB can do."""

    connection: DatabaseWrapper

    # DDL commits implicitly: a failed migration cannot be rolled back.
    can_rollback_ddl = False
    # No CREATE INDEX ... WHERE.
    supports_partial_indexes = False
    # Django writes ``active = 1`` here, not ``active``.
    supports_boolean_expr_in_where = False
    # Column and table COMMENT '...', written inline in the definition.
    supports_comments = True
    supports_comments_inline = True
    # InnoDB checks foreign keys per statement; no DEFERRABLE.
    can_defer_constraint_checks = False
    # A column without NOT NULL is nullable; "NULL" need not be written.
    implied_column_null = True
    # InnoDB creates an index for every foreign key that has none.
    indexes_foreign_keys = True
    # A foreign key column must match the referenced column's type exactly
    # (signedness included), so FKs to PositiveIntegerField are UNSIGNED too.
    related_fields_match_type = True
    # TEXT/BLOB columns need a prefix length to be indexed.
    supports_index_on_text_field = False
    # "integer UNSIGNED" etc. exist and are enforced.
    supports_unsigned_integers = True
    # Datetimes are stored naive (shoal writes UTC).
    supports_timezones = False
    # BOOL is TINYINT(1): values come back as 0/1.
    has_native_boolean_field = False
    # No native interval: DurationField is a bigint of microseconds.
    has_native_duration_field = False
    # Parameters are interpolated client-side by PyMySQL: no bind limit.
    max_query_params = None

    @property
    def _mariadb(self) -> bool:
        return self.connection.is_mariadb

    def _at_least(self, mariadb: tuple[int, ...] | None, mysql: tuple[int, ...] | None) -> bool:
        wanted = mariadb if self._mariadb else mysql
        return wanted is not None and self.connection.server_version >= wanted

    @property
    def supports_index_column_ordering(self) -> bool:  # type: ignore[override]
        """DESC index columns are honoured from MySQL 8.0.1 and MariaDB 10.8."""
        return self._at_least((10, 8), (8, 0, 1))

    @property
    def supports_column_check_constraints(self) -> bool:  # type: ignore[override]
        """CHECK is enforced from MySQL 8.0.16 and MariaDB 10.2.1."""
        return self._at_least((10, 2, 1), (8, 0, 16))

    @property
    def supports_table_check_constraints(self) -> bool:  # type: ignore[override]
        """Same versions as column CHECKs."""
        return self.supports_column_check_constraints

    @property
    def can_return_columns_from_insert(self) -> bool:  # type: ignore[override]
        """INSERT ... RETURNING exists on MariaDB 10.5+ only."""
        return self._at_least((10, 5), None)

    @property
    def has_native_uuid_field(self) -> bool:  # type: ignore[override]
        """MariaDB 10.7 added the UUID type."""
        return self._at_least((10, 7), None)

    @property
    def has_native_json_field(self) -> bool:  # type: ignore[override]
        """MySQL has a real JSON type; MariaDB's JSON is LONGTEXT with a JSON_VALID check."""
        return not self._mariadb

    @property
    def supports_expression_defaults(self) -> bool:  # type: ignore[override]
        """DEFAULT (expr) from MySQL 8.0.13 and MariaDB 10.2.1."""
        return self._at_least((10, 2, 1), (8, 0, 13))

    @property
    def supports_expression_indexes(self) -> bool:  # type: ignore[override]
        """Functional key parts exist on MySQL 8.0.13+, not on MariaDB."""
        return self._at_least(None, (8, 0, 13))

    @property
    def supports_select_for_update_skip_locked(self) -> bool:  # type: ignore[override]
        """SKIP LOCKED from MySQL 8.0.1 and MariaDB 10.6."""
        return self._at_least((10, 6), (8, 0, 1))

    @property
    def supports_rename_column(self) -> bool:  # type: ignore[override]
        """ALTER TABLE ... RENAME COLUMN from MySQL 8.0.3 and MariaDB 10.5.2 (else CHANGE)."""
        return self._at_least((10, 5, 2), (8, 0, 3))
