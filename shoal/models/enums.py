"""``models.TextChoices`` / ``models.IntegerChoices``: enumerated choices with labels.

``class Status(models.TextChoices): DRAFT = "d", "Draft"`` gives an enum whose
members are plain strings (or ints) with a ``label``; ``Status.choices`` is
the ``[(value, label), ...]`` list a field's ``choices`` takes.  Migration
files hold the plain values, never the enum (see the serializer), so the enum
may be renamed or moved without breaking old migrations.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["Choices", "IntegerChoices", "TextChoices"]


class ChoicesType(enum.EnumMeta):
    """Metaclass that splits ``VALUE, "Label"`` member definitions and keeps the labels."""

    _shoal_choices = True

    def __new__(metacls, classname: str, bases: tuple[type, ...], classdict: Any, **kwds: Any) -> Any:
        labels = []
        for key in list(classdict._member_names):
            value = classdict[key]
            if isinstance(value, (list, tuple)) and len(value) > 1 and isinstance(value[-1], str):
                *parts, label = value
                value = tuple(parts) if len(parts) > 1 else parts[0]
            else:
                label = key.replace("_", " ").title()
            labels.append(label)
            dict.__setitem__(classdict, key, value)
        cls: Any = super().__new__(metacls, classname, bases, classdict, **kwds)
        members: list[Any] = list(cls.__members__.values())
        for member, label in zip(members, labels):
            member._label_ = label
        return enum.unique(cls)

    @property
    def choices(cls) -> list[tuple[Any, str]]:
        members: Any = cls
        return [(member.value, member.label) for member in members]

    @property
    def labels(cls) -> list[str]:
        return [label for _, label in cls.choices]

    @property
    def values(cls) -> list[Any]:
        return [value for value, _ in cls.choices]

    @property
    def names(cls) -> list[str]:
        members: Any = cls
        return [member.name for member in members]


class Choices(enum.Enum, metaclass=ChoicesType):
    """Base of enumerated choices; members have a ``label``."""

    @property
    def label(self) -> str:
        return str(self._label_)  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return str(self.value)


class IntegerChoices(int, Choices):
    """Choices whose values are integers."""


class TextChoices(str, Choices):
    """Choices whose values are strings (a bare ``auto()`` uses the member name)."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name
