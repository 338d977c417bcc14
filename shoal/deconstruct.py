"""``@deconstructible``: let instances of a class be written into migrations.

A migration file can only hold values it knows how to rebuild.  A class
decorated with :func:`deconstructible` records the arguments each instance was
constructed with, and gains a ``deconstruct()`` method returning
``(path, args, kwargs)``; the serializer writes that back as
``path(*args, **kwargs)``.  Give the class an ``__eq__`` too, so that
comparing two states does not see a change on every run.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar, overload

from shoal.exceptions import SerializationError

T = TypeVar("T", bound=type)

__all__ = ["deconstructible"]


@overload
def deconstructible(klass: T, *, path: str | None = None) -> T: ...


@overload
def deconstructible(klass: None = None, *, path: str | None = None) -> Callable[[T], T]: ...


def deconstructible(klass: Any = None, *, path: str | None = None) -> Any:
    """Record constructor arguments and add ``deconstruct()`` to a class.

    Use as ``@deconstructible`` or ``@deconstructible(path="app.validators.Max")``;
    ``path`` names a shorter import path the class is also reachable by (it is
    used for the decorated class itself, not for its subclasses).
    """

    def decorate(cls: T) -> T:
        _install_new(cls)
        cls.deconstruct = _make_deconstruct(cls, path)  # type: ignore[attr-defined]
        return cls

    if klass is None:
        return decorate
    return decorate(klass)


def _install_new(cls: type) -> None:
    """Wrap ``__new__`` so each instance keeps the arguments it was built with."""
    own_new = cls.__dict__.get("__new__")
    if isinstance(own_new, staticmethod):
        own_new = own_new.__func__

    def __new__(subcls: type, *args: Any, **kwargs: Any) -> Any:
        if own_new is not None:
            obj = own_new(subcls, *args, **kwargs)
        else:
            parent_new = super(cls, subcls).__new__  # type: ignore[misc]
            # object.__new__ refuses extra arguments once __init__ is overridden.
            obj = parent_new(subcls) if parent_new is object.__new__ else parent_new(subcls, *args, **kwargs)
        if isinstance(obj, subcls):
            obj._constructor_args = (args, kwargs)
        return obj

    cls.__new__ = staticmethod(__new__)  # type: ignore[assignment]


def _make_deconstruct(
    cls: type, path: str | None
) -> Callable[[Any], tuple[str, tuple[Any, ...], dict[str, Any]]]:
    def deconstruct(self: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this instance."""
        args, kwargs = getattr(self, "_constructor_args", ((), {}))
        if path is not None and type(self) is cls:
            return path, tuple(args), dict(kwargs)
        klass = type(self)
        module, qualname = klass.__module__, klass.__qualname__
        if "<" in qualname:
            raise SerializationError(
                f"Cannot serialize: {klass.__name__} instance: class {qualname} is defined inside a "
                "function, so a migration cannot import it; move the class to module level.",
                value=self,
            )
        if module == "__main__":
            raise SerializationError(
                f"Cannot serialize: {klass.__name__} instance: class {qualname} is defined in "
                "__main__, which a migration cannot import; move it into an importable module.",
                value=self,
            )
        found: Any = sys.modules.get(module)
        if found is not None:
            for part in qualname.split("."):
                found = getattr(found, part, None)
            if found is not klass:
                raise SerializationError(
                    f"Cannot serialize: {klass.__name__} instance: class {qualname} cannot be found "
                    f"as {module}.{qualname}; define it at module level under that name, or pass "
                    "path= to @deconstructible.",
                    value=self,
                )
        return f"{module}.{qualname}", tuple(args), dict(kwargs)

    return deconstruct
