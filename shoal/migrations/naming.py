"""Names for generated migrations.  [pure]

``0001_initial``; then a name built from the operations' name fragments
(``0002_author_rating``), cut with ``_and_more`` when long; or
``NNNN_auto_YYYYMMDD_HHMM`` when some operation offers no fragment.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Sequence

MAX_NAME_LENGTH = 52
_NUMBER = re.compile(r"^(\d+)_")


_SQUASHED = re.compile(r"_squashed_(\d+)")


def migration_number(name: str) -> int | None:
    """The leading number of a migration name (``0003_x`` -> 3), if any; for
    a squashed migration the number of the last one it replaces
    (``0001_squashed_0004_x`` -> 4), so the next migration is ``0005``."""
    squashed = _SQUASHED.search(name)
    if squashed:
        return int(squashed.group(1))
    match = _NUMBER.match(name)
    return int(match.group(1)) if match else None


def suggest_name(operations: Sequence[Any], initial: bool = False, now: datetime.datetime | None = None) -> str:
    """The descriptive part of a migration name (without the number)."""
    if initial:
        return "initial"
    fragments = [op.migration_name_fragment for op in operations]
    cleaned = [re.sub(r"\W+", "_", f) for f in fragments if f]
    if not cleaned or len(cleaned) != len(fragments):
        stamp = (now or datetime.datetime.now()).strftime("%Y%m%d_%H%M")
        return f"auto_{stamp}"
    name = cleaned[0]
    for fragment in cleaned[1:]:
        longer = f"{name}_{fragment}"
        if len(longer) > MAX_NAME_LENGTH:
            return f"{name}_and_more"
        name = longer
    return name


def numbered(number: int, name: str) -> str:
    return f"{number:04d}_{name}"
