"""``models.Model`` and its metaclass.

The metaclass turns a class body into a model: it resolves the app label,
collects fields (copying those of abstract bases, adding a parent link for
multi-table inheritance and an automatic primary key), sets up managers and
registers the class in an app registry.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

from shoal.exceptions import ImproperlyConfigured, MultipleObjectsReturned, ObjectDoesNotExist
from shoal.models.options import Options


def _import_string(path: str) -> Any:
    module, _, attr = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ImproperlyConfigured(f"Cannot import '{path}': {exc}") from exc


def _is_field(value: Any) -> bool:
    return getattr(value, "is_shoal_field", False) and not isinstance(value, type)


def _is_manager(value: Any) -> bool:
    return getattr(value, "is_shoal_manager", False) and not isinstance(value, type)


class ModelBase(type):
    """Metaclass of every model class."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any) -> type:
        parents = [b for b in bases if isinstance(b, ModelBase)]
        if not parents:  # models.Model itself
            return super().__new__(mcs, name, bases, attrs, **kwargs)

        module = attrs.get("__module__", "")
        meta = attrs.pop("Meta", None)
        contributable = {k: v for k, v in attrs.items() if _is_field(v) or _is_manager(v)}
        plain = {k: v for k, v in attrs.items() if k not in contributable}
        cls = super().__new__(mcs, name, bases, plain, **kwargs)

        abstract = bool(getattr(meta, "abstract", False))
        registry = getattr(meta, "apps", None)
        if registry is None:
            from shoal.apps import apps as registry
        app_label = getattr(meta, "app_label", None)
        if app_label is None:
            config = registry.get_containing_app_config(module)
            if config is not None:
                app_label = config.label
            elif abstract:
                app_label = "__abstract__"
            else:
                raise ImproperlyConfigured(
                    f"Model class {module}.{name} doesn't declare an explicit app_label and isn't in "
                    "an app listed in [tool.shoal] apps."
                )
        # Meta of an abstract parent is inherited unless the child declares its own.
        if meta is None:
            for parent in parents:
                pmeta = getattr(parent, "_meta", None)
                if pmeta is not None and pmeta.abstract and pmeta.meta is not None:
                    meta = type("Meta", (pmeta.meta,), {"abstract": False})
                    break
        opts = Options(meta, app_label)
        opts.contribute_to_class(cls, "_meta")
        if abstract:
            opts.abstract = True
        cls.DoesNotExist = type("DoesNotExist", _exception_bases(parents, "DoesNotExist", ObjectDoesNotExist),  # type: ignore[attr-defined]
                                {"__module__": module, "__qualname__": f"{name}.DoesNotExist"})
        cls.MultipleObjectsReturned = type(  # type: ignore[attr-defined]
            "MultipleObjectsReturned", _exception_bases(parents, "MultipleObjectsReturned", MultipleObjectsReturned),
            {"__module__": module, "__qualname__": f"{name}.MultipleObjectsReturned"},
        )

        # Fields inherited from abstract parents come first, as copies (only direct
        # parents: an abstract class's fields reached through a concrete parent
        # live in that parent's table, and an abstract parent holds its own
        # abstract parents' fields already).
        for parent in [p for p in cls.__mro__[1:] if p in parents]:
            pmeta = getattr(parent, "_meta", None)
            if pmeta is None or not pmeta.abstract:
                continue
            for field in pmeta.local_fields + pmeta.local_many_to_many:
                if field.name not in contributable and not hasattr(opts, "_has_" + field.name):
                    clone = copy.deepcopy(field)
                    clone.model = None
                    contributable.setdefault(field.name, clone)
            for mname, manager in pmeta.managers:
                if mname not in contributable:
                    contributable[mname] = copy.copy(manager)

        concrete_parents = [p for p in parents if hasattr(p, "_meta") and not p._meta.abstract]
        if opts.proxy:
            if not concrete_parents:
                raise ImproperlyConfigured(f"Proxy model '{name}' has no non-abstract model base class.")
            if any(_is_field(v) for v in attrs.values()):
                raise ImproperlyConfigured(f"Proxy model '{name}' contains model fields.")
            opts.proxy_for_model = concrete_parents[0]
            opts.concrete_model = concrete_parents[0]._meta.concrete_model
            opts.db_table = opts.concrete_model._meta.db_table
            opts.pk = opts.concrete_model._meta.pk
        else:
            opts.concrete_model = cls

        fields = sorted(((k, v) for k, v in contributable.items() if _is_field(v)), key=lambda kv: kv[1].creation_counter)
        for fname, field in fields:
            field.contribute_to_class(cls, fname)

        if not abstract and not opts.proxy:
            for parent in concrete_parents:
                link = next((f for f in opts.local_fields if getattr(f, "parent_link", False)
                             and _points_to(f, parent)), None)
                if link is None:
                    from shoal.models.fields import OneToOneField
                    from shoal.models.deletion import CASCADE

                    link = OneToOneField(parent, on_delete=CASCADE, name=f"{parent._meta.model_name}_ptr",
                                         auto_created=True, parent_link=True, primary_key=not opts.pk)
                    link.contribute_to_class(cls, f"{parent._meta.model_name}_ptr")
                opts.parents[parent] = link
            if opts.pk is None and not concrete_parents:
                auto_cls = _import_string(_default_auto_field())
                auto = auto_cls(verbose_name="ID", primary_key=True, auto_created=True, serialize=False)
                auto.contribute_to_class(cls, "id")
                opts.local_fields.sort()
            if opts.pk is None:
                opts.pk = next(iter(opts.parents.values()))
            from shoal.models.order_wrt import contribute_order_field

            contribute_order_field(cls)

        managers = [(k, v) for k, v in contributable.items() if _is_manager(v)]
        if not managers and not abstract:
            for parent in cls.__mro__[1:]:
                pmeta = getattr(parent, "_meta", None)
                if pmeta is not None and pmeta.managers and not pmeta.abstract:
                    managers = [(k, copy.copy(m)) for k, m in pmeta.managers]
                    break
        if not managers and not abstract:
            from shoal.models.manager import Manager

            managers = [("objects", Manager())]
            managers[0][1].auto_created = True
        for mname, manager in sorted(managers, key=lambda kv: kv[1].creation_counter):
            manager.contribute_to_class(cls, mname)

        if abstract and meta is not None:
            # Children may write ``class Meta(Parent.Meta)``; that Meta is not abstract itself.
            cls.Meta = meta  # type: ignore[attr-defined]
            if meta.__dict__.get("abstract"):
                meta.abstract = False
        if not abstract:
            registry.register_model(app_label, cls)
            from shoal.models.related import contribute_relations

            contribute_relations(cls)
        return cls

    @property
    def _default_manager(cls) -> Any:
        managers = cls._meta.managers  # type: ignore[attr-defined]
        name = cls._meta.default_manager_name  # type: ignore[attr-defined]
        if name:
            return getattr(cls, name)
        return getattr(cls, managers[0][0]) if managers else None

    @property
    def _base_manager(cls) -> Any:
        from shoal.models.manager import Manager

        manager = Manager()
        manager.model = cls
        manager.name = "_base_manager"
        return manager


