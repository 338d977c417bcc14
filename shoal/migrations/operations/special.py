"""Operations that run the user's own SQL or Python, or split state from schema."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from shoal.exceptions import IrreversibleError
from shoal.migrations.operations.base import Category, Operation
from shoal.migrations.state import ProjectState


def split_sql(script: str) -> list[str]:
    """Split a script into statements on ``;`` outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(script)
    quote: str | None = None
    while i < n:
        ch = script[i]
        if quote:
            current.append(ch)
            if ch == quote:
                if i + 1 < n and script[i + 1] == quote:  # doubled quote escapes itself
                    current.append(script[i + 1])
                    i += 1
                else:
                    quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
            current.append(ch)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            end = n if end == -1 else end
            current.append(script[i:end])
            i = end
            continue
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = n if end == -1 else end + 2
            current.append(script[i:end])
            i = end
            continue
        elif ch == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    lines = [ln for ln in statement.strip().splitlines() if ln.strip() and not ln.strip().startswith("--")]
    return bool("".join(lines).strip())


class SeparateDatabaseAndState(Operation):
    """Run some operations against the database only and others on the state only."""

    category = Category.MIXED
    serialization_expand_args = ["database_operations", "state_operations"]

    def __init__(self, database_operations: Sequence[Operation] | None = None,
                 state_operations: Sequence[Operation] | None = None) -> None:
        self.database_operations = list(database_operations or [])
        self.state_operations = list(state_operations or [])

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if self.database_operations:
            kwargs["database_operations"] = self.database_operations
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        return "SeparateDatabaseAndState", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for op in self.state_operations:
            op.state_forwards(app_label, state)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        for op in self.database_operations:
            to_state = from_state.clone()
            op.state_forwards(app_label, to_state)
            op.database_forwards(app_label, schema_editor, from_state, to_state)
            from_state = to_state

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        states = [to_state]
        for op in self.database_operations[:-1]:
            nxt = states[-1].clone()
            op.state_forwards(app_label, nxt)
            states.append(nxt)
        for op, before in zip(reversed(self.database_operations), reversed(states)):
            after = before.clone()
            op.state_forwards(app_label, after)
            op.database_backwards(app_label, schema_editor, after, before)

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return all(op.reversible for op in self.database_operations)

    def describe(self) -> str:
        return "Custom state/database change combination"


class RunSQL(Operation):
    """Run raw SQL forwards (and ``reverse_sql`` backwards, when given)."""

    category = Category.SQL
    noop = ""

    def __init__(self, sql: Any, reverse_sql: Any = None, state_operations: Sequence[Operation] | None = None,
                 hints: dict[str, Any] | None = None, elidable: bool = False) -> None:
        self.sql, self.reverse_sql = sql, reverse_sql
        self.state_operations = list(state_operations or [])
        self.hints = hints or {}
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"sql": self.sql}
        if self.reverse_sql is not None:
            kwargs["reverse_sql"] = self.reverse_sql
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return "RunSQL", (), kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_sql is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for op in self.state_operations:
            op.state_forwards(app_label, state)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        if schema_editor.allow_migrate(app_label, **self.hints):
            self._run(schema_editor, self.sql)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        if self.reverse_sql is None:
            raise IrreversibleError(f"You cannot reverse this operation: {self.describe()} has no reverse_sql.")
        if schema_editor.allow_migrate(app_label, **self.hints):
            self._run(schema_editor, self.reverse_sql)

    @staticmethod
    def _run(schema_editor: Any, sqls: Any) -> None:
        if not schema_editor.collect_sql:
            schema_editor.connection.mark_data_changed()
        if isinstance(sqls, (list, tuple)):
            for item in sqls:
                if isinstance(item, (list, tuple)):
                    if len(item) != 2:
                        raise ValueError(f"RunSQL expects (sql, params) pairs; got {item!r}.")
                    schema_editor.execute(item[0], item[1])
                else:
                    schema_editor.execute(item, None)
        elif sqls != RunSQL.noop:
            for statement in split_sql(sqls):
                schema_editor.execute(statement, None)

    def describe(self) -> str:
        return "Raw SQL operation"


class RunPython(Operation):
    """Run a Python callable ``code(apps, schema_editor)`` with historical models."""

    category = Category.PYTHON
    reduces_to_sql = False

    def __init__(self, code: Callable[..., Any], reverse_code: Callable[..., Any] | None = None,
                 atomic: bool | None = None, hints: dict[str, Any] | None = None, elidable: bool = False) -> None:
        if not callable(code):
            raise ValueError("RunPython must be supplied with a callable")
        if reverse_code is not None and not callable(reverse_code):
            raise ValueError("RunPython must be supplied with callable arguments")
        self.code, self.reverse_code = code, reverse_code
        self.atomic = atomic  # type: ignore[assignment]
        self.hints = hints or {}
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"code": self.code}
        if self.reverse_code is not None:
            kwargs["reverse_code"] = self.reverse_code
        if self.atomic is not None:
            kwargs["atomic"] = self.atomic
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return "RunPython", (), kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        return self.reverse_code is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass  # RunPython never changes the state

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        if schema_editor.allow_migrate(app_label, **self.hints):
            self._call(self.code, from_state, schema_editor)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        if self.reverse_code is None:
            raise IrreversibleError(f"You cannot reverse this operation: {self.describe()} has no reverse_code.")
        if schema_editor.allow_migrate(app_label, **self.hints):
            self._call(self.reverse_code, from_state, schema_editor)

    @staticmethod
    def _call(code: Callable[..., Any], state: ProjectState, schema_editor: Any) -> None:
        """Run user code with historical models bound to the migration's connection
        (so its queries join the migration's transaction, on the right database)."""
        from shoal.migrations.historical import bind_connection

        schema_editor.connection.mark_data_changed()
        with bind_connection(schema_editor.connection):
            code(state.apps, schema_editor)

    def describe(self) -> str:
        return "Raw Python operation"

    @staticmethod
    def noop(apps: Any, schema_editor: Any) -> None:
        """A callable that does nothing: ``RunPython(forwards, RunPython.noop)``."""
        return None
