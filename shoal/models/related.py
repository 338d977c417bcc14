"""Relation plumbing between model classes (descriptors, reverse lookups).

Filled in by the ORM: forward accessors (``book.author``) and reverse
accessors (``author.book_set``).
"""

from __future__ import annotations

from typing import Any


def contribute_relations(cls: type) -> None:
    """Install relation descriptors on a freshly created model class."""


def reverse_relations(model: type) -> list[Any]:
    """Relations of other models pointing at ``model``."""
    return []
