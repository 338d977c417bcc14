"""Managers: the ``Model.objects`` entry point to querysets.

A manager remembers its constructor arguments so that it can be written into
migrations (``deconstruct()``) when ``use_in_migrations = True``.
"""

from __future__ import annotations

import types
from typing import Any


class BaseManager:
    is_shoal_manager = True
    creation_counter = 0
    #: Copy this manager onto historical models given to RunPython.
    use_in_migrations = False
    auto_created = False
    _queryset_class: Any = None
    _built_with_as_manager = False

    def __new__(cls, *args: Any, **kwargs: Any) -> "BaseManager":
        obj = super().__new__(cls)
        obj._constructor_args = (args, kwargs)
        return obj

    def __init__(self) -> None:
        self.model: Any = None
        self.name: str | None = None
        self._db: str | None = None
        self.creation_counter = BaseManager.creation_counter
        BaseManager.creation_counter += 1

    def deconstruct(self) -> tuple[bool, str | None, str | None, tuple[Any, ...], dict[str, Any]]:
        """``(as_manager, manager_path, queryset_path, args, kwargs)``."""
        qs = self._queryset_class
        if self._built_with_as_manager:
            return True, None, f"{qs.__module__}.{qs.__qualname__}", (), {}
        cls = type(self)
        module, name = cls.__module__, cls.__qualname__
        if module.startswith("shoal.models"):
            module = "shoal.models"
        if "<locals>" in name or getattr(cls, "_generated_from_queryset", False):
            raise ValueError(
                f"Could not find manager {name} in {module}. Please note that you need to inherit "
                "from managers you dynamically generated with 'from_queryset()'."
            )
        args, kwargs = self._constructor_args
        return False, f"{module}.{name}", None, args, kwargs

    def contribute_to_class(self, cls: type, name: str) -> None:
        self.name = self.name or name
        self.model = cls
        setattr(cls, name, ManagerDescriptor(self))
        cls._meta.managers.append((name, self))  # type: ignore[attr-defined]

    def db_manager(self, using: str | None) -> "BaseManager":
        import copy

        obj = copy.copy(self)
        obj._db = using
        return obj

    @property
    def db(self) -> str:
        return self._db or "default"

    def get_queryset(self) -> Any:
        from shoal.models.query import QuerySet

        qs_class = self._queryset_class or QuerySet
        return qs_class(model=self.model, using=self._db)

    def all(self) -> Any:
        return self.get_queryset()

    def __getattr__(self, name: str) -> Any:
        # Queryset methods are reachable from the manager (objects.filter(...)).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get_queryset(), name)

    @classmethod
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> type:
        """A manager class whose querysets are ``queryset_class`` and which
        offers that class's public methods."""
        methods = {}
        for name in dir(queryset_class):  # as inspect.getmembers(isfunction), without importing inspect
            method = getattr(queryset_class, name, None)
            if not isinstance(method, types.FunctionType):
                continue
            if name.startswith("_") or hasattr(cls, name) or getattr(method, "queryset_only", False):
                continue
            methods[name] = _proxy(name)
        name = class_name or f"{cls.__name__}From{queryset_class.__name__}"
        return type(name, (cls,), {"_queryset_class": queryset_class, "_generated_from_queryset": True, **methods})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BaseManager) and self._constructor_args == other._constructor_args and type(self) is type(other)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name}>"


def _proxy(name: str) -> Any:
    def method(self: BaseManager, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = name
    return method


class Manager(BaseManager):
    """The default manager class."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A user subclass of a from_queryset() class is importable again.
        if "_generated_from_queryset" not in cls.__dict__:
            cls._generated_from_queryset = False


class ManagerDescriptor:
    """``Model.objects`` works on the class, not on instances."""

    def __init__(self, manager: BaseManager) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: type) -> BaseManager:
        if instance is not None:
            raise AttributeError(f"Manager isn't accessible via {owner.__name__} instances")
        return self.manager
