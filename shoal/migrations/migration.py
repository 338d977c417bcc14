"""The ``Migration`` base class every migration file subclasses.

A migration file declares a class ``Migration(migrations.Migration)`` whose
class attributes (``dependencies``, ``operations``, ``replaces``,
``run_before``, ``initial``, ``atomic``) describe one step of an app's history.
The loader instantiates it as ``Migration(name, app_label)``; the instance
owns copies of the class lists, so tools that edit a migration in memory (the
squasher, the optimizer) never change the class other instances share.

Operations are duck-typed: ``state_forwards``, ``database_forwards``,
``database_backwards``, ``describe()``, ``reversible``, ``reduces_to_sql``,
``atomic`` and ``elidable`` are all this module relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoal.exceptions import ConfigError, IrreversibleError

MigrationKey = tuple[str, str]
OperationCallback = Callable[[int, Any], None]

NOT_SQL_MARKER = "-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL:"


class Migration:
    """One step of an app's schema history: a list of operations plus the
    migrations that must run before it."""

    dependencies: list[tuple[str, str]] = []
    operations: list[Any] = []
    replaces: list[tuple[str, str]] = []
    run_before: list[tuple[str, str]] = []
    initial: bool | None = None
    atomic: bool = True

    def __init__(self, name: str, app_label: str) -> None:
        self.name = name
        self.app_label = app_label
        cls = type(self)
        # Copies, so editing this instance never reaches the class or a sibling.
        self.operations = list(cls.operations)
        self.dependencies = list(cls.dependencies)
        self.run_before = list(cls.run_before)
        self.replaces = list(cls.replaces)

    # -- identity ---------------------------------------------------------------

    @property
    def key(self) -> MigrationKey:
        """``(app_label, name)``: the node of this migration in the graph."""
        return (self.app_label, self.name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Migration):
            return NotImplemented
        return self.app_label == other.app_label and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.app_label, self.name))

    def __repr__(self) -> str:
        return f"<Migration {self.app_label}.{self.name}>"

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}"

    # -- state ------------------------------------------------------------------

    def mutate_state(self, project_state: Any, preserve: bool = True) -> Any:
        """The project state after this migration's operations.

        ``preserve`` clones first so the caller's state is untouched; the graph
        passes ``False`` when it owns the state it is building.
        """
        state = project_state.clone() if preserve else project_state
        for operation in self.operations:
            operation.state_forwards(self.app_label, state)
        return state

    # -- database ---------------------------------------------------------------

    def apply(
        self,
        project_state: Any,
        schema_editor: Any,
        collect_sql: bool = False,
        on_operation: OperationCallback | None = None,
    ) -> Any:
        """Run every operation forwards and return the resulting state.

        ``project_state`` is the state before this migration and is advanced in
        place. ``on_operation(index, operation)`` is called before each
        operation runs, so a caller can say which operations of a
        non-transactional migration had already run when one failed. With
        ``collect_sql`` each operation's SQL is preceded by a ``-- describe``
        comment, and operations that are not SQL (RunPython) leave a marker
        instead of running.
        """
        state = project_state
        for index, operation in enumerate(self.operations):
            if on_operation is not None:
                on_operation(index, operation)
            old_state = state.clone()
            operation.state_forwards(self.app_label, state)
            if collect_sql and not self._note_sql(schema_editor, operation):
                continue
            self._run_database_step(
                operation, schema_editor, "database_forwards", old_state, state
            )
        return state

    def unapply(
        self,
        project_state: Any,
        schema_editor: Any,
        collect_sql: bool = False,
        on_operation: OperationCallback | None = None,
    ) -> Any:
        """Undo every operation, last first, and return the state before this
        migration (which is what ``project_state`` must be).

        Irreversibility is checked for every operation before any of them runs,
        so a migration is never left half unapplied because of it.
        ``on_operation(index, operation)`` is called before each backwards
        step, with the operation's index in the migration.
        """
        steps: list[tuple[int, Any, Any, Any]] = []
        state = project_state
        for index, operation in enumerate(self.operations):
            if not getattr(operation, "reversible", True):
                raise IrreversibleError(
                    f"Operation '{_describe(operation)}' in migration {self} is not "
                    "reversible, so the migration cannot be unapplied. Give the operation "
                    "a reverse (reverse_code / reverse_sql), or do not migrate back past it."
                )
            before = state
            state = state.clone()
            operation.state_forwards(self.app_label, state)
            steps.append((index, operation, before, state))
        for index, operation, to_state, from_state in reversed(steps):
            if on_operation is not None:
                on_operation(index, operation)
            if collect_sql and not self._note_sql(schema_editor, operation):
                continue
            self._run_database_step(
                operation, schema_editor, "database_backwards", from_state, to_state
            )
        return project_state

    def _note_sql(self, schema_editor: Any, operation: Any) -> bool:
        """Write the comment that heads an operation's collected SQL; False when
        the operation has no SQL form and must be skipped."""
        collected = schema_editor.collected_sql
        if getattr(operation, "reduces_to_sql", True):
            collected.append(f"-- {_describe(operation)}")
            return True
        collected.append(NOT_SQL_MARKER)
        collected.append(f"-- {_describe(operation)}")
        return False

    def _run_database_step(
        self, operation: Any, schema_editor: Any, method: str, from_state: Any, to_state: Any
    ) -> None:
        """Call ``operation.<method>``; inside a per-operation transaction when
        the operation must be atomic but the migration as a whole is not.

        The transaction comes from ``schema_editor.atomic_operation()`` when
        the schema editor offers it, else from ``connection.atomic()`` (Django
        wraps atomic operations of non-atomic migrations, and RunPython on
        backends without transactional DDL, the same way); when only
        collecting SQL the step runs as is.
        """
        run = getattr(operation, method)
        op_atomic = getattr(operation, "atomic", None)
        wants_atomic = op_atomic or (self.atomic and op_atomic is not False)
        opener = getattr(schema_editor, "atomic_operation", None)
        if opener is None and not getattr(schema_editor, "collect_sql", False):
            opener = getattr(getattr(schema_editor, "connection", None), "atomic", None)
        in_transaction = getattr(schema_editor, "atomic_migration", True)
        if wants_atomic and not in_transaction and callable(opener):
            with opener():
                run(self.app_label, schema_editor, from_state, to_state)
        else:
            run(self.app_label, schema_editor, from_state, to_state)


def _describe(operation: Any) -> str:
    describe = getattr(operation, "describe", None)
    return describe() if callable(describe) else type(operation).__name__


class SwappableTuple(tuple):  # type: ignore[type-arg]
    """A dependency ``(app_label, "__first__")`` on the app of a swappable
    model, remembering the setting (``.setting``, e.g. ``"AUTH_USER_MODEL"``)
    and its value (``.value``, e.g. ``"accounts.User"``) it came from, so tools
    can write it back as ``swappable_dependency(settings.AUTH_USER_MODEL)``."""

    setting: str | None
    value: str | None

    def __new__(
        cls, key: tuple[str, str], setting: str | None, value: str | None = None
    ) -> SwappableTuple:
        obj = super().__new__(cls, key)
        obj.setting = setting
        obj.value = value
        return obj

    def __getnewargs__(self) -> tuple[Any, ...]:  # keeps copy/pickle working
        return (tuple(self), self.setting, self.value)


def swappable_dependency(value: str) -> SwappableTuple:
    """The dependency a migration takes on the app that holds a swappable model.

    ``value`` is the setting's value (``settings.AUTH_USER_MODEL``, e.g.
    ``"accounts.User"``) or, as a convenience, the setting's name
    (``"AUTH_USER_MODEL"``), resolved from ``[tool.shoal.swappable]``.
    """
    text = str(value)
    setting: str | None = getattr(value, "setting_name", None)
    if "." not in text:
        resolved = current_swappable_value(text)
        if resolved is None:
            raise ConfigError(
                f"swappable_dependency({text!r}): no setting {text} under [tool.shoal.swappable]; "
                "define it there, or pass the model reference (e.g. 'accounts.User')."
            )
        setting, text = text, resolved
    elif setting is None:
        setting = _setting_for_value(text)
    app_label = text.split(".", 1)[0]
    return SwappableTuple((app_label, "__first__"), setting, text)


def _swappable_settings() -> dict[str, str] | None:
    """The configured ``[tool.shoal.swappable]`` table, or None before setup."""
    try:
        from shoal.conf import settings
    except ImportError:  # conf unavailable: nothing to resolve against
        return None
    if not getattr(settings, "configured", False):
        return None
    table = getattr(settings.get(), "swappable", None)
    return dict(table) if isinstance(table, dict) else None


def current_swappable_value(setting: str) -> str | None:
    """The present value of a swappable setting, or None when unknown."""
    table = _swappable_settings()
    if table is None:
        return None
    value = table.get(setting)
    return str(value) if value is not None else None


def _setting_for_value(value: str) -> str | None:
    """Which swappable setting has ``value`` (None when none or not set up)."""
    table = _swappable_settings() or {}
    for name in sorted(table):
        if str(table[name]).lower() == value.lower():
            return name
    return None
