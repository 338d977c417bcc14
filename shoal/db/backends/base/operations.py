"""SQL snippets and value conversions that differ per database.

``connection.ops`` is what the ORM, the schema editors and the recorder ask
for anything vendor-specific in SQL text (quoting, LIMIT, LIKE patterns,
literals for collect-only SQL) and for converting values to and from the
database (``adapt_value`` / ``convert_value``, keyed by field internal type).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shoal.exceptions import DatabaseError

if TYPE_CHECKING:
    import uuid

    from .connection import BaseDatabaseWrapper

__all__ = [
    "BaseDatabaseOperations",
    "split_placeholders",
    "PATTERN_LOOKUPS",
    "naive_utc",
    "duration_microseconds",
]

UTC = datetime.timezone.utc

#: lookup -> (case_insensitive, prefix wildcard, suffix wildcard)
PATTERN_LOOKUPS: dict[str, tuple[bool, bool, bool]] = {
    "iexact": (True, False, False),
    "contains": (False, True, True),
    "icontains": (True, True, True),
    "startswith": (False, False, True),
    "istartswith": (True, False, True),
    "endswith": (False, True, False),
    "iendswith": (True, True, False),
}


@lru_cache(maxsize=1024)
def split_placeholders(sql: str) -> tuple[str, ...]:
    """Split SQL written with ``%s`` placeholders into the literal pieces between them.

    ``%%`` becomes ``%``; any other ``%x`` is an error (so ``%(name)s`` or a
    stray percent cannot silently go wrong).  ``len(result) - 1`` is the
    number of placeholders.
    """
    pieces: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "%":
            nxt = sql[i + 1] if i + 1 < n else ""
            if nxt == "s":
                pieces.append("".join(buf))
                buf = []
            elif nxt == "%":
                buf.append("%")
            else:
                raise DatabaseError(
                    f"Bad placeholder '%{nxt}' at position {i} in SQL {sql[:200]!r}: write %s "
                    "for a parameter and %% for a literal percent sign."
                )
            i += 2
            continue
        buf.append(ch)
        i += 1
    pieces.append("".join(buf))
    return tuple(pieces)


class BaseDatabaseOperations:
    """Vendor-specific SQL text and value conversion; one instance per connection."""

    quote_char = '"'
    #: LIMIT value meaning "no limit" where OFFSET needs a LIMIT (None: not needed).
    no_limit_value: str | None = None
    #: Escape clause appended to LIKE when the backend has no default escape char.
    like_escape_clause = ""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    # -- names ---------------------------------------------------------------

    def quote_name(self, name: str) -> str:
        """Quote an identifier (embedded quote characters are doubled)."""
        q = self.quote_char
        return f"{q}{name.replace(q, q + q)}{q}"

    def max_name_length(self) -> int | None:
        """Longest identifier the database keeps (None: no practical limit)."""
        return None

    # -- inserts -------------------------------------------------------------

    def return_insert_columns(self, columns: Sequence[str]) -> str:
        """``RETURNING "a", "b"`` text to append to an INSERT ("" if unsupported)."""
        if not columns or not self.connection.features.can_return_columns_from_insert:
            return ""
        return "RETURNING " + ", ".join(self.quote_name(c) for c in columns)

    def last_insert_id(self, cursor: Any, table: str, pk_column: str) -> Any:
        """The primary key of the row the last INSERT on ``cursor`` created."""
        return cursor.lastrowid

    def insert_default_values_sql(self, table: str) -> str:
        """An INSERT of one row with every column at its default."""
        return f"INSERT INTO {self.quote_name(table)} DEFAULT VALUES"

    def bulk_batch_size(self, n_fields: int, n_objs: int) -> int:
        """How many rows to put in one multi-row INSERT without passing the param limit."""
        limit = self.connection.features.max_query_params
        if not limit or n_fields <= 0:
            return max(n_objs, 1)
        return max(1, min(n_objs, limit // n_fields))

    def sequence_reset_sql(self, table: str, column: str) -> list[str]:
        """SQL that moves an identity/serial counter past the largest existing value."""
        return []

    def deferrable_sql(self) -> str:
        """Suffix that makes a foreign key checked at COMMIT ("" if unsupported)."""
        return ""

    # -- queries -------------------------------------------------------------

    def limit_offset_sql(self, limit: int | None, offset: int | None) -> str:
        """``LIMIT n OFFSET m`` text (ints validated and inlined)."""
        parts = []
        if limit is not None:
            parts.append(f"LIMIT {int(limit)}")
        if offset:
            if limit is None and self.no_limit_value is not None:
                parts.append(f"LIMIT {self.no_limit_value}")
            parts.append(f"OFFSET {int(offset)}")
        return " ".join(parts)

    def like_escape(self, value: str) -> str:
        """Escape ``\\``, ``%`` and ``_`` so ``value`` matches literally in LIKE."""
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def _like_pattern(self, lookup: str, value: str) -> str:
        _, pre, post = PATTERN_LOOKUPS[lookup]
        return f"{'%' if pre else ''}{self.like_escape(value)}{'%' if post else ''}"

    def pattern_lookup(self, lookup: str, lhs: str, value: Any) -> tuple[str, list[Any]]:
        """SQL and params for ``iexact``/``[i]contains``/``[i]startswith``/``[i]endswith``.

        ``lhs`` is the already-quoted column expression, ``value`` the raw
        Python value (escaped here).  Case-sensitive lookups really are
        case-sensitive on every backend.
        """
        if lookup not in PATTERN_LOOKUPS:
            raise ValueError(f"{lookup!r} is not a pattern lookup; expected one of {sorted(PATTERN_LOOKUPS)}")
        insensitive = PATTERN_LOOKUPS[lookup][0]
        pattern = self._like_pattern(lookup, str(value))
        if insensitive:
            return self._ilike_sql(lhs), [pattern]
        return self._like_sql(lhs), [pattern]

    def _like_sql(self, lhs: str) -> str:
        return f"{lhs} LIKE %s{self.like_escape_clause}"

    def _ilike_sql(self, lhs: str) -> str:
        return f"UPPER({lhs}) LIKE UPPER(%s){self.like_escape_clause}"

    def regex_lookup(self, lhs: str, case_sensitive: bool = True) -> str:
        """``lhs`` matched against one ``%s`` regular-expression parameter."""
        raise NotImplementedError

    # -- literals (collect-only SQL, literal defaults) -----------------------

    def quote_value(self, value: Any) -> str:
        """A SQL literal for ``value``, for SQL shown to people or DDL defaults."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self._bool_literal(value)
        if isinstance(value, enum.Enum):
            return self.quote_value(value.value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return self._quote_string(repr(value))
            return repr(value)
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._bytes_literal(bytes(value))
        if isinstance(value, datetime.timedelta):
            return self._duration_literal(value)
        if is_uuid(value):
            return self._quote_string(self._uuid_text(value))
        if isinstance(value, datetime.datetime):
            return self._quote_string(self._datetime_text(value))
        if isinstance(value, (datetime.date, datetime.time)):
            return self._quote_string(value.isoformat())
        if isinstance(value, (dict, list)):
            import json

            return self._quote_string(json.dumps(value))
        return self._quote_string(str(value))

    def _quote_string(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def _bool_literal(self, value: bool) -> str:
        return "1" if value else "0"

    def _bytes_literal(self, value: bytes) -> str:
        return f"X'{value.hex()}'"

    def _duration_literal(self, value: datetime.timedelta) -> str:
        return str(duration_microseconds(value))

    def _uuid_text(self, value: uuid.UUID) -> str:
        return value.hex

    def _datetime_text(self, value: datetime.datetime) -> str:
        return naive_utc(value).isoformat(" ")

    def compose_sql(self, sql: str, params: Sequence[Any] | None) -> str:
        """Inline ``params`` into ``sql`` as literals (display only, never executed)."""
        if params is None:
            return sql
        pieces = split_placeholders(sql)
        values = list(params)
        if len(values) != len(pieces) - 1:
            raise DatabaseError(
                f"SQL has {len(pieces) - 1} placeholders but {len(values)} parameters were given: {sql[:200]!r}"
            )
        out = [pieces[0]]
        for value, piece in zip(values, pieces[1:], strict=True):
            out.append(self.quote_value(value))
            out.append(piece)
        return "".join(out)

    # -- values in and out ---------------------------------------------------

    def adapt_value(self, value: Any, internal_type: str) -> Any:
        """Python value -> what to send as a parameter for a column of that field type."""
        if value is None:
            return None
        method = getattr(self, f"_adapt_{internal_type}", None)
        return method(value) if method is not None else value

    def convert_value(self, value: Any, internal_type: str, *, decimal_places: int | None = None) -> Any:
        """Database value -> Python value for a field of ``internal_type``.

        DateTimeField values come back timezone-aware in UTC on every backend.
        """
        if value is None:
            return None
        if internal_type == "DecimalField":
            return self._convert_decimal(value, decimal_places)
        method = getattr(self, f"_convert_{internal_type}", None)
        return method(value) if method is not None else value

    # adapters (shared defaults: text-based storage as on SQLite/MySQL)
    def _adapt_JSONField(self, value: Any) -> Any:
        import json

        return json.dumps(value)

    def _adapt_UUIDField(self, value: Any) -> Any:
        return _as_uuid(value).hex

    def _adapt_DurationField(self, value: Any) -> Any:
        return duration_microseconds(value) if isinstance(value, datetime.timedelta) else int(value)

    def _adapt_DateTimeField(self, value: Any) -> Any:
        return naive_utc(value) if isinstance(value, datetime.datetime) else value

    def _adapt_TimeField(self, value: Any) -> Any:
        if isinstance(value, datetime.time) and value.utcoffset() is not None:
            raise DatabaseError(
                f"{self.connection.display_name} cannot store the timezone-aware time {value!r}; use a naive time."
            )
        return value

    def _adapt_BinaryField(self, value: Any) -> Any:
        return bytes(value)

    def _adapt_GenericIPAddressField(self, value: Any) -> Any:
        return str(value)

    def _adapt_BooleanField(self, value: Any) -> Any:
        return bool(value)

    # converters
    def _convert_BooleanField(self, value: Any) -> Any:
        return bool(value)

    def _convert_UUIDField(self, value: Any) -> Any:
        return _as_uuid(value)

    def _convert_decimal(self, value: Any, places: int | None) -> decimal.Decimal:
        if isinstance(value, decimal.Decimal):
            result = value
        elif isinstance(value, float):
            result = decimal.Decimal(repr(value))
        else:
            result = decimal.Decimal(str(value))
        if places is not None:
            result = result.quantize(decimal.Decimal(1).scaleb(-places))
        return result

    def _convert_DateTimeField(self, value: Any) -> Any:
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def _convert_DateField(self, value: Any) -> Any:
        if isinstance(value, str):
            return datetime.date.fromisoformat(value[:10])
        if isinstance(value, datetime.datetime):
            return value.date()
        return value

    def _convert_TimeField(self, value: Any) -> Any:
        if isinstance(value, str):
            return datetime.time.fromisoformat(value)
        if isinstance(value, datetime.timedelta):
            return (datetime.datetime.min + value).time()
        return value

    def _convert_DurationField(self, value: Any) -> Any:
        if isinstance(value, datetime.timedelta):
            return value
        return datetime.timedelta(microseconds=int(value))

    def _convert_JSONField(self, value: Any) -> Any:
        if isinstance(value, (str, bytes, bytearray)):
            import json

            return json.loads(value)
        return value

    def _convert_BinaryField(self, value: Any) -> Any:
        return bytes(value) if isinstance(value, (memoryview, bytearray)) else value

    def _convert_GenericIPAddressField(self, value: Any) -> Any:
        return str(value)

    def _convert_FloatField(self, value: Any) -> Any:
        return float(value)


def is_uuid(value: Any) -> bool:
    """``isinstance(value, uuid.UUID)`` without importing :mod:`uuid` (it loads
    :mod:`platform`: milliseconds of every command): before the module is
    imported, no UUID can exist."""
    module = sys.modules.get("uuid")
    return module is not None and isinstance(value, module.UUID)


def _as_uuid(value: Any) -> uuid.UUID:
    import uuid

    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return uuid.UUID(bytes=bytes(value))
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if isinstance(value, int):
        return uuid.UUID(int=value)
    return uuid.UUID(str(value))


def duration_microseconds(value: datetime.timedelta) -> int:
    """A timedelta as whole microseconds (how SQLite and MySQL store DurationField)."""
    return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds


def naive_utc(value: datetime.datetime) -> datetime.datetime:
    """Aware datetimes become naive UTC; naive ones are taken to be UTC already."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(tzinfo=None)