def _points_to(field: Any, parent: type) -> bool:
    target = field.remote_field.model
    if isinstance(target, str):
        return target.lower().split(".")[-1] == parent._meta.model_name
    return target is parent


def _exception_bases(parents: list[type], attr: str, default: type) -> tuple[type, ...]:
    bases = tuple(getattr(p, attr) for p in parents if hasattr(p, attr) and hasattr(p, "_meta") and not p._meta.abstract)
    return bases or (default,)


def _default_auto_field() -> str:
    from shoal.conf import DEFAULT_AUTO_FIELD, settings

    return settings.get().default_auto_field if settings.configured else DEFAULT_AUTO_FIELD


class Model(metaclass=ModelBase):
    """Base class of every model; an instance is one row."""

    _meta: Options

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        opts = self._meta
        self._state = ModelInstanceState()
        fields = opts.concrete_fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes at most {len(fields)} positional arguments.")
        for field, value in zip(fields, args):
            setattr(self, field.attname, value)
        for field in fields[len(args):]:
            if field.name in kwargs and field.is_relation:
                setattr(self, field.name, kwargs.pop(field.name))
                continue
            if field.attname in kwargs:
                value = kwargs.pop(field.attname)
            elif field.name in kwargs:
                value = kwargs.pop(field.name)
            else:
                value = field.get_default()
            setattr(self, field.attname, value)
        for key in list(kwargs):
            if isinstance(getattr(type(self), key, None), property) or key in {f.name for f in opts.many_to_many}:
                setattr(self, key, kwargs.pop(key))
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")

    @classmethod
    def from_db(cls, values: dict[str, Any]) -> "Model":
        """An instance for a row read from the database (no defaults computed)."""
        obj = cls.__new__(cls)
        obj._state = ModelInstanceState(adding=False)
        for attname, value in values.items():
            obj.__dict__[attname] = value
        return obj

    @property
    def pk(self) -> Any:
        return getattr(self, self._meta.pk.attname)

    @pk.setter
    def pk(self, value: Any) -> None:
        setattr(self, self._meta.pk.attname, value)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert or update this row."""
        from shoal.models.persistence import save_instance

        save_instance(self, *args, **kwargs)

    def delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Delete this row, honouring ``on_delete`` of relations pointing here."""
        from shoal.models.persistence import delete_instance

        return delete_instance(self, using=using)

    def refresh_from_db(self, using: str | None = None, fields: list[str] | None = None) -> None:
        from shoal.models.persistence import refresh_instance

        refresh_instance(self, using=using, fields=fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        if self._meta.concrete_model is not other._meta.concrete_model:
            return False
        return self.pk is not None and self.pk == other.pk if self.pk is not None else self is other

    def __hash__(self) -> int:
        if self.pk is None:
            raise TypeError("Model instances without primary key value are unhashable")
        return hash(self.pk)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"

    def __str__(self) -> str:
        return f"{type(self).__name__} object ({self.pk})"


class ModelInstanceState:
    """Per-instance bookkeeping: is it saved yet, and on which database."""

    def __init__(self, adding: bool = True, db: str | None = None) -> None:
        self.adding = adding
        self.db = db
        self.fields_cache: dict[str, Any] = {}
