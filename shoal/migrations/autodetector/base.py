"""Shared pieces of the autodetector families.  [pure]"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Field signatures live with the state (the state cache compares them too).
from shoal.migrations.state import _freeze, field_signature  # noqa: F401  (re-exported)


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
