"""PostgreSQL SQL snippets and value conversion (native uuid/jsonb/interval)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from shoal.db.backends.base.operations import BaseDatabaseOperations, duration_microseconds
from shoal.db.url import NAME_LIMITS

__all__ = ["DatabaseOperations"]


class DatabaseOperations(BaseDatabaseOperations):
    """PostgreSQL: identifiers up to 63 bytes, ILIKE-free case folding, RETURNING."""

    def max_name_length(self) -> int | None:
        """NAMEDATALEN - 1: longer identifiers are silently truncated by the server."""
        return NAME_LIMITS["postgresql"]

    def last_insert_id(self, cursor: Any, table: str, pk_column: str) -> Any:
        """``currval`` of the column's identity/serial sequence (prefer RETURNING)."""
        cursor.execute("SELECT currval(pg_get_serial_sequence(%s, %s))", (self.quote_name(table), pk_column))
        return cursor.fetchone()[0]

    def sequence_reset_sql(self, table: str, column: str) -> list[str]:
        """Move the identity sequence past MAX(column) after rows were inserted with explicit ids."""
        qt, qc = self.quote_name(table), self.quote_name(column)
        return [
            f"SELECT setval(pg_get_serial_sequence({self._quote_string(qt)}, "
            f"{self._quote_string(column)}), COALESCE(MAX({qc}), 1), MAX({qc}) IS NOT NULL) FROM {qt}"
        ]

    def deferrable_sql(self) -> str:
        """Foreign keys are checked at COMMIT (as Django creates them)."""
        return " DEFERRABLE INITIALLY DEFERRED"

    def _like_sql(self, lhs: str) -> str:
        return f"{lhs}::text LIKE %s"

    def _ilike_sql(self, lhs: str) -> str:
        return f"UPPER({lhs}::text) LIKE UPPER(%s)"

    def regex_lookup(self, lhs: str, case_sensitive: bool = True) -> str:
        """POSIX regular expressions: ``~`` and ``~*``."""
        return f"{lhs}::text {'~' if case_sensitive else '~*'} %s"

    # literals
    def _bool_literal(self, value: bool) -> str:
        return "true" if value else "false"

    def _bytes_literal(self, value: bytes) -> str:
        return f"'\\x{value.hex()}'::bytea"

    def _duration_literal(self, value: datetime.timedelta) -> str:
        return f"'{duration_microseconds(value)} microseconds'::interval"

    def _uuid_text(self, value: uuid.UUID) -> str:
        return str(value)

    def _datetime_text(self, value: datetime.datetime) -> str:
        return value.isoformat(" ")

    # adapters: psycopg sends these natively
    def _adapt_UUIDField(self, value: Any) -> Any:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

    def _adapt_DurationField(self, value: Any) -> Any:
        return value if isinstance(value, datetime.timedelta) else datetime.timedelta(microseconds=int(value))

    def _adapt_DateTimeField(self, value: Any) -> Any:
        return value  # naive values are read as UTC: the session time zone is UTC

    def _adapt_TimeField(self, value: Any) -> Any:
        return value

    # converters
    def _convert_JSONField(self, value: Any) -> Any:
        return value  # psycopg already decoded jsonb
