"""Operations on one field of a model: add, remove, alter, rename."""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.base import Category, Operation
from shoal.migrations.operations.footprint import independent
from shoal.migrations.state import ModelState, ProjectState
from shoal.models.fields import NOT_PROVIDED, Field
from shoal.models.fields.related import resolve_relation


class FieldOperation(Operation):
    """An operation on the field ``name`` of the model ``model_name``."""

    def __init__(self, model_name: str, name: str, field: Field | None = None) -> None:
        self.model_name, self.name, self.field = model_name, name, field

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    @property
    def name_lower(self) -> str:
        return self.name.lower()

    def is_same_model_operation(self, operation: Any) -> bool:
        return self.model_name_lower == getattr(operation, "model_name_lower", None)

    def is_same_field_operation(self, operation: Any) -> bool:
        return self.is_same_model_operation(operation) and self.name_lower == getattr(operation, "name_lower", None)

    def references_model(self, name: str, app_label: str) -> bool:
        name_lower = name.lower()
        if name_lower == self.model_name_lower:
            return True
        if self.field is not None and self.field.is_relation:
            target = resolve_relation(self.field.remote_field.model, app_label, self.model_name_lower)
            return target[1] == name_lower
        return False

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        if model_name.lower() == self.model_name_lower and name.lower() == self.name_lower:
            return True
        if self.field is not None and self.field.is_relation:
            target = resolve_relation(self.field.remote_field.model, app_label, self.model_name_lower)
            if target[1] == model_name.lower():
                to_field = self.field.remote_field.field_name
                return to_field is None or to_field.lower() == name.lower()
        return False

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        # Every field operation is gone once its model is deleted; adding an
        # M2M field is the exception (its table would outlive the model).
        if (isinstance(operation, _delete_model_class()) and operation.name_lower == self.model_name_lower  # type: ignore[attr-defined]
                and not (isinstance(self, AddField) and getattr(self.field, "many_to_many", False))):
            return [operation]
        return super().reduce(operation, app_label) or independent(self, operation, app_label)


_DELETE_MODEL: list[type] = []


def _delete_model_class() -> type:
    # models.py imports this module, so DeleteModel is looked up late (once).
    if not _DELETE_MODEL:
        from shoal.migrations.operations.models import DeleteModel

        _DELETE_MODEL.append(DeleteModel)
    return _DELETE_MODEL[0]


def _with_field_default(field: Field, preserve_default: bool) -> Field:
    """The field as kept in state: a one-off default (preserve_default=False)
    applies to existing rows only and is not part of the model."""
    field = field.clone()
    if not preserve_default:
        field.default = NOT_PROVIDED
    return field


def field_with_default(field: Field, default: Any) -> Field:
    """A fresh copy of ``field`` whose default is ``default`` (NOT_PROVIDED: none)."""
    _name, _path, args, kwargs = field.deconstruct()
    kwargs.pop("default", None)
    if default is not NOT_PROVIDED:
        kwargs["default"] = default
    return type(field)(*args, **kwargs)


def state_field(field: Field, preserve_default: bool) -> Field:
    """The field as the state keeps it (a one-off default removed); the same
    object when there is nothing to remove."""
    if preserve_default or not field.has_default():
        return field
    return field_with_default(field, NOT_PROVIDED)


def merge_field_changes(first: Field, first_preserve: bool, second: Field,
                        second_preserve: bool) -> tuple[Field, bool]:
    """``(field, preserve_default)`` for one AddField/AlterField that does what
    ``first`` then an AlterField to ``second`` do to one column.

    The state ends with ``second`` (without its default when that was one-off).
    When ``second`` has no default but ``first`` had one (kept or one-off), the
    rows that existed were filled from ``first``'s default; the merged
    operation keeps it as a one-off default, so it still has a value to put in
    them (a NOT NULL column without a default could not be added to a table
    with rows) and the model does not gain a default.
    """
    if second_preserve and not second.has_default() and first.has_default():
        return field_with_default(second, first.default), False
    return second, second_preserve


