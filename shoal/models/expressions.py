"""Database expressions that a column's ``db_default`` can be.

``models.DateTimeField(db_default=Now())`` asks the database itself to fill
the column, so its value is computed by the server when a row is inserted
without it.  Such a default has to be (1) written into a migration file and
compared between two states -- so every expression is
:func:`~shoal.deconstruct.deconstructible` and compares by its constructor
arguments -- and (2) turned into the SQL of each backend, which is what
:meth:`Func.as_sql` does.

A function is a :class:`Func` subclass naming its SQL ``function`` (or a
``template``); a backend that spells it differently is served by an
``as_<vendor>`` method on the subclass (``as_postgresql``, ``as_mysql``,
``as_sqlite``), chosen by :meth:`Func.as_sql` from ``connection.vendor``.
Arguments are other functions, ``Value(x)`` (a literal, quoted by the
connection's ``ops.quote_value``) or plain non-string Python values (taken
as ``Value``).  A plain string argument means a column, as in Django, and a
column default cannot read other columns, so it is refused when the SQL is
made, with the fix in the message.

The SQL made here is final text with literals inlined (DDL takes no
parameters): run it without a parameter list, because a ``%`` in it (SQLite's
``STRFTIME('%Y...')``) is a literal percent sign.

:class:`~shoal.models.query_utils.Value` is the ORM's own value wrapper,
reused here so that ``Value`` means one thing everywhere.
"""

from __future__ import annotations

from typing import Any

from shoal.deconstruct import deconstructible
from shoal.exceptions import ImproperlyConfigured
from shoal.models.query_utils import CombinedExpression, F, Value

__all__ = ["Func", "Value", "compile_expression", "is_db_expression", "returns_text"]


@deconstructible
class Func:
    """An SQL function of other expressions: ``LOWER('ABC')``, ``STATEMENT_TIMESTAMP()``.

    Subclasses set ``function`` (and ``template``/``arg_joiner`` when the SQL
    is not ``NAME(a, b)``); per-backend spellings go in ``as_<vendor>``
    methods.  Two functions are equal when they are of the same class and
    were built with equal arguments, which is what keeps the autodetector
    from seeing a change on every run.
    """

    function: str = ""
    template: str = "{function}({expressions})"
    arg_joiner: str = ", "
    #: Whether the SQL value is text (PostgreSQL's ``||`` casts the rest to text).
    returns_text: bool = False

    def __init__(self, *expressions: Any) -> None:
        self.source_expressions: list[Any] = [_as_expression(e) for e in expressions]

    # -- SQL -----------------------------------------------------------------

    def as_sql(self, connection: Any) -> str:
        """This expression as SQL text for ``connection``'s database.

        A subclass's ``as_<vendor>(connection)`` method wins when it has one
        (``connection.vendor`` is "sqlite", "postgresql" or "mysql", the
        latter for MariaDB too); otherwise :meth:`as_default`.
        """
        vendor_sql = getattr(self, f"as_{connection.vendor}", None)
        if vendor_sql is not None:
            return str(vendor_sql(connection))
        return self.as_default(connection)

    def as_default(self, connection: Any) -> str:
        """The SQL of backends without their own ``as_<vendor>``: :meth:`render`."""
        return self.render(connection)

    def render(
        self,
        connection: Any,
        *,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
    ) -> str:
        """Fill ``template`` with ``function`` and the arguments' SQL (overrides for ``as_<vendor>``)."""
        joiner = self.arg_joiner if arg_joiner is None else arg_joiner
        args = joiner.join(compile_expression(e, connection, owner=self) for e in self.source_expressions)
        return (self.template if template is None else template).format(
            function=self.function if function is None else function, expressions=args
        )

    # -- identity ------------------------------------------------------------

    def _identity(self) -> tuple[Any, ...]:
        _path, args, kwargs = self.deconstruct()  # type: ignore[attr-defined]
        return (type(self), tuple(args), tuple(sorted(kwargs.items())))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Func):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        kind, args, kwargs = self._identity()
        try:
            return hash((kind, args, kwargs))
        except TypeError:  # an unhashable literal argument (a list): equal objects still hash equal
            return hash((kind, repr(args), repr(kwargs)))

    def __repr__(self) -> str:
        args, kwargs = getattr(self, "_constructor_args", ((), {}))
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
        return f"{type(self).__name__}({', '.join(parts)})"


def _as_expression(value: Any) -> Any:
    """An argument as an expression: a string names a column (``F``), another literal is a ``Value``."""
    if isinstance(value, (Func, Value, F, CombinedExpression)) or callable(getattr(value, "as_sql", None)):
        return value
    if isinstance(value, str):
        return F(value)
    return Value(value)


def is_db_expression(value: Any) -> bool:
    """Whether ``value`` (a ``db_default``) is an expression the database computes,
    as opposed to a literal or a ``Value`` wrapping one.  Such a default is not
    a constant: SQLite's ``ADD COLUMN`` refuses it on a table that has rows."""
    if isinstance(value, Value):
        return False
    return isinstance(value, (Func, F, CombinedExpression)) or callable(getattr(value, "as_sql", None))


def returns_text(expression: Any) -> bool:
    """Whether ``expression``'s SQL value is text (a string ``Value`` or a text function)."""
    if isinstance(expression, Value):
        return isinstance(expression.value, str)
    return bool(getattr(expression, "returns_text", False))


def compile_expression(expression: Any, connection: Any, owner: Any = None) -> str:
    """SQL text for one expression on ``connection``: ``Value`` as a quoted
    literal, anything with ``as_sql(connection)`` through it.

    Column references (``F("x")``, a string argument) and arithmetic cannot be
    part of a column default; they raise :class:`~shoal.exceptions.ImproperlyConfigured`
    naming the expression (and ``owner``, the function it is an argument of).
    """
    if isinstance(expression, Value):
        return str(connection.ops.quote_value(expression.value))
    problem = _problem(expression, owner)
    if problem is not None:
        raise ImproperlyConfigured(problem)
    return str(expression.as_sql(connection))


def _problem(expression: Any, owner: Any = None) -> str | None:
    """Why ``expression`` (an argument of ``owner``) cannot be part of a column
    default, or None when it can (its own arguments are checked as it renders)."""
    where = f" in {owner!r}" if owner is not None else ""
    if isinstance(expression, F):
        return (f"{expression!r}{where} refers to the column {expression.name!r}, and a database default "
                f"cannot read other columns. If you meant the text, wrap it: models.Value({expression.name!r}).")
    if isinstance(expression, CombinedExpression):
        return (f"{expression!r}{where}: arithmetic (+, -, *, /) is not supported in a database default yet; "
                "compute the value in Python and use a literal, or use a function such as Concat.")
    if not callable(getattr(expression, "as_sql", None)):
        return f"{expression!r}{where} is not a database expression; use models.Value(...) for a literal."
    return None


def default_problems(expression: Any) -> list[str]:
    """Everything that keeps ``expression`` from being a column default, found
    without a database (for ``shoal check``): column references, arithmetic."""
    if isinstance(expression, Value):
        return []
    problems: list[str] = []
    pending: list[tuple[Any, Any]] = [(expression, None)]
    while pending:
        current, owner = pending.pop()
        if isinstance(current, Value):
            continue
        problem = _problem(current, owner)
        if problem is not None:
            problems.append(problem)
        elif isinstance(current, Func):
            pending.extend((source, current) for source in reversed(current.source_expressions))
    return problems
