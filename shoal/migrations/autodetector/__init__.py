"""Autodetector: the difference between two project states as migrations.  [pure]

``MigrationAutodetector(from_state, to_state, questioner).changes(graph)``
returns ``{app_label: [Migration, ...]}``.  Work is split by family of change:

- ``models.py``   models created, deleted, renamed (and circular foreign keys)
- ``fields.py``   fields added, removed, altered, renamed
- ``options.py``  Meta options, table names, managers, indexes, constraints
- ``planning.py`` operations with dependencies -> per-app migrations, named

Every generated operation is a :class:`Planned` with the operations it needs
to come after; planning chunks them into migrations so that a migration only
depends on migrations that exist, splitting where a cycle requires it.
"""

from __future__ import annotations

from typing import Any

from shoal.migrations.autodetector.base import Planned
from shoal.migrations.autodetector.fields import FieldChanges
from shoal.migrations.autodetector.models import ModelChanges
from shoal.migrations.autodetector.options import OptionChanges
from shoal.migrations.autodetector.planning import build_migrations
from shoal.migrations.questioner import MigrationQuestioner
from shoal.migrations.state import ProjectState
from shoal.models.order_wrt import is_order_field


class MigrationAutodetector(ModelChanges, FieldChanges, OptionChanges):
    """Compares two :class:`ProjectState` values and plans the operations between them."""

    def __init__(self, from_state: ProjectState, to_state: ProjectState,
                 questioner: MigrationQuestioner | None = None) -> None:
        self.from_state = _declared(from_state)
        self.to_state = _declared(to_state)
        self.questioner = questioner or MigrationQuestioner()
        self.planned: list[Planned] = []
        # New-state model key -> the op that makes it exist (CreateModel / RenameModel).
        self.creators: dict[tuple[str, str], Planned] = {}
        # Old key -> new key for renamed models.
        self.renamed_models: dict[tuple[str, str], tuple[str, str]] = {}
        self._last_for_model: dict[tuple[str, str], Planned] = {}

    def add(self, app_label: str, operation: Any, model_key: tuple[str, str] | None = None,
            needs: list[Any] | None = None) -> Planned:
        """Plan ``operation``; it also comes after the previous operation on the same model."""
        planned = Planned(app_label, operation, list(needs or []))
        if model_key is not None:
            previous = self._last_for_model.get(model_key)
            if previous is not None:
                planned.needs.append(previous)
            self._last_for_model[model_key] = planned
        self.planned.append(planned)
        return planned

    def detect(self) -> list[Planned]:
        """All operations, in the order of the guide's families of change."""
        self.from_keys = {k for k, m in self.from_state.models.items()}
        self.to_keys = {k for k, m in self.to_state.models.items()}
        self.generate_renamed_models()
        self.generate_created_models()
        self.generate_altered_options()
        self.generate_renamed_fields()
        self.generate_removed_indexes_and_constraints()
        self.generate_renamed_indexes()
        self.generate_removed_altered_unique_together()
        self.generate_removed_fields()
        self.generate_deleted_models()
        self.generate_added_fields()
        self.generate_altered_fields()
        self.generate_altered_order_with_respect_to()
        self.generate_altered_unique_together()
        self.generate_added_indexes_and_constraints()
        self.generate_altered_db_table()
        return self.planned

    def changes(self, graph: Any, trim_to_apps: set[str] | None = None,
                migration_name: str | None = None) -> dict[str, list[Any]]:
        """Plan the migrations that take ``from_state`` to ``to_state``."""
        self.detect()
        return build_migrations(self.planned, graph, trim_to_apps=trim_to_apps, migration_name=migration_name)


def _declared(state: ProjectState) -> ProjectState:
    """``state`` with each model's implicit ``_order`` field left out: it
    follows ``order_with_respect_to`` and is never an operation of its own."""
    models = {}
    for key, model in state.models.items():
        if any(is_order_field(name, field) for name, field in model.fields.items()):
            model = model.clone()
            model.fields = {n: f for n, f in model.fields.items() if not is_order_field(n, f)}
        models[key] = model
    return ProjectState(models, state.real_apps)


__all__ = ["MigrationAutodetector", "Planned"]
