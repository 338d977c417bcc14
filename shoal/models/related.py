"""Relation plumbing between model classes: resolving targets, accessors.

When a model class is created the metaclass calls :func:`contribute_relations`:
each relation field's target (a class, ``"self"``, ``"Model"`` or
``"app.Model"``) is resolved in the *same registry* the model lives in (the
project's, or a historical ``StateApps``); a target not created yet is
resolved when it is.  Resolving installs the accessors:

* forward: ``book.author`` (loaded on first access, then cached) and
  ``book.author_id`` (changing it forgets the cached object);
* reverse: ``author.book_set`` (or the ``related_name``), a manager filtered
  to the author, with ``create()``/``add()``/``remove()``/``clear()``;
* one-to-one reverse: ``place.restaurant`` (raises
  ``Restaurant.DoesNotExist`` when there is none).

:func:`reverse_relations` lists the relations pointing at a model (used by
``Options.related_objects``, reverse lookups and the deletion collector).
"""

from __future__ import annotations

import copy
from typing import Any

from shoal.exceptions import ShoalError
from shoal.models.fields.related import resolve_relation

__all__ = [
    "contribute_relations", "reverse_relations", "registry_of", "UnresolvedRelation",
    "unresolved_error", "ForwardDescriptor", "ReverseManyDescriptor", "ReverseOneToOneDescriptor",
]


class UnresolvedRelation(ShoalError, LookupError):
    """A relation names a model that is not loaded in the model's registry."""


def registry_of(model: Any) -> Any:
    """The app registry a model class is registered in."""
    registry = getattr(model._meta, "apps", None)
    if registry is None:
        from shoal.apps import apps as registry
    return registry


def _pending(registry: Any) -> dict[tuple[str, str], list[Any]]:
    pending = registry.__dict__.get("_shoal_pending_relations")
    if pending is None:
        pending = registry.__dict__["_shoal_pending_relations"] = {}
    return pending


def _lookup(registry: Any, key: tuple[str, str]) -> Any:
    return registry.all_models.get(key[0], {}).get(key[1])


def contribute_relations(cls: type) -> None:
    """Resolve the relation fields of a new model class and those waiting for it."""
    opts = cls._meta  # type: ignore[attr-defined]
    registry = registry_of(cls)
    pending = _pending(registry)
    for field in opts.local_fields + opts.local_many_to_many:
        if not field.is_relation:
            continue
        rel = field.remote_field
        if getattr(rel, "field", None) is not field:
            # Fields copied from an abstract parent share its rel object; give this one its own.
            field.remote_field = rel = copy.copy(rel)
            rel.field = field
        if not field.many_to_many:
            setattr(cls, field.name, ForwardDescriptor(field))
            setattr(cls, field.attname, AttnameDescriptor(field))
        target = rel.model
        if isinstance(target, type) and hasattr(target, "_meta"):
            _bind(field, target)
            continue
        key = resolve_relation(target, opts.app_label, opts.model_name)
        found = _lookup(registry, key)
        if found is not None:
            _bind(field, found)
        else:
            pending.setdefault(key, []).append(field)
    for field in pending.pop((opts.app_label, opts.model_name), []):
        _bind(field, cls)


def _format_name(name: str | None, model: Any) -> str | None:
    if not name:
        return name
    opts = model._meta
    return name % {"class": opts.model_name, "model_name": opts.model_name, "app_label": opts.app_label}


def _bind(field: Any, target: type) -> None:
    """Point ``field`` at ``target`` and install the reverse accessor there."""
    rel = field.remote_field
    rel.model = target
    rel.field = field
    if field.many_to_many:
        return
    model = field.model
    related_name = _format_name(rel.related_name or model._meta.default_related_name, model)
    hidden = bool(related_name) and related_name.endswith("+")
    one_to_one = bool(getattr(field, "one_to_one", False))
    accessor = None if hidden else (related_name or (model._meta.model_name if one_to_one
                                                     else f"{model._meta.model_name}_set"))
    query_name = _format_name(rel.related_query_name, model) or (None if hidden else related_name) \
        or (None if hidden else model._meta.model_name)
    rel.accessor_name = accessor
    rel.query_name = query_name
    rel.is_reverse_relation = True
    rel.related_model = model
    targets = [target]
    concrete = getattr(target._meta, "concrete_model", None)
    if concrete is not None and concrete is not target:
        targets.append(concrete)
    for t in targets:
        rels = t._meta.__dict__.setdefault("_shoal_reverse", [])
        if rel not in rels:
            rels.append(rel)
    if accessor:
        descriptor = ReverseOneToOneDescriptor(rel) if one_to_one else ReverseManyDescriptor(rel)
        setattr(target, accessor, descriptor)


