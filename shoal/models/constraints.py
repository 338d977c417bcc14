"""``models.UniqueConstraint`` and ``models.CheckConstraint``."""

from __future__ import annotations

import enum
from typing import Any, Sequence


class Deferrable(enum.Enum):
    """When a deferrable unique constraint is checked: at commit or at each statement."""

    DEFERRED = "deferred"
    IMMEDIATE = "immediate"

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}.{self._name_}"


class BaseConstraint:
    """A named table constraint."""

    def __init__(self, *, name: str) -> None:
        if not name:
            raise ValueError("A constraint must be named (name=...).")
        self.name = name

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        raise NotImplementedError

    def clone(self) -> "BaseConstraint":
        _, args, kwargs = self.deconstruct()
        return type(self)(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseConstraint):
            return NotImplemented
        return type(self) is type(other) and self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        _, _, kwargs = self.deconstruct()
        return f"<{type(self).__name__}: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}>"


class UniqueConstraint(BaseConstraint):
    """Rows must be unique over ``fields`` (where ``condition`` holds, if given)."""

    def __init__(self, *, fields: Sequence[str] = (), name: str, condition: Any = None,
                 deferrable: Any = None, include: Sequence[str] | None = None,
                 nulls_distinct: bool | None = None) -> None:
        if not fields:
            raise ValueError("UniqueConstraint.fields must list at least one field.")
        if deferrable is not None and not isinstance(deferrable, Deferrable):
            raise ValueError("UniqueConstraint.deferrable must be a models.Deferrable instance.")
        if deferrable is not None and condition is not None:
            raise ValueError("UniqueConstraint with conditions cannot be deferred.")
        if deferrable is not None and include:
            raise ValueError("UniqueConstraint with include fields cannot be deferred.")
        self.fields = tuple(fields)
        self.condition = condition
        self.deferrable = deferrable
        self.include = tuple(include or ())
        self.nulls_distinct = nulls_distinct
        super().__init__(name=name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": self.fields, "name": self.name}
        if self.condition is not None:
            kwargs["condition"] = self.condition
        if self.deferrable is not None:
            kwargs["deferrable"] = self.deferrable
        if self.include:
            kwargs["include"] = self.include
        if self.nulls_distinct is not None:
            kwargs["nulls_distinct"] = self.nulls_distinct
        return "shoal.models.UniqueConstraint", (), kwargs


class CheckConstraint(BaseConstraint):
    """Rows must satisfy ``condition`` (a ``models.Q``)."""

    def __init__(self, *, name: str, condition: Any = None, check: Any = None) -> None:
        condition = condition if condition is not None else check
        if condition is None:
            raise ValueError("CheckConstraint needs condition=models.Q(...).")
        self.condition = condition
        super().__init__(name=name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "shoal.models.CheckConstraint", (), {"condition": self.condition, "name": self.name}
