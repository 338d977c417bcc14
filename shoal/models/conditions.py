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
from shoal.models.query_utils import Q
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
