"""MySQL / MariaDB SQL snippets and value conversion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shoal.db.backends.base.operations import BaseDatabaseOperations
from shoal.db.url import NAME_LIMITS

if TYPE_CHECKING:
    from .connection import DatabaseWrapper

__all__ = ["DatabaseOperations"]


class DatabaseOperations(BaseDatabaseOperations):
    """MySQL: backtick quoting, 64-character names, ``LIKE BINARY`` for case-sensitive matches."""

    connection: DatabaseWrapper
    quote_char = "`"
    no_limit_value = "18446744073709551615"

    def max_name_length(self) -> int | None:
        """Identifiers are at most 64 characters."""
        return NAME_LIMITS["mysql"]

    def insert_default_values_sql(self, table: str) -> str:
        """MySQL spells DEFAULT VALUES as ``() VALUES ()``."""
        return f"INSERT INTO {self.quote_name(table)} () VALUES ()"

    def _like_sql(self, lhs: str) -> str:
        # The default collations are case-insensitive; BINARY compares bytes.
        return f"{lhs} LIKE BINARY %s"

    def _ilike_sql(self, lhs: str) -> str:
        return f"{lhs} LIKE %s"

    def regex_lookup(self, lhs: str, case_sensitive: bool = True) -> str:
        """REGEXP (MariaDB, PCRE) or REGEXP_LIKE with a match type (MySQL 8)."""
        if self.connection.is_mariadb:
            return f"{lhs} REGEXP BINARY %s" if case_sensitive else f"{lhs} REGEXP %s"
        return f"REGEXP_LIKE({lhs}, %s, '{'c' if case_sensitive else 'i'}')"

    def _quote_string(self, text: str) -> str:
        # Backslash is an escape character in MySQL string literals.
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def _bytes_literal(self, value: bytes) -> str:
        """``_binary'...'`` (the form Django's driver writes, so DDL defaults read
        back the same) for printable ASCII; ``X'hex'`` for anything else."""
        if all(32 <= b < 127 for b in value):
            return "_binary" + self._quote_string(value.decode("ascii"))
        return super()._bytes_literal(value)

    def _adapt_BooleanField(self, value: Any) -> Any:
        return int(bool(value))
