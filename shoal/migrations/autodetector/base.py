"""Shared pieces of the autodetector families.  [pure]"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoal.models.fields.related import resolve_relation


@dataclass(eq=False)
class Planned:
    """One operation to write, and what must come before it.

    ``needs`` holds other :class:`Planned` items, or ``("app", label)`` for
    "the latest existing migration of that app", or ``("swappable", value)``
    for a swappable model setting.
    """

    app_label: str
    operation: Any
    needs: list[Any] = field(default_factory=list)


def field_signature(field: Any, renamed: dict[tuple[str, str], tuple[str, str]] | None = None,
                    app_label: str = "", model_name: str = "") -> tuple[Any, ...]:
    """A comparable value for a field: its deconstruction with relation targets
    resolved to ``app.model`` (and mapped through model renames)."""
    _name, path, args, kwargs = field.deconstruct()
    kwargs = dict(kwargs)
    if "to" in kwargs:
        target = resolve_relation(kwargs["to"], app_label, model_name)
        if renamed and target in renamed:
            target = renamed[target]
        kwargs["to"] = target
    return path, tuple(args), _freeze(kwargs)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set):
        return frozenset(_freeze(v) for v in value)
    return value