def reverse_relations(model: type) -> list[Any]:
    """Relations of other models (and this one) pointing at ``model``."""
    registry = getattr(model._meta, "apps", None)
    if registry is not None and hasattr(registry, "render"):
        registry.render()  # a historical registry renders lazily: complete it first
    return list(model._meta.__dict__.get("_shoal_reverse", ()))  # type: ignore[attr-defined]


def unresolved_error(field: Any) -> UnresolvedRelation:
    """The error for using a relation whose target model is not loaded."""
    model = field.model
    target = field.remote_field.model
    app = str(target).split(".")[0] if "." in str(target) else model._meta.app_label
    return UnresolvedRelation(
        f"{model._meta.label}.{field.name} refers to model '{target}', which is not loaded "
        f"in this app registry. In a migration, add a dependency on the latest migration "
        f"of app '{app}' so that the model exists at that point in history."
    )


def _target(field: Any) -> Any:
    model = field.remote_field.model
    if isinstance(model, str):
        raise unresolved_error(field)
    return model


def _querying(model: Any, instance: Any) -> Any:
    from shoal.models.query import QuerySet

    return QuerySet(model=model, using=instance._state.db)


class ForwardDescriptor:
    """``book.author``: the related row, loaded once and cached on the instance."""

    def __init__(self, field: Any) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        field = self.field
        cache = instance._state.fields_cache
        if field.name in cache:
            return cache[field.name]
        value = instance.__dict__.get(field.attname)
        if value is None:
            return None
        from shoal.models.lookups import target_field

        target = _target(field)
        obj = _querying(target, instance).get(**{target_field(field).attname: value})
        cache[field.name] = obj
        return obj

    def __set__(self, instance: Any, value: Any) -> None:
        field = self.field
        if value is not None:
            target = _target(field)
            if not isinstance(value, target) and not (
                hasattr(value, "_meta") and value._meta.concrete_model is target._meta.concrete_model
            ):
                raise ValueError(
                    f'Cannot assign "{value!r}": "{type(instance).__name__}.{field.name}" must be a '
                    f'"{target._meta.object_name}" instance.'
                )
            from shoal.models.lookups import target_field

            instance.__dict__[field.attname] = getattr(value, target_field(field).attname)
        else:
            instance.__dict__[field.attname] = None
        instance._state.fields_cache[field.name] = value


class AttnameDescriptor:
    """``book.author_id``: the raw column value; changing it forgets a cached ``book.author``."""

    def __init__(self, field: Any) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.field.attname]
        except KeyError:
            raise AttributeError(self.field.attname) from None

    def __set__(self, instance: Any, value: Any) -> None:
        attname = self.field.attname
        if instance.__dict__.get(attname, _MISSING) != value:
            cached = instance._state.fields_cache.get(self.field.name, _MISSING)
            if cached is not _MISSING:
                from shoal.models.lookups import target_field

                if cached is None or getattr(cached, target_field(self.field).attname) != value:
                    del instance._state.fields_cache[self.field.name]
        instance.__dict__[attname] = value


_MISSING = object()


class ReverseOneToOneDescriptor:
    """``place.restaurant``: the one row whose one-to-one field points here."""

    def __init__(self, rel: Any) -> None:
        self.rel = rel
        related = rel.field.model
        self.RelatedObjectDoesNotExist = type(
            "RelatedObjectDoesNotExist", (related.DoesNotExist, AttributeError),
            {"__module__": related.__module__, "__qualname__": f"{rel.model.__name__}.{rel.accessor_name}"
             ".RelatedObjectDoesNotExist"},
        )

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        rel = self.rel
        cache = instance._state.fields_cache
        if rel.accessor_name in cache:
            obj = cache[rel.accessor_name]
        else:
            from shoal.models.lookups import target_field

            value = getattr(instance, target_field(rel.field).attname)
            obj = None
            if value is not None:
                found = list(_querying(rel.field.model, instance).filter(**{rel.field.attname: value})[:2])
                obj = found[0] if found else None
            cache[rel.accessor_name] = obj
        if obj is None:
            raise self.RelatedObjectDoesNotExist(
                f"{type(instance).__name__} has no {rel.accessor_name}."
            )
        return obj

    def __set__(self, instance: Any, value: Any) -> None:
        if value is not None:
            setattr(value, self.rel.field.name, instance)
        instance._state.fields_cache[self.rel.accessor_name] = value


