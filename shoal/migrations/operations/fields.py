"""Operations on one field of a model: add, remove, alter, rename."""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.base import Category, Operation
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
        return super().reduce(operation, app_label) or not operation.references_field(
            self.model_name, self.name, app_label
        )


def _with_field_default(field: Field, preserve_default: bool) -> Field:
    """The field as kept in state: a one-off default (preserve_default=False)
    applies to existing rows only and is not part of the model."""
    field = field.clone()
    if not preserve_default:
        field.default = NOT_PROVIDED
    return field


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
            if model.options.get("ordering"):
                model.options["ordering"] = [_rename_order(o, self.old_name, self.new_name) for o in model.options["ordering"]]

        state.update_model(app_label, self.model_name_lower, change)

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
