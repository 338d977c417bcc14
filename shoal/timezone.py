"""``shoal.timezone.now``: the current time, aware, in UTC.

A module-level function so that a migration can name it as a one-off default
(``default=shoal.timezone.now``) -- what makemigrations offers when an
``auto_now_add`` field is added to a table that may hold rows.
"""

from __future__ import annotations

import datetime

__all__ = ["now"]


def now() -> datetime.datetime:
    """The current time as an aware UTC datetime."""
    return datetime.datetime.now(datetime.timezone.utc)
