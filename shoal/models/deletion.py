"""``on_delete`` behaviours for foreign keys.

Each behaviour is a module-level function so that migration files can refer
to it by import path (``models.CASCADE``).  The deletion :class:`Collector`
(below) calls them as ``behaviour(collector, field, related_objects)``.
"""

from __future__ import annotations

from typing import Any

from shoal.exceptions import IntegrityError


class ProtectedError(IntegrityError):
    """Deleting would orphan rows that a PROTECT foreign key points from."""

    def __init__(self, msg: str, protected_objects: Any) -> None:
        self.protected_objects = protected_objects
        super().__init__(msg)


class RestrictedError(IntegrityError):
    """Deleting would orphan rows that a RESTRICT foreign key points from."""

    def __init__(self, msg: str, restricted_objects: Any) -> None:
        self.restricted_objects = restricted_objects
        super().__init__(msg)


def CASCADE(collector: Any, field: Any, sub_objs: Any) -> None:
    """Delete the rows that point at the deleted ones, recursively."""
    collector.collect(sub_objs, source=field)


def PROTECT(collector: Any, field: Any, sub_objs: Any) -> None:
    """Refuse the delete while any row points at the deleted ones."""
    objs = list(sub_objs)
    if objs:
        model = field.model.__name__
        raise ProtectedError(
            f"Cannot delete some instances because they are referenced through "
            f"protected foreign key '{model}.{field.name}'.",
            objs,
        )


def RESTRICT(collector: Any, field: Any, sub_objs: Any) -> None:
    """Like PROTECT, unless the pointing rows are deleted by the same cascade."""
    collector.add_restricted(field, sub_objs)


class SET:
    """``on_delete=SET(value)``: set the foreign key to ``value`` (or its
    result, if callable).  A class rather than a closure, so that it can be
    written to migration files, compared, and pickled with migration state."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, collector: Any, field: Any, sub_objs: Any) -> None:
        new = self.value() if callable(self.value) else self.value
        collector.add_field_update(field, new, sub_objs)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "shoal.models.SET", (self.value,), {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SET) and self.value == other.value

    def __hash__(self) -> int:
        return hash(("SET", repr(self.value)))


def SET_NULL(collector: Any, field: Any, sub_objs: Any) -> None:
    """Set the foreign key to NULL."""
    collector.add_field_update(field, None, sub_objs)


def SET_DEFAULT(collector: Any, field: Any, sub_objs: Any) -> None:
    """Set the foreign key to the field's default."""
    collector.add_field_update(field, field.get_default(), sub_objs)


def DO_NOTHING(collector: Any, field: Any, sub_objs: Any) -> None:
    """Leave the pointing rows alone (the database may refuse)."""


