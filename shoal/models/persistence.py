"""Writing rows: ``save()``, ``delete()``, ``refresh_from_db()``, bulk writes, ``update()``.

Model methods delegate here so that the model class stays small and the same
code serves historical models (which have no custom ``save()``).  Every value
is sent as a parameter, prepared by its field for the connection in use.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from shoal.exceptions import DatabaseError, FieldDoesNotExist
from shoal.models.lookups import db_value, target_field
from shoal.models.sql import Compiler, bind_connection, concrete, find_field, get_connection

__all__ = [
    "save_instance", "delete_instance", "refresh_instance", "update_rows", "bulk_insert", "bulk_update",
]


def _is_fk(field: Any) -> bool:
    return bool(getattr(field, "is_relation", False)) and not getattr(field, "many_to_many", False)


def _is_auto(field: Any) -> bool:
    return field.get_internal_type().endswith("AutoField")


def _value_for_write(field: Any, instance: Any, add: bool) -> Any:
    pre_save = getattr(field, "pre_save", None)
    if pre_save is not None:
        return pre_save(instance, add)
    return getattr(instance, field.attname)


def _check_related(instance: Any, fields: list[Any], operation: str) -> None:
    """Refuse to save a row pointing at an unsaved object; pick up keys saved since assignment."""
    cache = instance._state.fields_cache
    for field in fields:
        if not _is_fk(field) or field.name not in cache:
            continue
        obj = cache[field.name]
        if obj is None:
            continue
        value = getattr(obj, target_field(field).attname)
        if value is None:
            raise ValueError(
                f"{operation}() prohibited to prevent data loss due to unsaved related object "
                f"'{field.name}' ({type(instance).__name__}.{field.name}); save the "
                f"{type(obj).__name__} first."
            )
        if instance.__dict__.get(field.attname) != value:
            instance.__dict__[field.attname] = value


def save_instance(instance: Any, force_insert: bool = False, force_update: bool = False,
                  using: str | None = None, update_fields: Any = None) -> None:
    """Insert or update ``instance``'s row (and its parents' rows under multi-table inheritance)."""
    cls = type(instance)
    model = concrete(cls)
    opts = model._meta
    if force_insert and (force_update or update_fields):
        raise ValueError("Cannot force both insert and updating in model saving.")
    if update_fields is not None:
        update_fields = frozenset(update_fields)
        if not update_fields:
            return
        names = {f.name for f in opts.concrete_fields} | {f.attname for f in opts.concrete_fields}
        missing = sorted(update_fields - names)
        if missing:
            raise ValueError(f"The following fields do not exist in {opts.object_name}, or are "
                             f"m2m fields: {', '.join(missing)}")
    _check_related(instance, opts.concrete_fields, "save")
    conn = get_connection(cls, using or instance._state.db, write=True)
    multi = bool(opts.parents)
    with bind_connection(conn), (conn.atomic() if multi else nullcontext()):
        _save_parents(model, instance, conn, update_fields)
        _save_table(model, instance, conn, force_insert, force_update, update_fields)
    instance._state.adding = False
    instance._state.db = conn.alias


def _save_parents(model: Any, instance: Any, conn: Any, update_fields: Any) -> None:
    for parent, link in model._meta.parents.items():
        parent = concrete(parent)
        parent_pk = parent._meta.pk
        if getattr(instance, link.attname, None) is None and getattr(instance, parent_pk.attname, None) is not None:
            instance.__dict__[link.attname] = getattr(instance, parent_pk.attname)
        _save_parents(parent, instance, conn, update_fields)
        _save_table(parent, instance, conn, False, False, update_fields)
        instance.__dict__[link.attname] = getattr(instance, parent_pk.attname)


def _save_table(model: Any, instance: Any, conn: Any, force_insert: bool, force_update: bool,
                update_fields: Any) -> None:
    opts = model._meta
    pk = opts.pk
    local = [f for f in opts.local_fields if f.column is not None]
    if update_fields is not None:
        chosen = [f for f in local if (f.name in update_fields or f.attname in update_fields) and not f.primary_key]
        if not chosen:
            return
    else:
        chosen = [f for f in local if not f.primary_key]
    pk_value = getattr(instance, pk.attname, None)
    if pk_value is None and not _is_auto(pk) and pk.has_default():
        pk_value = pk.get_default()
        setattr(instance, pk.attname, pk_value)
    qn = conn.ops.quote_name
    table = qn(opts.db_table)
    updated = False
    skip_update = instance._state.adding and pk.has_default() and update_fields is None
    if pk_value is not None and not force_insert and not skip_update:
        values = [(f, _value_for_write(f, instance, False)) for f in chosen]
        if values:
            sets = ", ".join(f"{qn(f.column)} = %s" for f, _ in values)
            params = [db_value(f, v, conn) for f, v in values] + [db_value(pk, pk_value, conn)]
            with conn.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {sets} WHERE {qn(pk.column)} = %s", params)
                updated = cursor.rowcount > 0
        else:
            updated = conn.fetchone(f"SELECT 1 FROM {table} WHERE {qn(pk.column)} = %s",
                                    [db_value(pk, pk_value, conn)]) is not None
        if not updated and update_fields is not None:
            raise DatabaseError(f"Save with update_fields did not affect any rows: no {opts.object_name} "
                                f"with {pk.attname}={pk_value!r} in table {opts.db_table}.")
        if not updated and force_update:
            raise DatabaseError(f"Forced update did not affect any rows: no {opts.object_name} "
                                f"with {pk.attname}={pk_value!r} in table {opts.db_table}.")
    if updated:
        return
    fields = [f for f in local if not (f.primary_key and pk_value is None)]
    values = [(f, _value_for_write(f, instance, True)) for f in fields]
    values = [(f, v) for f, v in values if not (v is None and f.has_db_default())]
    need_pk = pk_value is None
    _insert_row(conn, model, values, instance if need_pk else None)


def _insert_row(conn: Any, model: Any, values: list[tuple[Any, Any]], fill_pk_of: Any) -> None:
    opts = model._meta
    pk = opts.pk
    qn = conn.ops.quote_name
    table = qn(opts.db_table)
    if values:
        cols = ", ".join(qn(f.column) for f, _ in values)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(values))})"
    else:
        sql = conn.ops.insert_default_values_sql(opts.db_table)
    params = [db_value(f, v, conn) for f, v in values]
    returning = fill_pk_of is not None and conn.features.can_return_columns_from_insert
    if returning:
        sql = f"{sql} {conn.ops.return_insert_columns([pk.column])}"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if fill_pk_of is None:
            return
        if returning:
            row = cursor.fetchone()
            raw = row[0] if row else None
        else:
            raw = conn.ops.last_insert_id(cursor, opts.db_table, pk.column)
    fill_pk_of.__dict__[pk.attname] = pk.from_db_value(raw, conn) if raw is not None else None


def delete_instance(instance: Any, using: str | None = None) -> tuple[int, dict[str, int]]:
    """Delete ``instance``'s row and what ``on_delete`` brings along, in one transaction."""
    from shoal.models.deletion import Collector

    opts = instance._meta
    if instance.pk is None:
        raise ValueError(f"{opts.object_name} object can't be deleted because its {opts.pk.attname} "
                         "attribute is set to None.")
    conn = get_connection(type(instance), using or instance._state.db, write=True)
    collector = Collector(using=conn.alias, connection=conn)
    with bind_connection(conn):
        with conn.atomic():
            collector.collect([instance])
            result = collector.delete()
    collector.update_instances()
    return result


