"""Database functions for ``db_default``: ``Now``, ``Lower``, ``Upper``, ``Concat``.

Each renders the SQL Django writes for the same function on each backend, so
that a column default created by shoal reads back from the database exactly
as Django's does (the parity suite compares them)::

    created = models.DateTimeField(db_default=Now())
    code = models.CharField(max_length=10, db_default=Lower(Value("ABC")))

They are written into migrations as ``shoal.models.functions.Now()`` and so
on (see :mod:`shoal.models.expressions` for the mechanics).
"""

from __future__ import annotations

from typing import Any

from shoal.exceptions import ImproperlyConfigured
from shoal.models.expressions import Func, compile_expression, returns_text

__all__ = ["Now", "Lower", "Upper", "Concat"]


class Now(Func):
    """The current date and time, as of the statement that inserts the row.

    PostgreSQL ``STATEMENT_TIMESTAMP()`` (not ``NOW()``, the start of the
    transaction), MySQL/MariaDB ``CURRENT_TIMESTAMP(6)`` (microseconds, as
    ``datetime(6)`` columns keep), SQLite ``STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')``
    (UTC text with milliseconds, the format SQLite date columns hold); the SQL
    standard's ``CURRENT_TIMESTAMP`` elsewhere.
    """

    template = "CURRENT_TIMESTAMP"  # the SQL standard's, for any other backend

    def __init__(self) -> None:
        super().__init__()

    def as_postgresql(self, connection: Any) -> str:
        return "STATEMENT_TIMESTAMP()"

    def as_mysql(self, connection: Any) -> str:
        return "CURRENT_TIMESTAMP(6)"

    def as_sqlite(self, connection: Any) -> str:
        return "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')"


class Lower(Func):
    """Text in lower case: ``LOWER(expression)``."""

    function = "LOWER"
    returns_text = True

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)


class Upper(Func):
    """Text in upper case: ``UPPER(expression)``."""

    function = "UPPER"
    returns_text = True

    def __init__(self, expression: Any) -> None:
        super().__init__(expression)


class Concat(Func):
    """Two or more values joined as text, a NULL counting as empty text.

    Built, as Django builds it, from pairs nested to the right
    (``a, (b, c)``): ``COALESCE(a, '') || COALESCE(b, '')`` on SQLite and
    PostgreSQL (where a value that is not text is cast to text first) and
    ``CONCAT_WS('', a, b)`` on MySQL/MariaDB.
    """

    returns_text = True

    def __init__(self, *expressions: Any) -> None:
        if len(expressions) < 2:
            raise ImproperlyConfigured(
                f"Concat() needs at least two values to join, got {len(expressions)}; "
                "use the value itself (or Value(...)) for one."
            )
        super().__init__(*expressions)

    def _pairs(self) -> _ConcatPair:
        exprs = self.source_expressions
        pair = _ConcatPair(exprs[-2], exprs[-1])
        for expr in reversed(exprs[:-2]):
            pair = _ConcatPair(expr, pair)
        return pair

    def as_sql(self, connection: Any) -> str:
        """The nested pairs' SQL (see the class docstring)."""
        return self._pairs().as_sql(connection)


class _ConcatPair(Func):
    """Two values joined; only :class:`Concat` builds these (it is never serialized)."""

    returns_text = True

    def __init__(self, left: Any, right: Any) -> None:
        super().__init__(left, right)

    def _coalesced(self, connection: Any, cast_to_text: bool) -> str:
        parts = []
        for expr in self.source_expressions:
            sql = compile_expression(expr, connection, owner=self)
            if cast_to_text and not returns_text(expr):
                sql = f"({sql})::text"
            parts.append(f"COALESCE({sql}, '')")
        return "(" + " || ".join(parts) + ")"

    def as_default(self, connection: Any) -> str:
        return self._coalesced(connection, cast_to_text=False)

    def as_postgresql(self, connection: Any) -> str:
        # PostgreSQL's || has no implicit cast to text from other types.
        return self._coalesced(connection, cast_to_text=True)

    def as_mysql(self, connection: Any) -> str:
        return self.render(connection, template="CONCAT_WS('', {expressions})")
