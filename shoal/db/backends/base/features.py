"""What a database can do, as data: one boolean (or number) per capability.

Code outside ``db/backends/`` asks ``connection.features.<flag>`` instead of
testing the vendor.  Flags that depend on the server version are properties
in the backend subclasses; they read ``connection.server_version``, which is
the real version once connected and the newest known version before (so
collect-only SQL needs no server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import BaseDatabaseWrapper

__all__ = ["BaseDatabaseFeatures"]


class BaseDatabaseFeatures:
    """Capabilities shared by default; backends override what differs."""

    # --- transactions -------------------------------------------------------
    # BEGIN/COMMIT/ROLLBACK work at all.
    supports_transactions = True
    # SAVEPOINT / ROLLBACK TO SAVEPOINT work (nested atomic blocks).
    uses_savepoints = True
    # DDL inside a transaction is undone by ROLLBACK (transactional DDL), so a
    # migration can run in one transaction.
    can_rollback_ddl = False
    #: Apply consecutive atomic migrations in one transaction, a savepoint each.
    batch_migration_commits = False

    # --- DDL capabilities ---------------------------------------------------
    # After a column is dropped or renamed the connection may keep serving the
    # old definition from a cache (SQLite prepared statements); callers should
    # reconnect before reading the schema back.
    connection_persists_old_columns = False
    # CREATE INDEX ... WHERE <condition>.
    supports_partial_indexes = True
    # A boolean column alone is a condition (``WHERE "active"``, ``CHECK (NOT "flag")``);
    # else it is compared with 1/0, as Django writes it for that backend.
    supports_boolean_expr_in_where = True
    # ASC/DESC per index column is honoured.
    supports_index_column_ordering = True
    # Indexes on expressions (CREATE INDEX ... ((lower(name)))).
    supports_expression_indexes = True
    # Column and table comments (COMMENT ON / COMMENT '...').
    supports_comments = False
    # A column definition may carry its comment inline (MySQL).
    supports_comments_inline = False
    # CHECK on a column definition is enforced.
    supports_column_check_constraints = True
    # Table-level CHECK constraints are enforced.
    supports_table_check_constraints = True
    # INSERT ... RETURNING <columns>.
    can_return_columns_from_insert = False
    # Foreign keys exist and are enforced.
    supports_foreign_keys = True
    # Foreign keys can be created DEFERRABLE INITIALLY DEFERRED.
    can_defer_constraint_checks = False
    # UNIQUE constraints can be DEFERRABLE.
    supports_deferrable_unique_constraints = False
    # Several changes can go in one ALTER TABLE statement.
    supports_combined_alters = False
    # ALTER TABLE can change an existing column's type/null/default in place.
    supports_alter_column = True
    # ALTER TABLE ... RENAME COLUMN.
    supports_rename_column = True
    # ALTER TABLE ... DROP COLUMN.
    supports_drop_column = True
    # ALTER TABLE ... ADD CONSTRAINT (SQLite must rebuild the table instead).
    supports_add_constraint = True
    # Column DEFAULTs in DDL must be literals, not query parameters.
    requires_literal_defaults = False
    # A column without NOT NULL accepts NULL (so "NULL" need not be written).
    implied_column_null = False
    # Empty strings are stored as NULL (Oracle); never true for shoal's backends.
    interprets_empty_strings_as_nulls = False
    # Creating a foreign key also creates an index on its column (InnoDB).
    indexes_foreign_keys = False
    # DEFAULT (expression) in a column definition.
    supports_expression_defaults = True
    # Column types can carry a collation.
    supports_collation_on_charfield = True
    # varchar without a length is allowed (PostgreSQL).
    supports_unlimited_charfield = False
    # Text/blob columns can be indexed without a prefix length.
    supports_index_on_text_field = True
    # Unsigned integer column types exist.
    supports_unsigned_integers = False
    # Identity/auto-increment columns are made by a type suffix, not a type.
    has_identity_suffix = False
    # Table names are compared case-insensitively on this server.
    ignores_table_name_case = False

    # --- column types -------------------------------------------------------
    # A native uuid column type exists (values go in and out as UUIDs).
    has_native_uuid_field = False
    # A native JSON type exists (validated, stored as JSON, not text).
    has_native_json_field = False
    # A native interval type exists for DurationField.
    has_native_duration_field = False
    # A native boolean type exists (values come back as bool, not 0/1).
    has_native_boolean_field = False
    # Datetimes carry a time zone in the database (timestamp with time zone).
    supports_timezones = False
    # A foreign key column must have exactly the type of the column it
    # references (e.g. "integer UNSIGNED" -> "integer UNSIGNED").
    related_fields_match_type = False

    # --- queries ------------------------------------------------------------
    # SELECT ... FOR UPDATE.
    supports_select_for_update = True
    # SELECT ... FOR UPDATE SKIP LOCKED.
    supports_select_for_update_skip_locked = False
    # INSERT ... ON CONFLICT DO NOTHING / INSERT IGNORE.
    supports_ignore_conflicts = True
    # UPDATE ... ... upsert.
    supports_update_conflicts = True
    # More than one row in one INSERT ... VALUES.
    has_bulk_insert = True
    # Largest number of parameters one statement may carry (None: unlimited).
    max_query_params: int | None = None
    # Regex lookups are available (REGEXP / ~).
    supports_regex = True

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    @property
    def supports_transactional_ddl(self) -> bool:
        """Alias of ``can_rollback_ddl`` (Django spells it both ways)."""
        return self.can_rollback_ddl
