"""``on_delete`` behaviours for foreign keys.

Each behaviour is a module-level function so that migration files can refer
to it by import path (``models.CASCADE``).  The deletion collector in the ORM
calls them as ``behaviour(collector, field, related_objects)``.
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
