"""The operation contract.  [pure: no driver imports]

An operation is one declarative change in a migration file.  Every operation
class implements the same small contract, documented here once:

``__init__(...)``
    Keyword-compatible constructor; every argument is kept on the instance as
    given, because the writer rebuilds the call from :meth:`deconstruct`.

``deconstruct() -> (name, args, kwargs)``
    What the writer prints.  Built-in operations return their class name (the
    writer prefixes ``migrations.``); user subclasses their import path.
    The default implementation reports the constructor arguments captured by
    ``__new__``; subclasses override it to leave out defaults.

``state_forwards(app_label, state)``
    Apply the change to a :class:`~shoal.migrations.state.ProjectState` in
    place.  Never mutate a ``ModelState`` that is already in the state: use
    ``state.update_model`` / ``add_model`` / ``remove_model``, which replace it.
    Pure: no database, no I/O.

``database_forwards(app_label, schema_editor, from_state, to_state)``
``database_backwards(app_label, schema_editor, from_state, to_state)``
    Change the schema through ``schema_editor`` (which may only collect SQL).
    Both states are given: ``from_state`` is before this operation when going
    forwards; going backwards the executor passes the state *after* this
    operation as ``from_state`` and the state before as ``to_state``.
    Operations that cannot be undone set ``reversible = False`` and raise
    :class:`~shoal.exceptions.IrreversibleError` from ``database_backwards``.

``describe() -> str``
    One human line: "Create model Book", "Add field rating to author".

``migration_name_fragment -> str | None``
    A snippet for generated migration names ("author_rating"); None when the
    operation does not suggest one.

``references_model(name, app_label)`` / ``references_field(model_name, name, app_label)``
    Whether the operation touches that model or field; the optimizer refuses
    to move an operation across another that references the same things.

``reduce(operation, app_label) -> list | bool``
    Combine with a *later* operation: a list (possibly empty) replaces both;
    ``True`` means the other operation may be moved across this one; ``False``
    means neither.  The optimizer is a fixed-point loop over ``reduce``.

Flags: ``reversible``, ``reduces_to_sql`` (False: sqlmigrate cannot show it),
``atomic`` (False: run outside the migration's transaction), ``elidable``
(squashing may drop it).
"""

from __future__ import annotations

from typing import Any

from shoal.exceptions import IrreversibleError


class Category:
    """The symbol makemigrations prints before an operation's description."""

    ADDITION = "+"
    REMOVAL = "-"
    ALTERATION = "~"
    PYTHON = "p"
    SQL = "s"
    MIXED = "?"


class Operation:
    """Base of every migration operation; see the module docstring."""

    category = Category.MIXED
    reversible = True
    reduces_to_sql = True
    atomic = False
    elidable = False
    #: kwargs the writer spreads over several lines (e.g. CreateModel's fields).
    serialization_expand_args: list[str] = []

    def __new__(cls, *args: Any, **kwargs: Any) -> "Operation":
        obj = super().__new__(cls)
        obj._constructor_args = (args, kwargs)
        return obj

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        cls = type(self)
        name = cls.__name__ if cls.__module__.startswith("shoal.migrations.operations") else f"{cls.__module__}.{cls.__qualname__}"
        args, kwargs = self._constructor_args
        return name, tuple(args), dict(kwargs)

    def state_forwards(self, app_label: str, state: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement state_forwards()")

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement database_forwards()")

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        raise IrreversibleError(f"Operation {self.describe()} is not reversible.")

    def describe(self) -> str:
        return f"Custom operation {type(self).__name__}"

    def formatted_description(self) -> str:
        """``"+ Add field rating to author"``, as makemigrations prints it."""
        return f"{self.category} {self.describe()}"

    @property
    def migration_name_fragment(self) -> str | None:
        return None

    def references_model(self, name: str, app_label: str) -> bool:
        # Unknown operations are assumed to touch everything (safe for the optimizer).
        return True

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label)

    def allow_migrate_model(self, schema_editor: Any, app_label: str, model: Any) -> bool:
        """Whether this database should get schema changes for ``model``:
        managed, not a proxy, not swapped out, and allowed by the routers."""
        if model is None:
            return schema_editor.allow_migrate(app_label)
        if not model.managed or model.proxy or model.swapped:
            return False
        return schema_editor.allow_migrate(app_label, model_name=model.name_lower)

    def reduce(self, operation: "Operation", app_label: str) -> list["Operation"] | bool:
        if self.elidable:
            return [operation]
        if operation.elidable:
            return [self]
        return False

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return _comparable(self.deconstruct()) == _comparable(other.deconstruct())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        name, args, kwargs = self.deconstruct()
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"<{type(self).__name__} {', '.join(parts)}>"


def _comparable(value: Any) -> Any:
    """Deconstructions with fields replaced by their own deconstruction."""
    if getattr(value, "is_shoal_field", False) and not isinstance(value, type):
        return ("field",) + tuple(_comparable(v) for v in value.deconstruct()[1:])
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    return value


def lower(name: str) -> str:
    return name.lower()