def refresh_instance(instance: Any, using: str | None = None, fields: Any = None) -> None:
    """Reload field values from the database (all, or the named ``fields``)."""
    from shoal.models.query import QuerySet

    cls = type(instance)
    opts = concrete(cls)._meta
    if instance.pk is None:
        raise ValueError(f"Cannot refresh {opts.object_name}: it has no primary key value (never saved?).")
    qs = QuerySet(cls, using=using or instance._state.db)
    try:
        fresh = qs.get(pk=instance.pk)
    except cls.DoesNotExist:
        raise cls.DoesNotExist(f"{opts.object_name} with pk={instance.pk!r} no longer exists.") from None
    wanted = None if fields is None else set(fields)
    for field in opts.concrete_fields:
        if wanted is not None and field.name not in wanted and field.attname not in wanted:
            continue
        instance.__dict__[field.attname] = fresh.__dict__.get(field.attname)
        instance._state.fields_cache.pop(field.name, None)
    if wanted is None:
        instance._state.fields_cache.clear()
    instance._state.db = fresh._state.db
    instance._state.adding = False


# -- set-based writes ----------------------------------------------------------------


def _writable_field(model: Any, name: str, what: str) -> Any:
    field = find_field(model, name)
    if field is None or getattr(field, "is_reverse_relation", False) or field.column is None:
        raise FieldDoesNotExist(f"{what}: {model._meta.object_name} has no concrete field named '{name}'.")
    return field


