"""Operations on a model's indexes, constraints and unique_together."""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.base import Category
from shoal.migrations.operations.models import ModelOperation, _ModelOptionOperation
from shoal.migrations.state import ModelState, ProjectState


class IndexOperation(ModelOperation):
    """An operation on ``model_name``'s Meta.indexes."""

    option_name = "indexes"

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        super().__init__(model_name)

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()


class AddIndex(IndexOperation):
    """Create an index."""

    category = Category.ADDITION

    def __init__(self, model_name: str, index: Any) -> None:
        if not index.name:
            raise ValueError(f"Indexes passed to AddIndex operations require a name argument. {index!r} doesn't have one.")
        self.index = index
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AddIndex", (), {"model_name": self.model_name, "index": self.index}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.update_model(app_label, self.model_name_lower, lambda m: m.options["indexes"].append(self.index.clone()))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.add_index(to_state, model, self.index)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_index(from_state, model, self.index)

    def describe(self) -> str:
        return f"Create index {self.index.name} on field(s) {', '.join(self.index.fields)} of model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.index.name.lower()}"


class RemoveIndex(IndexOperation):
    """Drop an index."""

    category = Category.REMOVAL

    def __init__(self, model_name: str, name: str) -> None:
        self.index_name = name
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "RemoveIndex", (), {"model_name": self.model_name, "name": self.index_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(m: ModelState) -> None:
            m.options["indexes"] = [i for i in m.options["indexes"] if i.name != self.index_name]

        state.update_model(app_label, self.model_name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_index(from_state, model, model.get_index_by_name(self.index_name))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.add_index(to_state, model, model.get_index_by_name(self.index_name))

    def describe(self) -> str:
        return f"Remove index {self.index_name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.index_name.lower()}"


class RenameIndex(IndexOperation):
    """Rename an index."""

    category = Category.ALTERATION

    def __init__(self, model_name: str, new_name: str, old_name: str | None = None,
                 old_fields: Any = None) -> None:
        if not old_name and not old_fields:
            raise ValueError("RenameIndex requires one of old_name and old_fields arguments to be set.")
        self.new_name, self.old_name, self.old_fields = new_name, old_name, old_fields
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model_name": self.model_name, "new_name": self.new_name}
        if self.old_name:
            kwargs["old_name"] = self.old_name
        if self.old_fields:
            kwargs["old_fields"] = self.old_fields
        return "RenameIndex", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(m: ModelState) -> None:
            if self.old_fields:
                # An unnamed index (index_together) becomes a named Meta.indexes entry.
                from shoal.models.indexes import Index

                m.options["indexes"] = [*m.options["indexes"], Index(fields=list(self.old_fields), name=self.new_name)]
                together = {tuple(g) for g in m.options.get("index_together") or ()} - {tuple(self.old_fields)}
                if "index_together" in m.options:
                    m.options["index_together"] = together
                return
            renamed = []
            for index in m.options["indexes"]:
                if index.name == self.old_name:
                    index = index.clone()
                    index.name = self.new_name
                renamed.append(index)
            m.options["indexes"] = renamed

        state.update_model(app_label, self.model_name_lower, change)

    def _unnamed_index(self, schema_editor: Any, model: ModelState) -> Any:
        """The index over ``old_fields`` as the database names it (the only one on those columns)."""
        from shoal.exceptions import MigrationError
        from shoal.models.indexes import Index

        table = model.db_table
        columns = [schema_editor.col(model.get_field(name)) for name in self.old_fields]
        expected = schema_editor.make_index_name(table, columns, "_idx")
        names = schema_editor.existing_names(table, expected, columns, index=True, unique=False, primary_key=False)
        if len(names) != 1:
            raise MigrationError(
                f"RenameIndex on {model.label_lower}: found {len(names)} indexes over "
                f"({', '.join(self.old_fields)}); expected exactly one. Use old_name= instead."
            )
        return Index(fields=list(self.old_fields), name=names[0])

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            if self.old_fields:
                old = self._unnamed_index(schema_editor, from_state.get_model(app_label, self.model_name))
            else:
                assert self.old_name is not None
                old = from_state.get_model(app_label, self.model_name).get_index_by_name(self.old_name)
            schema_editor.rename_index(to_state, model, old, model.get_index_by_name(self.new_name))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        if self.old_fields:
            return  # the index keeps its new name: there is no name to go back to (as in Django)
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            assert self.old_name is not None
            new = from_state.get_model(app_label, self.model_name).get_index_by_name(self.new_name)
            schema_editor.rename_index(to_state, model, new, model.get_index_by_name(self.old_name))

    def describe(self) -> str:
        if self.old_fields:
            return f"Rename unnamed index for {tuple(self.old_fields)} on {self.model_name} to {self.new_name}"
        return f"Rename index {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        if self.old_fields:
            return f"rename_{self.model_name_lower}_{'_'.join(self.old_fields)}_{self.new_name.lower()}"
        return f"rename_{(self.old_name or '').lower()}_{self.new_name.lower()}"


class AddConstraint(IndexOperation):
    """Add a UniqueConstraint or CheckConstraint."""

    category = Category.ADDITION
    option_name = "constraints"

    def __init__(self, model_name: str, constraint: Any) -> None:
        self.constraint = constraint
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AddConstraint", (), {"model_name": self.model_name, "constraint": self.constraint}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.update_model(app_label, self.model_name_lower,
                           lambda m: m.options["constraints"].append(self.constraint.clone()))

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.add_constraint(to_state, model, self.constraint)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_constraint(from_state, model, self.constraint)

    def describe(self) -> str:
        return f"Create constraint {self.constraint.name} on model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.constraint.name.lower()}"


class RemoveConstraint(IndexOperation):
    """Drop a constraint by name."""

    category = Category.REMOVAL
    option_name = "constraints"

    def __init__(self, model_name: str, name: str) -> None:
        self.constraint_name = name
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "RemoveConstraint", (), {"model_name": self.model_name, "name": self.constraint_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(m: ModelState) -> None:
            m.options["constraints"] = [c for c in m.options["constraints"] if c.name != self.constraint_name]

        state.update_model(app_label, self.model_name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = from_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.remove_constraint(from_state, model, model.get_constraint_by_name(self.constraint_name))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor, app_label, model):
            schema_editor.add_constraint(to_state, model, model.get_constraint_by_name(self.constraint_name))

    def describe(self) -> str:
        return f"Remove constraint {self.constraint_name} from model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"remove_{self.model_name_lower}_{self.constraint_name.lower()}"


class AlterUniqueTogether(_ModelOptionOperation):
    """Change Meta.unique_together."""

    option_name = "unique_together"

    def __init__(self, name: str, unique_together: Any) -> None:
        from shoal.models.options import normalize_together

        self.unique_together = set(normalize_together(unique_together)) if unique_together else set()
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return "AlterUniqueTogether", (), {"name": self.name, "unique_together": self.unique_together}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(m: ModelState) -> None:
            if self.unique_together:
                m.options["unique_together"] = set(self.unique_together)
            else:
                m.options.pop("unique_together", None)

        state.update_model(app_label, self.name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.name)
        new = to_state.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor, app_label, new):
            schema_editor.alter_unique_together(to_state, new, set(old.options.get("unique_together") or ()),
                                                set(new.options.get("unique_together") or ()))

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and any(name in group for group in self.unique_together)

    def describe(self) -> str:
        return f"Alter unique_together for {self.name} ({len(self.unique_together)} constraint(s))"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_unique_together"