class AddField(FieldOperation):
    """Add a column (``preserve_default=False``: the default fills existing rows only)."""

    category = Category.ADDITION

    def __init__(self, model_name: str, name: str, field: Field, preserve_default: bool = True) -> None:
        self.preserve_default = preserve_default
        super().__init__(model_name, name, field)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "name": self.name, "field": self.field}
        if not self.preserve_default:
            kwargs["preserve_default"] = self.preserve_default
        return "AddField", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        field = _with_field_default(self.field, self.preserve_default)  # type: ignore[arg-type]
        field.set_attributes_from_name(self.name)
        state.update_model(app_label, self.model_name_lower, lambda m: m.fields.__setitem__(self.name, field))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            field = self.field.clone()  # type: ignore[union-attr]
            field.set_attributes_from_name(self.name)
            schema_editor.add_field(to_state, model, field)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_field(from_state, model, model.get_field(self.name))

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, FieldOperation) and self.is_same_field_operation(operation):
            if isinstance(operation, AlterField):
                field, preserve = merge_field_changes(self.field, self.preserve_default,  # type: ignore[arg-type]
                                                      operation.field, operation.preserve_default)  # type: ignore[arg-type]
                return [AddField(self.model_name, self.name, field, preserve_default=preserve)]
            if isinstance(operation, RemoveField):
                return []
            if isinstance(operation, RenameField):
                return [AddField(self.model_name, operation.new_name, self.field,  # type: ignore[arg-type]
                                 preserve_default=self.preserve_default)]
        return super().reduce(operation, app_label)

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.name_lower}"


class RemoveField(FieldOperation):
    """Drop a column."""

    category = Category.REMOVAL

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "RemoveField", (), {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(model: ModelState) -> None:
            if self.name not in model.fields:
                raise LookupError(f"Cannot remove field {self.name}: {model.label_lower} has no such field at this point in history.")
            del model.fields[self.name]

        state.update_model(app_label, self.model_name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_field(from_state, model, model.get_field(self.name))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.add_field(to_state, model, model.get_field(self.name))

    def describe(self) -> str:
        return f"Remove field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.name_lower}"


class AlterField(FieldOperation):
    """Change a column's type, nullability, default, uniqueness, index or relation."""

    category = Category.ALTERATION

    def __init__(self, model_name: str, name: str, field: Field, preserve_default: bool = True) -> None:
        self.preserve_default = preserve_default
        super().__init__(model_name, name, field)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "name": self.name, "field": self.field}
        if not self.preserve_default:
            kwargs["preserve_default"] = self.preserve_default
        return "AlterField", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        field = _with_field_default(self.field, self.preserve_default)  # type: ignore[arg-type]
        field.set_attributes_from_name(self.name)

        def change(model: ModelState) -> None:
            if self.name not in model.fields:
                raise LookupError(f"Cannot alter field {self.name}: {model.label_lower} has no such field at this point in history.")
            model.fields[self.name] = field

        state.update_model(app_label, self.model_name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old_model = from_state.get_model(app_label, self.model_name)
        new_model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, new_model):
            new_field = new_model.get_field(self.name)
            if not self.preserve_default:
                new_field = self.field.clone()  # type: ignore[union-attr]
                new_field.set_attributes_from_name(self.name)
            schema_editor.alter_field(from_state, old_model, old_model.get_field(self.name),
                                      to_state, new_model, new_field)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old_model = from_state.get_model(app_label, self.model_name)
        new_model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, new_model):
            schema_editor.alter_field(from_state, old_model, old_model.get_field(self.name),
                                      to_state, new_model, new_model.get_field(self.name))

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, FieldOperation) and self.is_same_field_operation(operation):
            if isinstance(operation, AlterField):
                field, preserve = merge_field_changes(self.field, self.preserve_default,  # type: ignore[arg-type]
                                                      operation.field, operation.preserve_default)  # type: ignore[arg-type]
                return [AlterField(self.model_name, self.name, field, preserve_default=preserve)]
            if isinstance(operation, RemoveField):
                return [operation]
            if isinstance(operation, RenameField):
                # Rename first, then alter under the new name: lets the
                # alteration meet later operations on that name.
                return [operation, AlterField(self.model_name, operation.new_name, self.field,  # type: ignore[arg-type]
                                              preserve_default=self.preserve_default)]
        return super().reduce(operation, app_label)

    def describe(self) -> str:
        return f"Alter field {self.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name_lower}"


