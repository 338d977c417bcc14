"""``Q`` and ``F``: filter conditions and column references as plain values.

A ``Q`` is a small tree: its children are ``(lookup, value)`` pairs or other
``Q`` objects, joined by ``AND`` or ``OR``, possibly negated.  Trees appear in
migration files (``CheckConstraint(condition=models.Q(...))``), so they
deconstruct to ``("shoal.models.Q", children, options)`` and compare by value.
The ORM turns them into SQL in :mod:`shoal.models.sql`.

``F("name")`` refers to a column of the row being filtered or updated
(``update(n=F("n") + 1)``, ``filter(end__gt=F("start"))``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Q", "F", "CombinedExpression", "Value"]


class Q:
    """A condition: ``Q(a=1) | ~Q(b=2)``; combine with ``&``, ``|``, ``^`` and ``~``."""

    AND = "AND"
    OR = "OR"
    XOR = "XOR"
    default = AND

    def __init__(self, *args: Any, _connector: str | None = None, _negated: bool = False, **kwargs: Any) -> None:
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        self.connector = _connector or self.default
        self.negated = _negated

    # -- combining ----------------------------------------------------------

    def _combine(self, other: Any, connector: str) -> "Q":
        if getattr(other, "conditional", False) is False and not isinstance(other, Q):
            raise TypeError(f"Cannot combine a Q with {other!r}; wrap it in Q(...).")
        if not other:
            return self.copy()
        if not self:
            return other.copy() if isinstance(other, Q) else other
        out = Q(_connector=connector)
        out._absorb(self)
        out._absorb(other)
        return out

    def _absorb(self, other: Any) -> None:
        # A plain (un-negated) node of the same connector, or of one child,
        # dissolves into this one, so Q(a=1) | Q(b=2) has the children a, b.
        if isinstance(other, Q) and not other.negated and (other.connector == self.connector or len(other) == 1):
            self.children.extend(other.children)
        else:
            self.children.append(other)

    def __or__(self, other: Any) -> "Q":
        return self._combine(other, self.OR)

    def __and__(self, other: Any) -> "Q":
        return self._combine(other, self.AND)

    def __xor__(self, other: Any) -> "Q":
        return self._combine(other, self.XOR)

    def __invert__(self) -> "Q":
        out = self.copy()
        out.negated = not self.negated
        return out

    def copy(self) -> "Q":
        """A copy whose child list may be changed without touching this one."""
        out = Q(_connector=self.connector, _negated=self.negated)
        out.children = list(self.children)
        return out

    def add(self, other: "Q") -> None:
        """AND ``other`` into this (un-negated AND) node in place."""
        if not other:
            return
        if other.connector == self.AND and not other.negated and len(other.children) > 1:
            self.children.extend(other.children)
        elif other.connector == self.AND and not other.negated and other.children:
            self.children.append(other.children[0])
        else:
            self.children.append(other)

    # -- values -------------------------------------------------------------

    conditional = True

    def __bool__(self) -> bool:
        return bool(self.children)

    def __len__(self) -> int:
        return len(self.children)

    def flatten(self) -> list[Any]:
        """Every node and leaf of the tree, depth first (this node first)."""
        out: list[Any] = [self]
        for child in self.children:
            if isinstance(child, Q):
                out.extend(child.flatten())
            else:
                out.append(child)
        return out

    def referenced_fields(self) -> set[str]:
        """First path component of every lookup in the tree (``{"author", "title"}``)."""
        names: set[str] = set()
        for item in self.flatten():
            if isinstance(item, tuple):
                names.add(item[0].split("__", 1)[0])
        return names

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``("shoal.models.Q", children, options)``: how a migration file writes it."""
        kwargs: dict[str, Any] = {}
        if self.connector != self.default:
            kwargs["_connector"] = self.connector
        if self.negated:
            kwargs["_negated"] = True
        return "shoal.models.Q", tuple(self.children), kwargs

    def _identity(self) -> tuple[Any, ...]:
        return (self.connector, self.negated, tuple(_hashable(c) for c in self.children))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Q):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            repr(c) if isinstance(c, Q) else f"{c[0]}={c[1]!r}" for c in self.children
        )
        text = f"({inner})" if len(self.children) > 1 else inner
        return f"<Q: {'NOT ' if self.negated else ''}{text}>"


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class _Combinable:
    """Arithmetic between column references and values: ``F("n") + 1``."""

    def _combine(self, other: Any, op: str, reverse: bool = False) -> "CombinedExpression":
        if not isinstance(other, _Combinable):
            other = Value(other)
        return CombinedExpression(other, op, self) if reverse else CombinedExpression(self, op, other)

    def __add__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "+")

    def __sub__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "-")

    def __mul__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "*")

    def __truediv__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "/")

    def __radd__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "+", reverse=True)

    def __rsub__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "-", reverse=True)

    def __rmul__(self, other: Any) -> "CombinedExpression":
        return self._combine(other, "*", reverse=True)


class F(_Combinable):
    """A reference to a field of the current row (``F("author__name")`` crosses relations)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """``("shoal.models.F", (name,), {})``."""
        return "shoal.models.F", (self.name,), {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, F) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("F", self.name))

    def __repr__(self) -> str:
        return f"F({self.name})"


class Value(_Combinable):
    """A plain value inside an expression (sent as a parameter)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "shoal.models.query_utils.Value", (self.value,), {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("Value", _hashable(self.value)))

    def __repr__(self) -> str:
        return f"Value({self.value!r})"


class CombinedExpression(_Combinable):
    """``lhs <op> rhs`` where either side is an ``F``, a ``Value`` or another expression."""

    def __init__(self, lhs: Any, connector: str, rhs: Any) -> None:
        self.lhs, self.connector, self.rhs = lhs, connector, rhs

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "shoal.models.query_utils.CombinedExpression", (self.lhs, self.connector, self.rhs), {}

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CombinedExpression) and other.connector == self.connector
                and other.lhs == self.lhs and other.rhs == self.rhs)

    def __hash__(self) -> int:
        return hash((self.lhs, self.connector, self.rhs))

    def __repr__(self) -> str:
        return f"{self.lhs!r} {self.connector} {self.rhs!r}"