class Collector:
    """Gathers what deleting some rows implies, then does it in order.

    ``collect(objs)`` adds the rows, the parent rows of multi-table children,
    and asks every relation pointing at them for its ``on_delete`` behaviour,
    which calls back :meth:`collect` (CASCADE), :meth:`add_field_update`
    (SET_NULL, SET_DEFAULT, SET(...)), :meth:`add_restricted` (RESTRICT) or
    raises (PROTECT).  :meth:`delete` then runs the field updates and the
    deletes, dependents before what they point at, and returns
    ``(total, {"app.Model": count})``.  Run it inside a transaction, and call
    :meth:`update_instances` once that transaction has committed.
    """

    def __init__(self, using: str | None = None, connection: Any = None) -> None:
        self.using = using
        self.connection = connection
        # concrete model -> {pk: instance}, in the order models were first seen
        self.data: dict[Any, dict[Any, Any]] = {}
        # model -> models whose rows must be deleted before its rows
        self.before: dict[Any, set[Any]] = {}
        self.field_updates: list[tuple[Any, Any, list[Any]]] = []
        self.restricted: list[tuple[Any, list[Any]]] = []
        self._after: list[tuple[list[Any], str, Any]] = []
        # model -> pks in the batches they were collected in; a later batch was
        # reached from an earlier one (a self-referencing cascade), so batches are
        # deleted last-first for databases that check foreign keys row by row.
        self.generations: dict[Any, list[list[Any]]] = {}

    # -- gathering -----------------------------------------------------------

    def _conn(self, model: Any) -> Any:
        if self.connection is None:
            from shoal.models.sql import get_connection

            self.connection = get_connection(model, self.using, write=True)
        return self.connection

    def _add(self, objs: list[Any]) -> dict[Any, list[Any]]:
        """Record ``objs``; return the new ones grouped by concrete model."""
        new: dict[Any, list[Any]] = {}
        for obj in objs:
            model = obj._meta.concrete_model
            bucket = self.data.setdefault(model, {})
            if obj.pk is None or obj.pk in bucket:
                continue
            bucket[obj.pk] = obj
            new.setdefault(model, []).append(obj)
        for model, items in new.items():
            self.generations.setdefault(model, []).append([o.pk for o in items])
        return new

    def collect(self, objs: Any, source: Any = None, reverse_dependency: bool = False) -> None:
        """Add ``objs`` for deletion and follow what points at them.

        ``source`` is the relation field (or model) they were reached through;
        their model is deleted before the source's model.
        """
        objs = list(objs)
        if not objs:
            return
        new = self._add(objs)
        source_model = _model_of(source)
        for model, items in new.items():
            if source_model is not None and source_model is not model:
                if reverse_dependency:
                    self.before.setdefault(model, set()).add(source_model)
                else:
                    self.before.setdefault(source_model, set()).add(model)
            self._collect_parents(model, items)
            self._collect_related(model, items)

    def _collect_parents(self, model: Any, objs: list[Any]) -> None:
        from shoal.models.query import QuerySet

        for parent, link in model._meta.parents.items():
            parent = parent._meta.concrete_model
            values = [getattr(o, link.attname) for o in objs]
            parents = self._fetch(QuerySet(parent, using=self.using), "pk", values)
            # The child row points at the parent row: delete the child first.
            self.collect(parents, source=model, reverse_dependency=True)

    def _collect_related(self, model: Any, objs: list[Any]) -> None:
        from shoal.models.lookups import target_field
        from shoal.models.query import QuerySet
        from shoal.models.related import reverse_relations

        for rel in reverse_relations(model):
            field = rel.field
            on_delete = rel.on_delete or field.remote_field.on_delete
            if on_delete is DO_NOTHING or getattr(field, "many_to_many", False):
                continue
            values = [getattr(o, target_field(field).attname) for o in objs]
            related = field.model._meta.concrete_model
            sub_objs = self._fetch(QuerySet(related, using=self.using), field.attname, values)
            if sub_objs:
                on_delete(self, field, sub_objs)

    def _fetch(self, qs: Any, attname: str, values: list[Any]) -> list[Any]:
        values = [v for v in values if v is not None]
        out: list[Any] = []
        for chunk in _chunks(values, self._chunk_size(qs.model)):
            out.extend(qs.filter(**{f"{attname}__in": chunk}).order_by())
        return out

    def _chunk_size(self, model: Any) -> int:
        limit = getattr(self._conn(model).features, "max_query_params", None) or 10000
        return max(1, min(limit - 10, 10000))

    def add_field_update(self, field: Any, value: Any, objs: Any) -> None:
        """Set ``field`` to ``value`` on ``objs`` before anything is deleted."""
        objs = list(objs)
        if objs:
            self.field_updates.append((field, value, objs))

    def add_restricted(self, field: Any, objs: Any) -> None:
        """``objs`` block the delete unless they are themselves deleted by a cascade."""
        objs = list(objs)
        if objs:
            self.restricted.append((field, objs))
            # If a cascade deletes them after all, they must go before what they point at.
            target = _model_of(field)
            if target is not None:
                self.before.setdefault(target, set()).add(field.model._meta.concrete_model)

    # -- doing ---------------------------------------------------------------

    def _check_restricted(self) -> None:
        blocked: list[Any] = []
        names: list[str] = []
        for field, objs in self.restricted:
            left = [o for o in objs if o.pk not in self.data.get(o._meta.concrete_model, {})]
            if left:
                blocked.extend(left)
                names.append(f"'{field.model.__name__}.{field.name}'")
        if blocked:
            raise RestrictedError(
                "Cannot delete some instances because they are referenced through restricted "
                f"foreign key{'s' if len(names) > 1 else ''} {', '.join(sorted(set(names)))}.",
                blocked,
            )

    def _sorted_models(self) -> list[Any]:
        remaining = list(self.data)
        done: list[Any] = []
        while remaining:
            for model in remaining:
                if all(dep in done or dep is model or dep not in self.data for dep in self.before.get(model, ())):
                    done.append(model)
                    remaining.remove(model)
                    break
            else:  # a cycle: keep the order in which models were found
                done.extend(remaining)
                break
        return done

    def delete(self) -> tuple[int, dict[str, int]]:
        """Apply field updates, then delete every collected row; returns counts."""
        from shoal.models.lookups import db_value, target_field

        self._check_restricted()
        counts: dict[str, int] = {}
        if not self.data:
            return 0, counts
        any_model = next(iter(self.data))
        conn = self._conn(any_model)
        qn = conn.ops.quote_name
        for field, value, objs in self.field_updates:
            model = field.model._meta.concrete_model
            pk = model._meta.pk
            param = db_value(field, value, conn)
            raw = getattr(value, target_field(field).attname) if hasattr(value, "_meta") else value
            for chunk in _chunks([o.pk for o in objs], self._chunk_size(model)):
                conn.execute(
                    f"UPDATE {qn(model._meta.db_table)} SET {qn(field.column)} = %s "
                    f"WHERE {qn(pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                    [param, *[db_value(pk, v, conn) for v in chunk]],
                )
            self._after.append((objs, field.attname, raw))
        total = 0
        for model in self._sorted_models():
            pk = model._meta.pk
            deleted = 0
            batches = [c for gen in reversed(self.generations.get(model, []))
                       for c in _chunks(gen, self._chunk_size(model))]
            for chunk in batches:
                with conn.cursor() as cursor:
                    cursor.execute(
                        f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(pk.column)} IN "
                        f"({', '.join(['%s'] * len(chunk))})",
                        [db_value(pk, v, conn) for v in chunk],
                    )
                    deleted += max(cursor.rowcount, 0)
            if deleted:
                counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted
            total += deleted
        for model, instances in self.data.items():
            self._after.append((list(instances.values()), model._meta.pk.attname, None))
        return total, counts

    def update_instances(self) -> None:
        """After the transaction committed: set the changed keys on the Python
        instances and clear the primary keys of the deleted ones."""
        for objs, attname, value in self._after:
            for obj in objs:
                setattr(obj, attname, value)
        self._after = []


def _model_of(source: Any) -> Any:
    if source is None:
        return None
    if isinstance(source, type):
        return source._meta.concrete_model
    target = getattr(getattr(source, "remote_field", None), "model", None)
    return target._meta.concrete_model if isinstance(target, type) else None


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)] if items else []
