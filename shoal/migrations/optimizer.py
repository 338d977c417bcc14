"""Shorten a list of operations without changing what it does.  [pure]

The rules live in the operations (``Operation.reduce``, see
``operations/base.py``); this module only applies them until nothing changes.
For an operation ``first`` at position i and a later ``second`` at j:

- ``first.reduce(second)`` returning a list means "these replace the two of
  us".  The pair is only adjacent in spirit, so the replacement is placed
  where it is safe: at i when ``second`` may move left across everything in
  between (each in-between operation's ``reduce(second)`` is True), else at j
  when ``first`` may move right across it (each ``first.reduce(...)`` was
  True).  Otherwise the pair is left alone.
- ``True`` means ``second`` and ``first`` are independent; ``False`` that
  ``first`` cannot move right past ``second``.

An elidable operation (``elidable=True``) that a reduction drops is removed
where it stands.  A replacement never has more than two operations, so the
list never grows.
Placing at i is tried first: it keeps the order of what remains (two AddFields
of one model keep their column order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoal.migrations.operations.footprint import footprint

__all__ = ["MigrationOptimizer", "optimize"]


def optimize(operations: Sequence[Any], app_label: str) -> list[Any]:
    """The optimized copy of ``operations`` (all of app ``app_label``)."""
    return MigrationOptimizer().optimize(operations, app_label)


class MigrationOptimizer:
    """Fixed-point loop over ``reduce``; ``passes`` tells how many it took."""

    def __init__(self) -> None:
        self.passes = 0

    def optimize(self, operations: Sequence[Any], app_label: str) -> list[Any]:
        if not app_label:
            raise TypeError("optimize() needs the app label the operations belong to.")
        ops = list(operations)
        # Every reduction either shortens the list or turns a pair into one that
        # does not reduce again; the bound only guards against a faulty custom
        # reduce() that undoes itself.
        budget = 4 * len(ops) + 16
        self.passes = 0
        while True:
            self.passes += 1
            ops, changes = self._pass(ops, app_label, budget)
            budget -= changes
            if not changes or budget <= 0:
                return ops

    def _pass(self, ops: list[Any], app_label: str, budget: int) -> tuple[list[Any], int]:
        """One sweep from the left; returns the new list and how many
        reductions it made."""
        changes = 0
        i = 0
        while i < len(ops) and changes < budget:
            replaced = self._reduce_first(ops, i, app_label)
            if replaced is None:
                i += 1
            else:
                ops = replaced
                changes += 1  # stay at i: the operation now there may reduce again
        return ops, changes

    @staticmethod
    def _reduce_first(ops: list[Any], i: int, app_label: str) -> list[Any] | None:
        """The list after reducing ``ops[i]`` with the first later operation it
        combines with, or None."""
        first = ops[i]
        can_move_right = True
        for j in range(i + 1, len(ops)):
            second = ops[j]
            result = first.reduce(second, app_label)
            if isinstance(result, list) and len(result) <= 2:
                if len(result) == 1 and result[0] is first and getattr(second, "elidable", False):
                    return ops[:j] + ops[j + 1 :]  # drop it where it is: nothing moves
                if len(result) == 1 and result[0] is second and getattr(first, "elidable", False):
                    return ops[:i] + ops[i + 1 :]
                between = ops[i + 1 : j]
                if all(op.reduce(second, app_label) is True for op in between):
                    return ops[:i] + result + between + ops[j + 1 :]
                if can_move_right:
                    return ops[:i] + between + result + ops[j + 1 :]
                return None
            if result is not True:
                can_move_right = False
                if _is_barrier(second, app_label):
                    # Nothing after a barrier can move left across it either.
                    return None
        return None


def _is_barrier(operation: Any, app_label: str) -> bool:
    """An operation nothing can cross (RunPython, RunSQL, unknown operations),
    unless it may be dropped (elidable)."""
    return not getattr(operation, "elidable", False) and footprint(operation, app_label) is None