def update_rows(qs: Any, values: dict[str, Any]) -> int:
    """``QuerySet.update()``: one UPDATE per table; rows chosen by the queryset's filters."""
    from shoal.models.query import prepare_update_value

    model = concrete(qs.model)
    if qs.query.empty:
        return 0
    fields = [(_writable_field(model, k, "update()"), v) for k, v in values.items()]
    for f, _ in fields:
        if f.primary_key:
            raise ValueError(f"update() cannot change the primary key {model._meta.object_name}.{f.name}.")
    conn = get_connection(qs.model, qs._db, write=True)
    qn = conn.ops.quote_name
    by_table: dict[Any, list[tuple[Any, Any]]] = {}
    for f, v in fields:
        by_table.setdefault(concrete(f.model), []).append((f, v))
    with bind_connection(conn), conn.atomic():
        compiler = Compiler(qs.query, conn)
        where, params = compiler.compile_where(qs.query.where)
        simple = list(by_table) == [model] and not compiler.joins and "SELECT" not in where
        if simple:
            sets, set_params = _set_clause(compiler, by_table[model], prepare_update_value, qn)
            if compiler.joins:
                raise FieldDoesNotExist("update() cannot use F() expressions that follow relations.")
            sql = f"UPDATE {qn(model._meta.db_table)} SET {sets}" + (f" WHERE {where}" if where else "")
            with conn.cursor() as cursor:
                cursor.execute(sql, set_params + params)
                return max(cursor.rowcount, 0)
        pks = list(qs.order_by().values_list("pk", flat=True))
        matched = len(pks)
        for table_model, items in by_table.items():
            pk = table_model._meta.pk
            for chunk in _chunks(pks, _chunk_size(conn)):
                sub = Compiler(type(qs.query)(table_model), conn)
                sets, set_params = _set_clause(sub, items, prepare_update_value, qn)
                if sub.joins:
                    raise FieldDoesNotExist("update() cannot use F() expressions that follow relations.")
                conn.execute(
                    f"UPDATE {qn(table_model._meta.db_table)} SET {sets} WHERE {qn(pk.column)} IN "
                    f"({', '.join(['%s'] * len(chunk))})",
                    set_params + [db_value(pk, v, conn) for v in chunk],
                )
        return matched


def _set_clause(compiler: Any, items: list[tuple[Any, Any]], prepare: Any, qn: Any) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for f, v in items:
        sql, p = prepare(compiler, f, v)
        parts.append(f"{qn(f.column)} = {sql}")
        params.extend(p)
    return ", ".join(parts), params


