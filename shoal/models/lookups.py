"""Field lookups: ``title__icontains="x"`` -> SQL text plus parameters.

Each lookup is a function ``(compiler, lhs_sql, field, value) -> (sql, params)``
where ``lhs_sql`` is the quoted column and ``value`` the raw Python value (or
an ``F`` expression).  Values always travel as parameters; the text around
them comes from ``connection.ops`` where databases differ (LIKE patterns,
regular expressions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from shoal.models.query_utils import CombinedExpression, F, Value

if TYPE_CHECKING:
    from shoal.models.sql import Compiler

Lookup = Callable[["Compiler", str, Any, Any], tuple[str, list[Any]]]

__all__ = ["LOOKUPS", "is_lookup", "db_value", "target_field"]


def target_field(field: Any) -> Any:
    """The field a foreign key's column holds values of (``to_field`` or the pk)."""
    model = field.remote_field.model
    if isinstance(model, str):
        from shoal.models.related import unresolved_error

        raise unresolved_error(field)
    opts = model._meta.concrete_model._meta
    name = field.remote_field.field_name
    if name:
        return opts.get_field(name)
    return opts.pk


def _is_fk(field: Any) -> bool:
    return bool(getattr(field, "is_relation", False)) and not getattr(field, "many_to_many", False)


def db_value(field: Any, value: Any, connection: Any) -> Any:
    """A Python value as the parameter for ``field``'s column on ``connection``.

    Model instances stand for their key; a foreign key's value is prepared as
    the field it points at (so a UUID key is sent as the backend stores UUIDs).
    """
    while _is_fk(field):
        target = target_field(field)
        if hasattr(value, "_meta"):
            value = getattr(value, target.attname)
        field = target
    if hasattr(value, "_meta"):
        value = value.pk
    return field.get_db_prep_value(value, connection)


def _rhs(compiler: "Compiler", field: Any, value: Any) -> tuple[str, list[Any]]:
    if isinstance(value, (F, CombinedExpression, Value)):
        return compiler.compile_expression(value, field)
    return "%s", [compiler.prep(field, value)]


def _comparison(op: str) -> Lookup:
    def lookup(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
        if value is None:
            raise ValueError(f"Cannot use None as a query value with the '{op}' comparison on "
                             f"'{getattr(field, 'name', field)}'; use __isnull=True to match NULL.")
        sql, params = _rhs(compiler, field, value)
        return f"{lhs} {op} {sql}", params

    return lookup


def _exact(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return f"{lhs} IS NULL", []
    sql, params = _rhs(compiler, field, value)
    return f"{lhs} = {sql}", params


def _isnull(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
    if not isinstance(value, bool):
        raise ValueError(f"The __isnull lookup takes True or False, not {value!r}.")
    return (f"{lhs} IS NULL" if value else f"{lhs} IS NOT NULL"), []


def _in(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
    subquery = getattr(value, "_as_subquery", None)
    if subquery is not None:
        sql, params = subquery(compiler)
        return f"{lhs} IN ({sql})", params
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"The __in lookup needs a list of values, not {value!r}.")
    values = [v for v in value if v is not None]
    if not values:
        return "1 = 0", []  # nothing can match an empty list
    params: list[Any] = []
    seen: set[Any] = set()
    for item in values:
        prepared = compiler.prep(field, item)
        try:
            if prepared in seen:
                continue
            seen.add(prepared)
        except TypeError:
            pass
        params.append(prepared)
    return f"{lhs} IN ({', '.join(['%s'] * len(params))})", params


def _range(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"The __range lookup needs a (low, high) pair, not {value!r}.") from None
    return f"{lhs} BETWEEN %s AND %s", [compiler.prep(field, low), compiler.prep(field, high)]


def _pattern(name: str) -> Lookup:
    def lookup(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
        if value is None:
            if name == "iexact":
                return f"{lhs} IS NULL", []
            raise ValueError(f"Cannot use None with the __{name} lookup on '{getattr(field, 'name', field)}'.")
        sql, params = compiler.connection.ops.pattern_lookup(name, lhs, value)
        return sql, list(params)

    return lookup


def _regex(case_sensitive: bool) -> Lookup:
    def lookup(compiler: "Compiler", lhs: str, field: Any, value: Any) -> tuple[str, list[Any]]:
        return compiler.connection.ops.regex_lookup(lhs, case_sensitive), [str(value)]

    return lookup


LOOKUPS: dict[str, Lookup] = {
    "exact": _exact,
    "iexact": _pattern("iexact"),
    "contains": _pattern("contains"),
    "icontains": _pattern("icontains"),
    "startswith": _pattern("startswith"),
    "istartswith": _pattern("istartswith"),
    "endswith": _pattern("endswith"),
    "iendswith": _pattern("iendswith"),
    "in": _in,
    "gt": _comparison(">"),
    "gte": _comparison(">="),
    "lt": _comparison("<"),
    "lte": _comparison("<="),
    "isnull": _isnull,
    "range": _range,
    "regex": _regex(True),
    "iregex": _regex(False),
}


def is_lookup(name: str) -> bool:
    """True if ``name`` is a lookup (``icontains``), not a field name."""
    return name in LOOKUPS