class RenameField(FieldOperation):
    """Rename a field (and its column, unless db_column pins it)."""

    category = Category.ALTERATION

    def __init__(self, model_name: str, old_name: str, new_name: str) -> None:
        self.old_name, self.new_name = old_name, new_name
        super().__init__(model_name, old_name)

    @property
    def old_name_lower(self) -> str:
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "RenameField", (), {"model_name": self.model_name, "old_name": self.old_name, "new_name": self.new_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(model: ModelState) -> None:
            if self.old_name not in model.fields:
                raise LookupError(f"Cannot rename field {self.old_name}: {model.label_lower} has no such field at this point in history.")
            old = model.fields[self.old_name]
            renamed = old.clone()
            renamed.name = None  # type: ignore[assignment]
            renamed.set_attributes_from_name(self.new_name)
            model.fields = {(self.new_name if n == self.old_name else n): (renamed if n == self.old_name else f)
                            for n, f in model.fields.items()}
            if model.options.get("unique_together"):
                model.options["unique_together"] = {
                    tuple(self.new_name if f == self.old_name else f for f in group)
                    for group in model.options["unique_together"]
                }
            if model.options.get("order_with_respect_to") == self.old_name:
                model.options["order_with_respect_to"] = self.new_name
            if model.options.get("ordering"):
                model.options["ordering"] = [_rename_order(o, self.old_name, self.new_name) for o in model.options["ordering"]]

        state.update_model(app_label, self.model_name_lower, change)
        self._follow_to_field(app_label, state)

    def _follow_to_field(self, app_label: str, state: ProjectState) -> None:
        """Foreign keys that name the renamed field as their ``to_field`` follow it
        (as in Django's state), or the next operation would not find their target."""
        for rel_model, rel_field in list(state.relations_to(app_label, self.model_name_lower)):
            if rel_field.many_to_many or getattr(rel_field.remote_field, "field_name", None) != self.old_name:
                continue
            _name, _path, args, kwargs = rel_field.deconstruct()
            kwargs["to_field"] = self.new_name
            follower = type(rel_field)(*args, **kwargs)
            follower.set_attributes_from_name(str(rel_field.name))
            state.update_model(
                rel_model.app_label,
                rel_model.name_lower,
                lambda m, n=str(rel_field.name), f=follower: m.fields.__setitem__(n, f),
            )

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old_model = from_state.get_model(app_label, self.model_name)
        new_model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, new_model):
            schema_editor.alter_field(from_state, old_model, old_model.get_field(self.old_name),
                                      to_state, new_model, new_model.get_field(self.new_name))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old_model = from_state.get_model(app_label, self.model_name)
        new_model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, new_model):
            schema_editor.alter_field(from_state, old_model, old_model.get_field(self.new_name),
                                      to_state, new_model, new_model.get_field(self.old_name))

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return model_name.lower() == self.model_name_lower and name.lower() in (self.old_name_lower, self.new_name_lower)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if self.is_same_model_operation(operation):
            if isinstance(operation, RenameField) and operation.old_name_lower == self.new_name_lower:
                if operation.new_name == self.old_name:
                    return []  # renamed back
                return [RenameField(self.model_name, self.old_name, operation.new_name)]
            if isinstance(operation, RemoveField) and operation.name_lower == self.new_name_lower:
                return [RemoveField(self.model_name, self.old_name)]
        return super().reduce(operation, app_label)

    def describe(self) -> str:
        return f"Rename field {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name_lower}_{self.model_name_lower}_{self.new_name_lower}"


def _rename_order(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        prefix = "-" if value.startswith("-") else ""
        bare = value.lstrip("-")
        if bare == old:
            return prefix + new
    return value
