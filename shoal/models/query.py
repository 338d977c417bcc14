"""``QuerySet``: a lazy, chainable description of rows of one model.

Nothing touches the database until a queryset is iterated, counted, sliced
with an index, or asked to change rows.  Each chaining method returns a new
queryset; the original is unchanged.  SQL is built by
:mod:`shoal.models.sql`; rows are saved and deleted through
:mod:`shoal.models.persistence` and :mod:`shoal.models.deletion`.
"""

from __future__ import annotations

from typing import Any, Iterator

from shoal.exceptions import FieldDoesNotExist, IntegrityError
from shoal.models.lookups import db_value
from shoal.models.query_utils import CombinedExpression, F, Q, Value
from shoal.models.sql import Compiler, Query, bind_connection, concrete, get_connection

__all__ = ["QuerySet"]

MAX_GET_RESULTS = 21
REPR_OUTPUT_SIZE = 20
DEFAULT_CHUNK_SIZE = 2000


class QuerySet:
    """Rows of ``model`` matching filters, in an order, optionally sliced."""

    def __init__(self, model: Any = None, query: Query | None = None, using: str | None = None) -> None:
        self.model = model
        self.query = query or Query(model)
        self._db = using
        self._result_cache: list[Any] | None = None
        self._fields: tuple[str, ...] | None = None
        self._kind = "models"  # "models", "dicts", "tuples" or "flat"

    @classmethod
    def as_manager(cls) -> Any:
        """A manager whose querysets are this class (``objects = MyQuerySet.as_manager()``)."""
        from shoal.models.manager import Manager

        manager = Manager.from_queryset(cls)()
        manager._built_with_as_manager = True
        return manager

    # -- plumbing ----------------------------------------------------------------

    @property
    def db(self) -> str:
        """Alias of the database this queryset reads (the bound connection's, if any)."""
        return get_connection(self.model, self._db).alias

    @property
    def connection(self) -> Any:
        return get_connection(self.model, self._db)

    def _write_connection(self) -> Any:
        return get_connection(self.model, self._db, write=True)

    def _clone(self) -> "QuerySet":
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new.query = self.query.clone()
        new._result_cache = None
        return new

    def _not_sliced(self, what: str) -> None:
        if self.query.is_sliced:
            raise TypeError(f"Cannot {what} a query once a slice has been taken.")

    def _fetch_all(self) -> list[Any]:
        if self._result_cache is None:
            self._result_cache = list(self._iterate())
        return self._result_cache

    # -- python protocol -----------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fetch_all())

    def __len__(self) -> int:
        return len(self._fetch_all())

    def __bool__(self) -> bool:
        return bool(self._fetch_all())

    def __repr__(self) -> str:
        data = list(self[:REPR_OUTPUT_SIZE + 1]) if self._result_cache is None else self._result_cache
        items = [repr(x) for x in data[:REPR_OUTPUT_SIZE]]
        if len(data) > REPR_OUTPUT_SIZE:
            items.append("...(remaining elements truncated)...")
        return f"<{type(self).__name__} [{', '.join(items)}]>"

    def __getitem__(self, k: int | slice) -> Any:
        if not isinstance(k, (int, slice)):
            raise TypeError(f"QuerySet indices must be integers or slices, not {type(k).__name__}.")
        if (isinstance(k, int) and k < 0) or (isinstance(k, slice) and (
                (k.start is not None and k.start < 0) or (k.stop is not None and k.stop < 0))):
            raise ValueError("Negative indexing is not supported.")
        if self._result_cache is not None:
            return self._result_cache[k]
        if isinstance(k, slice):
            if k.step not in (None, 1):
                raise ValueError("Slicing a QuerySet with a step is not supported.")
            qs = self._clone()
            qs.query.set_limits(k.start, k.stop)
            return qs
        qs = self._clone()
        qs.query.set_limits(k, k + 1)
        rows = qs._fetch_all()
        if not rows:
            raise IndexError(f"{self.model._meta.object_name} queryset index {k} out of range.")
        return rows[0]

    # -- chaining --------------------------------------------------------------------

    def all(self) -> "QuerySet":
        """A copy (re-evaluated when iterated)."""
        return self._clone()

    def none(self) -> "QuerySet":
        """A queryset matching no rows (never queries)."""
        qs = self._clone()
        qs.query.empty = True
        return qs

    def filter(self, *args: Any, **kwargs: Any) -> "QuerySet":
        """Rows matching every condition (``Q`` objects and ``lookup=value``)."""
        return self._filter(False, args, kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> "QuerySet":
        """Rows not matching the conditions taken together."""
        return self._filter(True, args, kwargs)

    def _filter(self, negate: bool, args: tuple[Any, ...], kwargs: dict[str, Any]) -> "QuerySet":
        self._not_sliced("filter")
        for arg in args:
            if not isinstance(arg, Q):
                raise TypeError(f"filter()/exclude() positional arguments must be Q objects, not {arg!r}.")
        q = Q(*args, **kwargs)
        qs = self._clone()
        if q:
            qs.query.where.add(~q if negate else q)
        return qs

    def order_by(self, *fields: str) -> "QuerySet":
        """Order by fields; ``"-name"`` descends, ``"author__name"`` follows a relation."""
        self._not_sliced("reorder")
        for f in fields:
            if not isinstance(f, str):
                raise TypeError(f"order_by() takes field names, not {f!r}.")
        qs = self._clone()
        qs.query.ordering = tuple(fields)
        return qs

    def reverse(self) -> "QuerySet":
        """The same rows in the opposite order."""
        qs = self._clone()
        ordering = self.query.effective_ordering() or ("pk",)
        qs.query.ordering = tuple(o[1:] if o.startswith("-") else f"-{o}" for o in ordering)
        return qs

    def distinct(self) -> "QuerySet":
        qs = self._clone()
        qs.query.distinct = True
        return qs

    def using(self, alias: str | None) -> "QuerySet":
        """The same query on another database alias."""
        qs = self._clone()
        qs._db = alias
        return qs

    def values(self, *fields: str) -> "QuerySet":
        """Rows as dicts of the given fields (all concrete fields when none are given)."""
        return self._values(fields, "dicts")

    def values_list(self, *fields: str, flat: bool = False) -> "QuerySet":
        """Rows as tuples; ``flat=True`` with one field gives plain values."""
        if flat and len(fields) != 1:
            raise TypeError("'flat' is only valid when values_list is called with exactly one field.")
        return self._values(fields, "flat" if flat else "tuples")

    def _values(self, fields: tuple[str, ...], kind: str) -> "QuerySet":
        qs = self._clone()
        if not fields:
            fields = tuple(f.attname for f in concrete(self.model)._meta.concrete_fields)
        qs._fields = fields
        qs._kind = kind
        return qs

    # -- reading -----------------------------------------------------------------------

    def _compile(self, conn: Any) -> tuple[Compiler, list[tuple[str, Any, str]]]:
        """A compiler and the selected ``(key, field, sql)`` columns."""
        compiler = Compiler(self.query, conn)
        columns: list[tuple[str, Any, str]] = []
        if self._kind == "models":
            for attname, field in compiler.select_columns():
                alias = compiler.field_alias(compiler.model, compiler.base_alias, field)
                columns.append((attname, field, compiler.col(alias, field)))
        else:
            for name in self._fields or ():
                res = compiler.resolve(name, allow_lookups=False)
                if res.reverse is not None:
                    raise FieldDoesNotExist(f"values() cannot follow the reverse relation in '{name}'.")
                columns.append((name, res.field, compiler.col(res.alias, res.field)))
        return compiler, columns

    def _iterate(self, chunk_size: int | None = None) -> Iterator[Any]:
        if self.query.empty:
            return
        conn = self.connection
        compiler, columns = self._compile(conn)
        sql, params = compiler.as_select([c[2] for c in columns])
        converters = [_converter(field, conn) for _, field, _ in columns]
        keys = [c[0] for c in columns]
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                rows = cursor.fetchmany(chunk_size or DEFAULT_CHUNK_SIZE)
                if not rows:
                    break
                for row in rows:
                    values = [conv(v) for conv, v in zip(converters, row)]
                    yield self._make(keys, values, conn)

    def _make(self, keys: list[str], values: list[Any], conn: Any) -> Any:
        kind = self._kind
        if kind == "models":
            obj = self.model.from_db(dict(zip(keys, values)))
            obj._state.db = conn.alias
            return obj
        if kind == "dicts":
            return dict(zip(keys, values))
        if kind == "flat":
            return values[0]
        return tuple(values)

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        """Stream the rows, fetching ``chunk_size`` at a time, without caching them."""
        if chunk_size is not None and chunk_size <= 0:
            raise ValueError("Chunk size must be strictly positive.")
        return self._iterate(chunk_size)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The one row matching; ``Model.DoesNotExist`` / ``MultipleObjectsReturned`` otherwise."""
        qs = self.filter(*args, **kwargs) if (args or kwargs) else self._clone()
        if not qs.query.is_sliced:
            qs.query.ordering = ()
            qs.query.set_limits(None, MAX_GET_RESULTS)
        rows = qs._fetch_all()
        name = self.model._meta.object_name
        described = _describe(args, kwargs)
        if not rows:
            raise self.model.DoesNotExist(f"{name} matching query does not exist ({described}).")
        if len(rows) > 1:
            count = f"{len(rows)}" if len(rows) < MAX_GET_RESULTS else f"more than {MAX_GET_RESULTS - 1}"
            raise self.model.MultipleObjectsReturned(
                f"get() returned more than one {name} -- it returned {count} ({described})."
            )
        return rows[0]

    def count(self) -> int:
        """How many rows match (``SELECT COUNT(*)``)."""
        if self._result_cache is not None:
            return len(self._result_cache)
        if self.query.empty:
            return 0
        if self.query.is_sliced or self.query.distinct or self._kind != "models":
            return len(self._clone()._fetch_all())
        conn = self.connection
        compiler = Compiler(self.query, conn)
        sql, params = compiler.as_select(["COUNT(*)"], with_limits=False, with_ordering=False)
        row = conn.fetchone(sql, params)
        return int(row[0]) if row else 0

    def exists(self) -> bool:
        """True if any row matches (fetches at most one)."""
        if self._result_cache is not None:
            return bool(self._result_cache)
        if self.query.empty:
            return False
        qs = self._clone()
        qs.query.ordering = ()
        if not qs.query.is_sliced:
            qs.query.set_limits(None, 1)
            conn = qs.connection
            compiler = Compiler(qs.query, conn)
            sql, params = compiler.as_select(["1"])
            return conn.fetchone(sql, params) is not None
        return bool(qs._fetch_all())

    def first(self) -> Any:
        """The first row in order (by pk when unordered), or None."""
        qs = self if self.query.effective_ordering() else self.order_by("pk")
        rows = list(qs[:1])
        return rows[0] if rows else None

    def last(self) -> Any:
        """The last row in order (by pk when unordered), or None."""
        qs = self.reverse() if self.query.effective_ordering() else self.order_by("-pk")
        rows = list(qs[:1])
        return rows[0] if rows else None

    def in_bulk(self, id_list: Any = None) -> dict[Any, Any]:
        """``{pk: instance}`` for the given keys (or every row)."""
        qs = self.filter(pk__in=list(id_list)) if id_list is not None else self
        return {obj.pk: obj for obj in qs}

    # -- writing -----------------------------------------------------------------------

    def create(self, **kwargs: Any) -> Any:
        """Build, insert and return a new instance."""
        obj = self.model(**kwargs)
        obj.save(force_insert=True, using=self._db)
        return obj

    def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Any, bool]:
        """``(instance, created)``: the matching row, or a new one built from kwargs and defaults."""
        try:
            return self.get(**kwargs), False
        except self.model.DoesNotExist:
            pass
        params = {k: v for k, v in kwargs.items() if "__" not in k}
        params.update({k: (v() if callable(v) else v) for k, v in (defaults or {}).items()})
        conn = self._write_connection()
        try:
            with conn.atomic():
                return self.using(conn.alias).create(**params), True
        except IntegrityError:
            try:
                return self.get(**kwargs), False
            except self.model.DoesNotExist:
                pass
            raise

    def update_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Any, bool]:
        """``(instance, created)``: update the matching row with ``defaults`` or create it."""
        conn = self._write_connection()
        with conn.atomic():
            obj, created = self.get_or_create(defaults=defaults, **kwargs)
            if not created:
                for key, value in (defaults or {}).items():
                    setattr(obj, key, value() if callable(value) else value)
                obj.save(using=conn.alias)
        return obj, created

    def update(self, **kwargs: Any) -> int:
        """Set columns on every matching row in one statement; returns rows matched."""
        self._not_sliced("update")
        if not kwargs:
            raise TypeError("update() needs at least one field=value.")
        from shoal.models.persistence import update_rows

        return update_rows(self, kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the matching rows and what ``on_delete`` says goes with them (one transaction)."""
        self._not_sliced("delete")
        if self._kind != "models":
            raise TypeError("Cannot call delete() after values() or values_list().")
        from shoal.models.deletion import Collector

        conn = self._write_connection()
        collector = Collector(using=conn.alias, connection=conn)
        with bind_connection(conn):
            with conn.atomic():
                collector.collect(list(self.using(conn.alias).order_by()))
                result = collector.delete()
        collector.update_instances()
        return result

    def bulk_create(self, objs: Any, batch_size: int | None = None) -> list[Any]:
        """Insert many instances in few statements; sets their pks where the backend returns them."""
        from shoal.models.persistence import bulk_insert

        return bulk_insert(self, list(objs), batch_size)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        """Write ``fields`` of each instance back to its row; returns rows matched."""
        from shoal.models.persistence import bulk_update

        return bulk_update(self, list(objs), list(fields), batch_size)

    # -- subqueries --------------------------------------------------------------------

    def _as_subquery(self, outer: Compiler) -> tuple[str, list[Any]]:
        """``pk__in=qs``: this queryset as ``SELECT <one column> ...`` inside ``outer``'s SQL."""
        compiler = Compiler(self.query, outer.connection, depth=outer.depth + 1)
        if self._fields:
            if len(self._fields) != 1:
                raise TypeError("A queryset used with __in must select exactly one field.")
            res = compiler.resolve(self._fields[0], allow_lookups=False)
            column = compiler.col(res.alias, res.field)
        else:
            pk = compiler.model._meta.pk
            column = compiler.col(compiler.field_alias(compiler.model, compiler.base_alias, pk), pk)
        with_ordering = self.query.is_sliced
        return compiler.as_select([column], with_ordering=with_ordering)


def _converter(field: Any, conn: Any) -> Any:
    from shoal.models.lookups import target_field

    while getattr(field, "is_relation", False) and not getattr(field, "many_to_many", False):
        field = target_field(field)
    convert = field.from_db_value

    def run(value: Any) -> Any:
        return None if value is None else convert(value, conn)

    return run


def _describe(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts) if parts else "no filters"


def prepare_update_value(compiler: Compiler, field: Any, value: Any) -> tuple[str, list[Any]]:
    """SQL and params for ``SET col = <value>`` (expressions resolved against the table)."""
    if isinstance(value, (F, CombinedExpression, Value)):
        return compiler.compile_expression(value, field)
    return "%s", [db_value(field, value, compiler.connection)]
