"""Operations on whole models: create, delete, rename, table and options."""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.base import Category, Operation
from shoal.migrations.operations.footprint import independent
from shoal.migrations.state import ModelState, ProjectState
from shoal.models.fields.related import resolve_relation


class ModelOperation(Operation):
    """An operation on the model ``self.name`` of the migration's app."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def name_lower(self) -> str:
        return self.name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        return super().reduce(operation, app_label) or independent(self, operation, app_label)


class CreateModel(ModelOperation):
    """Create a model's table (with its fields, options, bases and managers)."""

    category = Category.ADDITION
    serialization_expand_args = ["fields", "options", "managers"]

    def __init__(self, name: str, fields: list[tuple[str, Any]], options: dict[str, Any] | None = None,
                 bases: tuple[Any, ...] | None = None, managers: list[tuple[str, Any]] | None = None) -> None:
        self.fields = list(fields)
        self.options = options or {}
        self.bases = bases or ("shoal.models.Model",)
        self.managers = managers or []
        super().__init__(name)
        names = [n for n, _ in self.fields]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"Found duplicate value(s) {sorted(duplicates)} in CreateModel fields argument.")

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"name": self.name, "fields": self.fields}
        if self.options:
            kwargs["options"] = self.options
        if self.bases and self.bases != ("shoal.models.Model",):
            kwargs["bases"] = self.bases
        if self.managers and self.managers != [("objects", _default_manager())]:
            kwargs["managers"] = self.managers
        return "CreateModel", (), kwargs

    def model_state(self, app_label: str) -> ModelState:
        fields = [(name, field.clone()) for name, field in self.fields]
        return ModelState(app_label, self.name, fields, dict(self.options), tuple(self.bases), list(self.managers))

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_model(self.model_state(app_label))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.create_model(to_state, model)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.delete_model(from_state, model)

    def describe(self) -> str:
        return f"Create {'proxy ' if self.options.get('proxy') else ''}model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        from shoal.migrations.operations.create_fold import fold_into_create

        folded = fold_into_create(self, operation, app_label)
        if folded is not None:
            return folded
        return super().reduce(operation, app_label)

    def copy_with(self, **changes: Any) -> CreateModel:
        """A new CreateModel like this one with some arguments replaced."""
        kwargs: dict[str, Any] = {"name": self.name, "fields": self.fields, "options": self.options,
                                  "bases": self.bases, "managers": self.managers}
        kwargs.update(changes)
        return CreateModel(**kwargs)

    def references_model(self, name: str, app_label: str) -> bool:
        name_lower = name.lower()
        if name_lower == self.name_lower:
            return True
        for base in self.bases:
            if isinstance(base, str) and base.lower().split(".")[-1] == name_lower:
                return True
            if hasattr(base, "_meta") and base._meta.model_name == name_lower:
                return True
        for _, field in self.fields:
            if field.is_relation:
                target = resolve_relation(field.remote_field.model, app_label, self.name_lower)
                if target == (app_label, name_lower) or target[1] == name_lower and "." not in name:
                    return True
        return False


def _default_manager() -> Any:
    from shoal.models.manager import Manager

    return Manager()


class DeleteModel(ModelOperation):
    """Drop a model's table."""

    category = Category.REMOVAL

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "DeleteModel", (), {"name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_model(app_label, self.name_lower)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.delete_model(from_state, model)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.create_model(to_state, model)

    def describe(self) -> str:
        return f"Delete model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"delete_{self.name_lower}"


class RenameModel(ModelOperation):
    """Rename a model: its table (unless db_table is set), and relations to it."""

    category = Category.ALTERATION

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name, self.new_name = old_name, new_name
        super().__init__(old_name)

    @property
    def old_name_lower(self) -> str:
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "RenameModel", (), {"old_name": self.old_name, "new_name": self.new_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.rename_model(app_label, self.old_name, self.new_name)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.old_name)
        new = to_state.get_model(app_label, self.new_name)
        if self.allow_migrate_model(schema_editor, app_label, new):
            schema_editor.rename_model(from_state, old, to_state, new)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.new_name)
        new = to_state.get_model(app_label, self.old_name)
        if self.allow_migrate_model(schema_editor, app_label, new):
            schema_editor.rename_model(from_state, old, to_state, new)

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() in (self.old_name_lower, self.new_name_lower)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, RenameModel) and operation.old_name_lower == self.new_name_lower:
            if operation.new_name == self.old_name:
                return []  # renamed back
            return [RenameModel(self.old_name, operation.new_name)]
        if isinstance(operation, DeleteModel) and operation.name_lower == self.new_name_lower:
            return [DeleteModel(self.old_name)]
        return super().reduce(operation, app_label)

    def describe(self) -> str:
        return f"Rename model {self.old_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name_lower}_{self.new_name_lower}"


class _ModelOptionOperation(ModelOperation):
    category = Category.ALTERATION

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        if isinstance(operation, (type(self), DeleteModel)) and self.name_lower == operation.name_lower:  # type: ignore[attr-defined]
            return [operation]
        return super().reduce(operation, app_label)


class AlterModelTable(_ModelOptionOperation):
    """Change ``db_table`` (renames the table)."""

    def __init__(self, name: str, table: str | None) -> None:
        self.table = table
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AlterModelTable", (), {"name": self.name, "table": self.table}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(model: ModelState) -> None:
            if self.table:
                model.options["db_table"] = self.table
            else:
                model.options.pop("db_table", None)

        state.update_model(app_label, self.name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.name)
        new = to_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, new):
            schema_editor.alter_db_table(to_state, new, old.db_table, new.db_table)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Rename table for {self.name} to {self.table if self.table is not None else '(default)'}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_table"


class AlterModelTableComment(_ModelOptionOperation):
    """Change ``db_table_comment``."""

    def __init__(self, name: str, table_comment: str | None) -> None:
        self.table_comment = table_comment
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AlterModelTableComment", (), {"name": self.name, "table_comment": self.table_comment}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.update_model(app_label, self.name_lower,
                           lambda m: m.options.__setitem__("db_table_comment", self.table_comment))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.name)
        new = to_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, new):
            schema_editor.alter_db_table_comment(new, old.options.get("db_table_comment"), new.options.get("db_table_comment"))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Alter {self.name} table comment"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_table_comment"


class AlterModelOptions(_ModelOptionOperation):
    """Change Meta options that do not touch the schema (ordering, verbose names...)."""

    ALTER_OPTION_KEYS = [
        "base_manager_name", "default_manager_name", "default_related_name", "get_latest_by",
        "managed", "ordering", "permissions", "default_permissions", "select_on_save",
        "verbose_name", "verbose_name_plural",
    ]

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AlterModelOptions", (), {"name": self.name, "options": self.options}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(model: ModelState) -> None:
            for key in self.ALTER_OPTION_KEYS:
                if key in self.options:
                    model.options[key] = self.options[key]
                else:
                    model.options.pop(key, None)

        state.update_model(app_label, self.name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        pass

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        pass

    def describe(self) -> str:
        return f"Change Meta options on {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_options"


class AlterModelManagers(_ModelOptionOperation):
    """Change the managers kept in migration state (for RunPython)."""

    serialization_expand_args = ["managers"]

    def __init__(self, name: str, managers: list[tuple[str, Any]]) -> None:
        self.managers = managers
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AlterModelManagers", (self.name, self.managers), {}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.update_model(app_label, self.name_lower, lambda m: setattr(m, "managers", list(self.managers)))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        pass

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        pass

    def describe(self) -> str:
        return f"Change managers on {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_managers"
