"""From a queryset's description to SQL text and parameters.

:class:`Query` is what a queryset holds: the model, a ``Q`` tree, ordering
and limits; cheap to clone.  :class:`Compiler` turns one query into SQL for one
connection: it resolves ``author__name__icontains`` paths into joins and
columns, compiles ``Q`` trees and expressions, and writes SELECT statements.
Identifiers are always quoted and values always passed as parameters.

Which connection a query runs on is decided by :func:`get_connection`:
an explicit ``using()`` alias, else a connection bound for the current
context (:func:`bind_connection`, used around RunPython code so that
historical models share the migration's transaction), else the connection a
historical model's registry was given, else the router's choice.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterator

from shoal.exceptions import FieldDoesNotExist
from shoal.models.lookups import LOOKUPS, is_lookup, target_field
from shoal.models.query_utils import CombinedExpression, F, Q, Value

__all__ = ["Query", "Compiler", "get_connection", "bind_connection", "concrete"]

_bound: contextvars.ContextVar[Any] = contextvars.ContextVar("shoal_bound_connection", default=None)


@contextmanager
def bind_connection(connection: Any) -> Iterator[Any]:
    """Within the block, querysets without an explicit other alias use ``connection``.

    The migration executor wraps RunPython code in this with
    ``schema_editor.connection``, so historical models run inside the
    migration's own transaction rather than on a fresh connection.
    """
    token = _bound.set(connection)
    try:
        yield connection
    finally:
        _bound.reset(token)


def bound_connection() -> Any:
    """The connection bound by :func:`bind_connection`, or None."""
    return _bound.get()


def get_connection(model: Any, using: str | None = None, write: bool = False) -> Any:
    """The database wrapper a query on ``model`` runs on (see module docstring)."""
    bound = _bound.get()
    if bound is not None and (using is None or using == getattr(bound, "alias", None)):
        return bound
    registry_conn = getattr(getattr(model._meta, "apps", None), "connection", None)
    if registry_conn is not None and (using is None or using == getattr(registry_conn, "alias", None)):
        return registry_conn
    from shoal.db.connections import connections

    if using is None:
        router = _router()
        if router is not None:
            using = router.db_for_write(model) if write else router.db_for_read(model)
    return connections[using or "default"]


_routers: dict[tuple[Any, ...], Any] = {}


def _router() -> Any:
    """The configured routers (``[tool.shoal] routers``), or None when there are none."""
    from shoal.conf import settings

    if not settings.configured:
        return None
    names = tuple(settings.get().routers or ())
    if not names:
        return None
    router = _routers.get(names)
    if router is None:
        from shoal.db.router import ConnectionRouter

        router = _routers[names] = ConnectionRouter(list(names))
    return router


def concrete(model: Any) -> Any:
    """The model whose table holds the rows (proxies map to their concrete model)."""
    return model._meta.concrete_model or model


class Query:
    """The description of a queryset: filters, ordering, limits, distinct."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.where = Q()
        self.ordering: tuple[str, ...] | None = None  # None: the model's Meta.ordering
        self.low = 0
        self.high: int | None = None
        self.distinct = False
        self.empty = False

    def clone(self) -> "Query":
        new = Query.__new__(Query)
        new.__dict__.update(self.__dict__)
        new.where = self.where.copy()
        return new

    @property
    def is_sliced(self) -> bool:
        return self.low != 0 or self.high is not None

    def set_limits(self, low: int | None, high: int | None) -> None:
        """Narrow the limits the way a slice of a slice does."""
        if high is not None:
            self.high = min(self.high, self.low + high) if self.high is not None else self.low + high
        if low is not None:
            self.low = min(self.high, self.low + low) if self.high is not None else self.low + low

    def effective_ordering(self) -> tuple[str, ...]:
        if self.ordering is not None:
            return self.ordering
        return tuple(o for o in self.model._meta.ordering if isinstance(o, str))


@dataclass
class _Join:
    table: str
    alias: str
    parent_alias: str
    lhs_column: str
    rhs_column: str


@dataclass
class _Resolved:
    alias: str
    field: Any
    lookups: list[str]
    nullable: bool
    model: Any
    reverse: Any = None  # a ForeignObjectRel when the path crosses a reverse relation
    rest: list[str] = dc_field(default_factory=list)