def _chunk_size(conn: Any, per_row: int = 1) -> int:
    limit = getattr(conn.features, "max_query_params", None) or 10000
    return max(1, min((limit - 10) // max(per_row, 1), 10000))


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def bulk_insert(qs: Any, objs: list[Any], batch_size: int | None = None) -> list[Any]:
    """``QuerySet.bulk_create()``: multi-row INSERTs sized to the backend's parameter limit."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    model = concrete(qs.model)
    opts = model._meta
    if opts.parents:
        raise ValueError(f"Can't bulk create a multi-table inherited model ({opts.object_name}); "
                         "save() each instance instead.")
    if not objs:
        return objs
    conn = get_connection(qs.model, qs._db, write=True)
    pk = opts.pk
    fields = [f for f in opts.concrete_fields]
    for obj in objs:
        _check_related(obj, fields, "bulk_create")
        if obj.pk is None and not _is_auto(pk) and pk.has_default():
            setattr(obj, pk.attname, pk.get_default())
    with_pk = [o for o in objs if o.pk is not None]
    without_pk = [o for o in objs if o.pk is None]
    returning = conn.features.can_return_columns_from_insert
    qn = conn.ops.quote_name
    with bind_connection(conn), conn.atomic():
        for group, cols in ((with_pk, fields), (without_pk, [f for f in fields if f is not pk])):
            if not group:
                continue
            size = conn.ops.bulk_batch_size(max(len(cols), 1), len(group))
            if batch_size:
                size = min(size, batch_size)
            if not conn.features.has_bulk_insert or not cols:
                size = 1
            fill = group is without_pk
            for batch in _chunks(group, size):
                if len(batch) == 1:
                    obj = batch[0]
                    values = [(f, _value_for_write(f, obj, True)) for f in cols]
                    _insert_row(conn, model, values, obj if fill else None)
                    continue
                rows = [[db_value(f, _value_for_write(f, obj, True), conn) for f in cols] for obj in batch]
                placeholders = "(" + ", ".join(["%s"] * len(cols)) + ")"
                sql = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in cols)}) "
                       f"VALUES {', '.join([placeholders] * len(batch))}")
                if fill and returning:
                    sql = f"{sql} {conn.ops.return_insert_columns([pk.column])}"
                with conn.cursor() as cursor:
                    cursor.execute(sql, [p for row in rows for p in row])
                    if fill and returning:
                        for obj, row in zip(batch, cursor.fetchall()):
                            obj.__dict__[pk.attname] = pk.from_db_value(row[0], conn)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias
    return objs


def bulk_update(qs: Any, objs: list[Any], field_names: list[str], batch_size: int | None = None) -> int:
    """``QuerySet.bulk_update()``: write the named fields of each instance, in batches."""
    if batch_size is not None and batch_size <= 0:
        raise ValueError("Batch size must be a positive integer.")
    if not field_names:
        raise ValueError("Field names must be given to bulk_update().")
    model = concrete(qs.model)
    fields = [_writable_field(model, name, "bulk_update()") for name in field_names]
    for f in fields:
        if f.primary_key:
            raise ValueError(f"bulk_update() cannot be used with primary key fields ({f.name}).")
    if any(o.pk is None for o in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    if not objs:
        return 0
    conn = get_connection(qs.model, qs._db, write=True)
    qn = conn.ops.quote_name
    by_table: dict[Any, list[Any]] = {}
    for f in fields:
        by_table.setdefault(concrete(f.model), []).append(f)
    matched = 0
    with bind_connection(conn), conn.atomic():
        for index, (table_model, table_fields) in enumerate(by_table.items()):
            pk = table_model._meta.pk
            sets = ", ".join(f"{qn(f.column)} = %s" for f in table_fields)
            sql = f"UPDATE {qn(table_model._meta.db_table)} SET {sets} WHERE {qn(pk.column)} = %s"
            size = batch_size or 1000
            for batch in _chunks(objs, size):
                for obj in batch:
                    _check_related(obj, table_fields, "bulk_update")
                rows = [[db_value(f, getattr(obj, f.attname), conn) for f in table_fields]
                        + [db_value(pk, obj.pk, conn)] for obj in batch]
                with conn.cursor() as cursor:
                    cursor.executemany(sql, rows)
                    count = cursor.rowcount
                if index == 0:
                    matched += count if count is not None and count >= 0 else len(batch)
    return matched