class ReverseManyDescriptor:
    """``author.book_set``: a manager of the books pointing at this author."""

    def __init__(self, rel: Any) -> None:
        self.rel = rel

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        related = self.rel.field.model
        base = type(related._default_manager) if related._default_manager is not None else None
        return _related_manager_class(base)(instance, self.rel)

    def __set__(self, instance: Any, value: Any) -> None:
        raise TypeError(
            f"Direct assignment to the reverse side of a related set is prohibited. "
            f"Use {self.rel.accessor_name}.set() instead."
        )


_manager_classes: dict[Any, type] = {}


def _related_manager_class(superclass: Any) -> type:
    """A subclass of the related model's default manager class, filtered to one instance."""
    from shoal.models.manager import Manager

    superclass = superclass or Manager
    cls = _manager_classes.get(superclass)
    if cls is not None:
        return cls

    class RelatedManager(superclass):  # type: ignore[misc, valid-type]
        """Rows of the related model whose foreign key points at one instance."""

        _generated_from_queryset = True  # never written into migrations

        def __init__(self, instance: Any, rel: Any) -> None:
            super().__init__()
            self.instance = instance
            self.rel = rel
            self.field = rel.field
            self.model = rel.field.model
            self.name = rel.accessor_name
            self._db = instance._state.db

        def _value(self) -> Any:
            from shoal.models.lookups import target_field

            value = getattr(self.instance, target_field(self.field).attname)
            if value is None:
                raise ValueError(
                    f"{type(self.instance).__name__} instance needs a primary key value before "
                    f"its {self.rel.accessor_name} can be used; save() it first."
                )
            return value

        def get_queryset(self) -> Any:
            qs = super().get_queryset()
            return qs.filter(**{self.field.attname: self._value()})

        def _unfiltered(self) -> Any:
            return super().get_queryset()

        def create(self, **kwargs: Any) -> Any:
            self._value()
            kwargs[self.field.name] = self.instance
            return self._unfiltered().create(**kwargs)

        def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
            kwargs[self.field.name] = self.instance
            return self._unfiltered().get_or_create(defaults=defaults, **kwargs)

        def add(self, *objs: Any, bulk: bool = True) -> None:
            value = self._value()
            for obj in objs:
                setattr(obj, self.field.name, self.instance)
            if bulk and all(obj.pk is not None and not obj._state.adding for obj in objs):
                pks = [obj.pk for obj in objs]
                if pks:
                    self._unfiltered().filter(pk__in=pks).update(**{self.field.attname: value})
            else:
                for obj in objs:
                    obj.save(using=self._db)

        def remove(self, *objs: Any, bulk: bool = True) -> None:
            self._require_null("remove")
            value = self._value()
            for obj in objs:
                if getattr(obj, self.field.attname) != value:
                    raise ValueError(f"{obj!r} is not related to {self.instance!r}.")
                setattr(obj, self.field.name, None)
            pks = [obj.pk for obj in objs]
            if pks:
                self._unfiltered().filter(pk__in=pks).update(**{self.field.attname: None})

        def clear(self, bulk: bool = True) -> None:
            self._require_null("clear")
            self.get_queryset().update(**{self.field.attname: None})

        def set(self, objs: Any, bulk: bool = True, clear: bool = False) -> None:
            objs = list(objs)
            if clear or self.field.null:
                keep = {o.pk for o in objs if o.pk is not None}
                stale = [o for o in self.get_queryset() if o.pk not in keep]
                if stale:
                    self.remove(*stale)
            self.add(*objs, bulk=bulk)

        def _require_null(self, what: str) -> None:
            if not self.field.null:
                raise AttributeError(
                    f"{self.rel.accessor_name}.{what}() is only available when "
                    f"{self.model._meta.object_name}.{self.field.name} has null=True."
                )

    _manager_classes[superclass] = RelatedManager
    return RelatedManager
