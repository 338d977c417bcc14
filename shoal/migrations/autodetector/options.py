"""Meta options, table names and managers of models kept across the change.  [pure]"""

from __future__ import annotations

from typing import Any

from shoal.migrations import operations
from shoal.migrations.autodetector.base import Planned

Key = tuple[str, str]


class OptionChanges:
    """Mixin of :class:`MigrationAutodetector`: model-level option changes."""

    from_state: Any
    to_state: Any

    def add(self, app_label: str, operation: Any, model_key: Key | None = None,
            needs: list[Any] | None = None) -> Planned: ...

    def kept_models(self) -> list[tuple[Key, Key]]: ...

    def generate_altered_options(self) -> None:
        for old_key, new_key in self.kept_models():
            old, new = self.from_state.models[old_key], self.to_state.models[new_key]
            app = new_key[0]
            if old.options.get("db_table") != new.options.get("db_table"):
                self.add(app, operations.AlterModelTable(name=new.name_lower, table=new.options.get("db_table")), new_key)
            if (old.options.get("db_table_comment") or None) != (new.options.get("db_table_comment") or None):
                self.add(app, operations.AlterModelTableComment(name=new.name_lower, table_comment=new.options.get("db_table_comment")), new_key)
            keys = operations.AlterModelOptions.ALTER_OPTION_KEYS
            old_opts = {k: v for k, v in old.options.items() if k in keys}
            new_opts = {k: v for k, v in new.options.items() if k in keys}
            if old_opts != new_opts:
                self.add(app, operations.AlterModelOptions(name=new.name_lower, options=new_opts), new_key)
            if old.managers != new.managers:
                self.add(app, operations.AlterModelManagers(name=new.name_lower, managers=new.managers), new_key)
            self.generate_altered_together(app, new_key, old, new)
            self.generate_index_and_constraint_changes(app, new_key, old, new)

    def generate_index_and_constraint_changes(self, app: str, key: Key, old: Any, new: Any) -> None:
        """Indexes and constraints, matched by name: removed ones first, then added."""
        for option, add, remove in (("indexes", operations.AddIndex, operations.RemoveIndex),
                                    ("constraints", operations.AddConstraint, operations.RemoveConstraint)):
            before = {item.name: item for item in old.options.get(option, [])}
            after = {item.name: item for item in new.options.get(option, [])}
            for name, item in before.items():
                if name not in after or after[name] != item:
                    self.add(app, remove(model_name=new.name_lower, name=name), key)
            for name, item in after.items():
                if name not in before or before[name] != item:
                    kwarg = "index" if option == "indexes" else "constraint"
                    self.add(app, add(model_name=new.name_lower, **{kwarg: item}), key)

    def generate_altered_together(self, app: str, key: Key, old: Any, new: Any) -> None:
        """unique_together changes."""
        before = set(old.options.get("unique_together") or ())
        after = set(new.options.get("unique_together") or ())
        if before != after:
            self.add(app, operations.AlterUniqueTogether(name=new.name_lower, unique_together=after), key)
