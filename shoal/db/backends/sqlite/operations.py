"""SQLite SQL snippets and value conversion (datetimes as naive-UTC text)."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from shoal.db.backends.base.operations import PATTERN_LOOKUPS, BaseDatabaseOperations

__all__ = ["DatabaseOperations"]


def glob_escape(value: str) -> str:
    """Escape GLOB metacharacters so ``value`` matches literally."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in value)


class DatabaseOperations(BaseDatabaseOperations):
    """SQLite: ``"`` quoting, LIKE with an explicit ESCAPE, GLOB for case-sensitive matches."""

    no_limit_value = "-1"
    like_escape_clause = " ESCAPE '\\'"

    def deferrable_sql(self) -> str:
        """Foreign keys are checked at COMMIT, so table rebuilds can reorder rows."""
        return " DEFERRABLE INITIALLY DEFERRED"

    def pattern_lookup(self, lookup: str, lhs: str, value: Any) -> tuple[str, list[Any]]:
        """SQLite's LIKE ignores ASCII case, so case-sensitive lookups use GLOB."""
        if lookup in PATTERN_LOOKUPS and not PATTERN_LOOKUPS[lookup][0]:
            _, pre, post = PATTERN_LOOKUPS[lookup]
            pattern = f"{'*' if pre else ''}{glob_escape(str(value))}{'*' if post else ''}"
            return f"{lhs} GLOB %s", [pattern]
        return super().pattern_lookup(lookup, lhs, value)

    def _ilike_sql(self, lhs: str) -> str:
        return f"{lhs} LIKE %s{self.like_escape_clause}"

    def regex_lookup(self, lhs: str, case_sensitive: bool = True) -> str:
        """Uses the REGEXP function the connection registers (Python ``re``)."""
        if case_sensitive:
            return f"{lhs} REGEXP %s"
        return f"{lhs} REGEXP ('(?i)' || %s)"

    # adapters: SQLite stores these as text
    def _adapt_DateTimeField(self, value: Any) -> Any:
        value = super()._adapt_DateTimeField(value)
        return value.isoformat(" ") if isinstance(value, datetime.datetime) else value

    def _adapt_DateField(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            value = value.date()
        return value.isoformat() if isinstance(value, datetime.date) else value

    def _adapt_TimeField(self, value: Any) -> Any:
        value = super()._adapt_TimeField(value)
        return value.isoformat() if isinstance(value, datetime.time) else value

    def _adapt_DecimalField(self, value: Any) -> Any:
        return str(value) if isinstance(value, decimal.Decimal) else value

    def _adapt_BooleanField(self, value: Any) -> Any:
        return int(bool(value))