class Compiler:
    """Turns one :class:`Query` into SQL for one connection."""

    def __init__(self, query: Query, connection: Any, depth: int = 0) -> None:
        self.query = query
        self.model = concrete(query.model)
        self.connection = connection
        self.qn = connection.ops.quote_name
        self.depth = depth
        self.prefix = "T" if depth == 0 else f"U{depth}_"
        self.base_alias = self.model._meta.db_table if depth == 0 else f"{self.prefix}0"
        self.joins: dict[tuple[str, str, str, str], _Join] = {}
        self.aliases = {self.base_alias}

    # -- tables ----------------------------------------------------------------

    def join(self, parent_alias: str, table: str, lhs_column: str, rhs_column: str) -> str:
        """Alias of ``table`` LEFT JOINed on ``parent.lhs = table.rhs`` (reused if present)."""
        key = (parent_alias, table, lhs_column, rhs_column)
        found = self.joins.get(key)
        if found is not None:
            return found.alias
        alias = table if (self.depth == 0 and table not in self.aliases) else f"{self.prefix}{len(self.aliases)}"
        self.aliases.add(alias)
        self.joins[key] = _Join(table, alias, parent_alias, lhs_column, rhs_column)
        return alias

    def field_alias(self, model: Any, alias: str, field: Any) -> str:
        """Alias of the table holding ``field`` when seen from ``model`` at ``alias``
        (a parent's table under multi-table inheritance)."""
        owner = concrete(field.model) if field.model is not None else model
        model = concrete(model)
        while owner is not model:
            for parent, link in model._meta.parents.items():
                parent = concrete(parent)
                if parent is owner or owner in parent._meta.get_parent_list():
                    alias = self.join(alias, parent._meta.db_table, link.column, parent._meta.pk.column)
                    model = parent
                    break
            else:
                return alias
        return alias

    def col(self, alias: str, field: Any) -> str:
        return f"{self.qn(alias)}.{self.qn(field.column)}"

    def prep(self, field: Any, value: Any) -> Any:
        """``value`` as the query parameter for ``field``'s column."""
        from shoal.models.lookups import db_value

        return db_value(field, value, self.connection)

    def from_sql(self) -> str:
        table = self.model._meta.db_table
        out = [self.qn(table) if self.base_alias == table else f"{self.qn(table)} {self.qn(self.base_alias)}"]
        for j in self.joins.values():
            name = self.qn(j.table) if j.alias == j.table else f"{self.qn(j.table)} {self.qn(j.alias)}"
            out.append(
                f"LEFT OUTER JOIN {name} ON ({self.qn(j.parent_alias)}.{self.qn(j.lhs_column)} = "
                f"{self.qn(j.alias)}.{self.qn(j.rhs_column)})"
            )
        return " ".join(out)

    # -- paths -----------------------------------------------------------------

    def resolve(self, path: str, allow_lookups: bool = True) -> _Resolved:
        """Follow ``author__name__icontains`` from the query's model."""
        parts = path.split("__")
        model, alias, nullable = self.model, self.base_alias, False
        i = 0
        field: Any = None
        while i < len(parts):
            name = parts[i]
            found = find_field(model, name)
            if found is None:
                if i == 0 or not allow_lookups or not is_lookup(name):
                    raise FieldDoesNotExist(_unknown_field_message(model, name, path))
                break
            if getattr(found, "is_reverse_relation", False):
                return _Resolved(alias, None, [], nullable, model, reverse=found, rest=parts[i + 1:])
            field = found
            i += 1
            if not _is_forward_fk(field) or i >= len(parts):
                break
            nxt = parts[i]
            if allow_lookups and is_lookup(nxt) and find_field(_related(field), nxt) is None:
                break  # author__in=[...]: a lookup on the local column
            tfield = target_field(field)
            if nxt in ("pk", tfield.name, tfield.attname):
                last = i + 1 >= len(parts)
                if last or (allow_lookups and len(parts) == i + 2 and is_lookup(parts[i + 1])):
                    i += 1  # author__id=...: the local column already holds the value
                    break
            owner_alias = self.field_alias(model, alias, field)
            target = concrete(_related(field))
            alias = self.join(owner_alias, target._meta.db_table, field.column, tfield.column)
            nullable = nullable or bool(field.null)
            model = target
            field = None
        if field is None:
            field = model._meta.pk
        alias = self.field_alias(model, alias, field)
        lookups = parts[i:]
        if lookups and not allow_lookups:
            raise FieldDoesNotExist(_unknown_field_message(model, lookups[0], path))
        if len(lookups) > 1:
            raise FieldDoesNotExist(f"Unsupported lookup '{'__'.join(lookups)}' in '{path}' on "
                                    f"{model._meta.object_name}.{field.name}; shoal's ORM has no transforms.")
        return _Resolved(alias, field, lookups, nullable, model)

    # -- conditions ------------------------------------------------------------

    def compile_where(self, q: Q, negated: bool = False) -> tuple[str, list[Any]]:
        """SQL for a ``Q`` tree ("" for "everything")."""
        neg = negated ^ q.negated
        pieces: list[str] = []
        params: list[Any] = []
        for child in q.children:
            if isinstance(child, Q):
                sql, p = self.compile_where(child, neg)
            else:
                key, value = child
                sql, p = self.compile_leaf(key, value, neg)
            if not sql:
                if q.connector == Q.OR:  # "everything" OR x is everything
                    pieces, params = [], []
                    break
                continue
            pieces.append(sql)
            params.extend(p)
        if not pieces:
            return ("1 = 0", []) if q.negated and q.children else ("", [])
        if q.connector == Q.XOR and len(pieces) > 1:
            summed = " + ".join(f"CASE WHEN {p} THEN 1 ELSE 0 END" for p in pieces)
            sql = f"(({summed}) %% 2 = 1)"
        elif len(pieces) == 1:
            sql = pieces[0]
        else:
            sql = "(" + f" {q.connector} ".join(pieces) + ")"
        if q.negated:
            sql = f"NOT ({sql})"
        return sql, params

    def compile_leaf(self, key: str, value: Any, negated: bool = False) -> tuple[str, list[Any]]:
        """SQL for one ``lookup=value`` pair."""
        res = self.resolve(key)
        if res.reverse is not None:
            return self._compile_reverse(res, value)
        name = res.lookups[0] if res.lookups else "exact"
        lhs = self.col(res.alias, res.field)
        sql, params = LOOKUPS[name](self, lhs, res.field, value)
        if negated and name != "isnull" and (res.field.null or res.nullable) and value is not None:
            # NOT (col = x) is unknown for NULL; Django-style exclude() keeps those rows.
            sql = f"({sql} AND {lhs} IS NOT NULL)"
        return sql, params

    def _compile_reverse(self, res: _Resolved, value: Any) -> tuple[str, list[Any]]:
        """``author.filter(book__title=x)`` -> ``author.pk IN (SELECT author_id FROM book WHERE ...)``."""
        rel = res.reverse
        fk = rel.field
        sub_model = concrete(fk.model)
        outer_field = target_field(fk)
        outer = self.col(self.field_alias(res.model, res.alias, outer_field), outer_field)
        rest = list(res.rest)
        if rest == ["isnull"]:
            if not isinstance(value, bool):
                raise ValueError(f"The __isnull lookup takes True or False, not {value!r}.")
            rest, value, invert = [], None, value
        else:
            invert = None
        if not rest or is_lookup(rest[0]) and find_field(sub_model, rest[0]) is None:
            rest = ["pk", *rest]
        sub = Compiler(Query(sub_model), self.connection, depth=self.depth + 1)
        fk_col = sub.col(sub.field_alias(sub_model, sub.base_alias, fk), fk)
        if invert is None:
            where, params = sub.compile_leaf("__".join(rest), value)
            where = f"{where} AND {fk_col} IS NOT NULL"
        else:
            where, params = f"{fk_col} IS NOT NULL", []
        sql = f"{outer} IN (SELECT {fk_col} FROM {sub.from_sql()} WHERE {where})"
        if invert:
            sql = f"NOT ({sql})"
        return sql, params

    def compile_expression(self, expr: Any, field: Any = None) -> tuple[str, list[Any]]:
        """SQL for ``F("x")``, ``Value(v)`` and their arithmetic."""
        if isinstance(expr, F):
            res = self.resolve(expr.name, allow_lookups=False)
            if res.reverse is not None:
                raise FieldDoesNotExist(f"F('{expr.name}') crosses a reverse relation, which shoal's ORM "
                                        "cannot use in an expression.")
            return self.col(res.alias, res.field), []
        if isinstance(expr, Value):
            return "%s", [self.prep(field, expr.value) if field is not None else expr.value]
        if isinstance(expr, CombinedExpression):
            lsql, lp = self.compile_expression(expr.lhs, field)
            rsql, rp = self.compile_expression(expr.rhs, field)
            op = "%%" if expr.connector == "%" else expr.connector
            return f"({lsql} {op} {rsql})", lp + rp
        raise TypeError(f"Cannot use {expr!r} as a query expression.")

    # -- ordering --------------------------------------------------------------

    def order_by_sql(self, ordering: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for item in ordering:
            self._order_item(item, out, set())
        return out

    def _order_item(self, item: str, out: list[str], seen: set[Any]) -> None:
        if item == "?":
            raise ValueError("Random ordering ('?') is not supported by shoal's ORM.")
        desc = item.startswith("-")
        name = item.lstrip("-+")
        res = self.resolve(name, allow_lookups=False)
        if res.reverse is not None:
            raise FieldDoesNotExist(f"Cannot order {self.model._meta.object_name} by '{name}': it crosses a "
                                    "reverse relation.")
        field = res.field
        if _is_forward_fk(field) and field.name == name.split("__")[-1]:
            target = concrete(_related(field))
            target_ordering = [o for o in target._meta.ordering if isinstance(o, str)]
            key = (target, name)
            if target_ordering and key not in seen:
                seen.add(key)
                for sub in target_ordering:
                    sub_desc = sub.startswith("-") != desc
                    self._order_item(("-" if sub_desc else "") + f"{name}__{sub.lstrip('-+')}", out, seen)
                return
        out.append(f"{self.col(res.alias, field)} {'DESC' if desc else 'ASC'}")

    # -- statements ------------------------------------------------------------

    def select_columns(self) -> list[tuple[str, Any]]:
        """``(attname, field)`` of every column a model instance is built from."""
        return [(f.attname, f) for f in self.model._meta.concrete_fields]

    def as_select(self, columns: list[str], with_limits: bool = True,
                  with_ordering: bool = True) -> tuple[str, list[Any]]:
        """``SELECT <columns> FROM ... WHERE ... ORDER BY ... LIMIT ...`` for this query.

        ``columns`` are SQL expressions already built with this compiler (so
        their joins are known); WHERE is compiled first for the same reason.
        """
        where, params = self.compile_where(self.query.where)
        if self.query.empty:
            where = "1 = 0"
            params = []
        order = self.order_by_sql(self.query.effective_ordering()) if with_ordering else []
        sql = ["SELECT", "DISTINCT" if self.query.distinct else "", ", ".join(columns), "FROM", self.from_sql()]
        if where:
            sql += ["WHERE", where]
        if order:
            sql += ["ORDER BY", ", ".join(order)]
        if with_limits and self.query.is_sliced:
            high = self.query.high
            sql.append(self.connection.ops.limit_offset_sql(
                None if high is None else high - self.query.low, self.query.low or None))
        return " ".join(s for s in sql if s), params


def _is_forward_fk(field: Any) -> bool:
    return bool(getattr(field, "is_relation", False)) and not getattr(field, "many_to_many", False) \
        and not getattr(field, "is_reverse_relation", False)


def _related(field: Any) -> Any:
    model = field.remote_field.model
    if isinstance(model, str):
        from shoal.models.related import unresolved_error

        raise unresolved_error(field)
    return model


def find_field(model: Any, name: str) -> Any:
    """The field (or reverse relation) ``name`` of ``model``; None if there is none."""
    from shoal.models.related import reverse_relations

    model = concrete(model)
    opts = model._meta
    if name == "pk":
        return opts.pk
    index = opts.__dict__.get("_shoal_field_index")
    if index is None or index[0] != len(opts.local_fields):
        names: dict[str, Any] = {}
        for f in opts.fields:
            names.setdefault(f.name, f)
        for f in opts.fields:
            names.setdefault(f.attname, f)
        index = (len(opts.local_fields), names)
        opts.__dict__["_shoal_field_index"] = index
    found = index[1].get(name)
    if found is not None:
        return found
    for f in opts.many_to_many:
        if f.name == name:
            raise FieldDoesNotExist(
                f"{opts.object_name}.{name} is a many-to-many field; shoal's ORM cannot query across it. "
                "Query the through model instead."
            )
    for candidate in [model, *opts.get_parent_list()]:
        for rel in reverse_relations(candidate):
            if getattr(rel, "query_name", None) == name:
                return rel
    return None


def _unknown_field_message(model: Any, name: str, path: str) -> str:
    from shoal.models.related import reverse_relations

    opts = concrete(model)._meta
    choices = sorted({f.name for f in opts.fields} | {"pk"} |
                     {r.query_name for r in reverse_relations(concrete(model)) if getattr(r, "query_name", None)})
    return (f"Cannot resolve keyword '{name}' into field of {opts.label} (in '{path}'). "
            f"Choices are: {', '.join(choices)}.")
