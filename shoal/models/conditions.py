"""``Q`` conditions as DDL text: CHECK constraints and partial-index WHERE clauses.

Schema editors work from migration state, not model classes, and DDL cannot
take query parameters, so :func:`compile_condition` resolves lookups against a
:class:`~shoal.migrations.state.ModelState` and inlines every value as a
literal with ``connection.ops.compose_sql``.  Columns are written unqualified
(``"price" > 0``), which every backend accepts in both places.
"""

from __future__ import annotations

from typing import Any

from shoal.exceptions import FieldDoesNotExist
from shoal.models.lookups import is_lookup
from shoal.models.query_utils import F, Q
from shoal.models.sql import Compiler, _Resolved

__all__ = ["compile_condition"]


def compile_condition(condition: Q, model_state: Any, connection: Any, state: Any = None) -> str:
    """SQL for ``condition`` over the columns of ``model_state``'s table.

    ``state`` (the ProjectState) lets a foreign key's value be prepared as the
    field it points at; without it the value is used as given.
    """
    compiler = _ConditionCompiler(model_state, connection, state)
    sql, params = compiler.compile_where(condition)
    if not sql:
        sql = "1 = 1"
    return connection.ops.compose_sql(sql, params)


class _ConditionCompiler(Compiler):
    """A compiler over one model state's columns, without joins or aliases."""

    def __init__(self, model_state: Any, connection: Any, state: Any) -> None:
        self.model_state = model_state
        self.state = state
        self.connection = connection
        self.qn = connection.ops.quote_name
        self.depth = 0
        self.joins = {}
        self.aliases = set()
        self.base_alias = model_state.db_table

    def resolve(self, path: str, allow_lookups: bool = True) -> _Resolved:
        parts = path.split("__")
        name = parts[0]
        if name == "pk":
            field = self.model_state.pk
        else:
            try:
                field = self.model_state.get_field(name)
            except FieldDoesNotExist:
                raise FieldDoesNotExist(
                    f"Condition '{path}' on {self.model_state.label_lower}: no field named '{name}'. "
                    f"Fields: {', '.join(self.model_state.fields)}."
                ) from None
        rest = parts[1:]
        if rest and getattr(field, "is_relation", False) and rest[0] in ("id", "pk"):
            rest = rest[1:]
        if rest and (not allow_lookups or len(rest) > 1 or not is_lookup(rest[0])):
            raise FieldDoesNotExist(
                f"Condition '{path}' on {self.model_state.label_lower}: a constraint or index condition "
                "can only use this table's own columns with one lookup (no joins, no transforms)."
            )
        return _Resolved(self.base_alias, field, rest, False, None)

    def col(self, alias: str, field: Any) -> str:
        return self.qn(field.column)

    # The two overrides below write conditions the way Django writes them, so
    # that CHECK and partial-index text is the same whichever tool created it.

    def compile_leaf(self, key: str, value: Any, negated: bool = False) -> tuple[str, list[Any]]:
        """``flag=True`` is ``"flag"`` and ``flag=False`` is ``NOT "flag"`` where the
        backend takes a bare boolean as a condition."""
        if isinstance(value, bool) and self.connection.features.supports_boolean_expr_in_where:
            res = self.resolve(key)
            exact = not res.lookups or res.lookups == ["exact"]
            if exact and res.field.get_internal_type() == "BooleanField" and not (negated and res.field.null):
                column = self.col(res.alias, res.field)
                return (column if value else f"NOT {column}"), []
        return super().compile_leaf(key, value, negated)

    def compile_expression(self, expr: Any, field: Any = None) -> tuple[str, list[Any]]:
        """An expression on the right of a lookup is parenthesised: ``"a" <= ("b")``."""
        if getattr(self, "_in_expression", False):
            return super().compile_expression(expr, field)
        self._in_expression = True
        try:
            sql, params = super().compile_expression(expr, field)
        finally:
            self._in_expression = False
        if isinstance(expr, F):
            sql = f"({sql})"
        return sql, params

    def prep(self, field: Any, value: Any) -> Any:
        if getattr(field, "is_relation", False):
            if hasattr(value, "_meta"):
                value = value.pk
            if self.state is None:
                return value
            _, target = self.state.related_target(self.model_state, field)
            field = target
        # A Python value: compose_sql() writes it as this backend's literal.
        return field.get_prep_value(value)
