"""Planning a squash and a single-migration optimization.  [pure]

``plan_squash`` picks the migrations ``squashmigrations APP [START] MIGRATION``
replaces, joins their operations (dropping elidable ones), optimizes them,
works out the dependencies, ``replaces`` and name, and returns a
:class:`SquashPlan` whose ``migration`` is ready for the writer.
``plan_optimization`` does the same for ``optimizemigration``.  Neither
writes files: ``render_migration`` (in ``squash_functions``) turns a plan's
migration into source, and the caller writes it.

Reads nothing but the loader it is given (which has already imported the
migrations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shoal.exceptions import CircularDependencyError, MigrationError
from shoal.migrations.loader import MigrationLoader
from shoal.migrations.migration import Migration
from shoal.migrations.operations import RunPython, RunSQL, SeparateDatabaseAndState
from shoal.migrations.optimizer import MigrationOptimizer

Key = tuple[str, str]

#: The guide's advice, quoted in the refusal to re-squash.
RESQUASH_ADVICE = (
    "Once you've squashed a migration, you should not then re-squash that squashed migration "
    "until you have fully transitioned it to a normal migration: deploy it everywhere, delete "
    "the migration files it replaces, and remove the `replaces` attribute from its Migration class."
)

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass
class SquashPlan:
    """What a squash will write.

    ``squashed``: the migrations replaced, in the order they apply.
    ``migration``: the new squashed migration (operations, dependencies,
    ``replaces``, ``initial``, ``atomic``, ``run_before``).
    ``original_count``: operations before optimization (elidable ones
    included); ``elided``: elidable operations dropped; ``optimized``:
    whether the optimizer ran.
    """

    app_label: str
    squashed: list[Migration]
    migration: Migration
    original_count: int
    elided: int = 0
    optimized: bool = True

    @property
    def final_count(self) -> int:
        return len(self.migration.operations)

    @property
    def source_modules(self) -> set[str]:
        """Modules of the replaced migrations (where RunPython code may live)."""
        return {type(m).__module__ for m in self.squashed}


@dataclass
class OptimizationPlan:
    """What ``optimizemigration`` will do to one migration."""

    migration: Migration
    operations: list[Any] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return len(self.operations) != len(self.migration.operations)

    @property
    def optimized_migration(self) -> Migration:
        """A copy of the migration with the optimized operations."""
        new = Migration(self.migration.name, self.migration.app_label)
        for attr in ("dependencies", "replaces", "run_before"):
            setattr(new, attr, list(getattr(self.migration, attr, None) or []))
        new.initial = getattr(self.migration, "initial", None)
        new.atomic = getattr(self.migration, "atomic", True)
        new.operations = list(self.operations)
        return new


# -- squash --------------------------------------------------------------------------------


def migrations_to_squash(loader: MigrationLoader, app_label: str, migration_name: str,
                         start_migration_name: str | None = None) -> list[Migration]:
    """The migrations of ``app_label`` up to ``migration_name`` (from
    ``start_migration_name`` when given), in the order they apply.

    ``loader`` must be built with ``replace_migrations=False``, so that a
    squashed migration and the ones it replaces are all visible.
    """
    if app_label not in loader.migrated_apps:
        raise MigrationError(f"App '{app_label}' does not have migrations (so none to squash).")
    target = loader.get_migration_by_prefix(app_label, migration_name)
    keys = [k for k in loader.graph.forwards_plan((app_label, target.name)) if k[0] == app_label]
    if start_migration_name is not None:
        start = loader.get_migration_by_prefix(app_label, start_migration_name)
        if (app_label, start.name) not in keys:
            raise MigrationError(
                f"The migration '{app_label}.{start.name}' cannot be found among the migrations "
                f"{app_label}.{target.name} depends on. Maybe it comes after the migration "
                f"'{app_label}.{target.name}'? Give the earlier migration as START."
            )
        keys = keys[keys.index((app_label, start.name)):]
    chosen = [loader.get_migration(*key) for key in keys]
    _refuse_resquash(loader, chosen)
    return chosen


def _refuse_resquash(loader: MigrationLoader, chosen: list[Migration]) -> None:
    for migration in chosen:
        if migration.replaces:
            raise MigrationError(
                f"You cannot squash squashed migrations: {migration.app_label}.{migration.name} "
                f"replaces {len(migration.replaces)} migration(s) and has not been transitioned "
                f"to a normal migration yet. {RESQUASH_ADVICE}"
            )
    chosen_keys = {m.key for m in chosen}
    for squash_key, squash in sorted(loader.replacements.items()):
        overlap = sorted(chosen_keys & {tuple(r) for r in squash.replaces})
        if overlap and squash_key not in chosen_keys:
            names = ", ".join(f"{a}.{n}" for a, n in overlap)
            raise MigrationError(
                f"Cannot squash {names} again: already replaced by the squashed migration "
                f"{squash_key[0]}.{squash_key[1]}. {RESQUASH_ADVICE}"
            )


def squash_name(chosen: list[Migration], start_given: bool, name: str | None) -> str:
    """``0001_squashed_0004_x``; ``0002_x_squashed_0004_y`` from a start
    migration; with ``name``, ``0001_<name>`` / ``<start number>_<name>``."""
    if name is not None and not _NAME.match(name):
        raise MigrationError(
            f"--squashed-name {name!r} is not a valid migration name: use letters, digits and underscores."
        )
    first, last = chosen[0], chosen[-1]
    if start_given:
        if name:
            return f"{first.name.split('_', 1)[0]}_{name}"
        return f"{first.name}_squashed_{last.name}"
    return f"0001_{name or f'squashed_{last.name}'}"


def plan_squash(loader: MigrationLoader, app_label: str, migration_name: str,
                start_migration_name: str | None = None, *, optimize: bool = True,
                squashed_name: str | None = None) -> SquashPlan:
    """Everything ``squashmigrations`` needs, without writing anything."""
    chosen = migrations_to_squash(loader, app_label, migration_name, start_migration_name)
    name = squash_name(chosen, start_migration_name is not None, squashed_name)
    if (app_label, name) in loader.disk_migrations:
        raise MigrationError(
            f"Migration {app_label}.{name} already exists. Use a different name (--squashed-name)."
        )
    operations: list[Any] = []
    original = elided = 0
    for migration in chosen:
        for operation in migration.operations:
            original += 1
            kept = _without_elidable(operation)
            if kept is not operation:
                elided += 1
            if kept is not None:
                operations.append(kept)
    if optimize:
        operations = MigrationOptimizer().optimize(operations, app_label)
    keys = {m.key for m in chosen}
    _check_no_cycle(loader, chosen, keys)
    new = Migration(name, app_label)
    new.operations = operations
    new.dependencies = _outside_dependencies(chosen, keys, app_label)
    new.run_before = _unique([r for m in chosen for r in (m.run_before or []) if tuple(r) not in keys])
    new.replaces = [m.key for m in chosen]
    new.initial = True if start_migration_name is None else None
    new.atomic = all(getattr(m, "atomic", True) for m in chosen)
    return SquashPlan(app_label, chosen, new, original, elided, optimize)


def _without_elidable(operation: Any) -> Any:
    """The operation as the squash keeps it: None when elidable; an elidable
    RunSQL's ``state_operations`` survive as state-only operations."""
    if not getattr(operation, "elidable", False):
        return operation
    if isinstance(operation, RunSQL) and operation.state_operations:
        return SeparateDatabaseAndState(state_operations=list(operation.state_operations))
    return None


def _outside_dependencies(chosen: list[Migration], keys: set[Key], app_label: str) -> list[Any]:
    """Every dependency of a squashed migration on a migration that is not
    squashed (other apps, or this app before START), once each, as written
    (``swappable_dependency`` and ``__first__`` forms kept)."""
    found: list[Any] = []
    for migration in chosen:
        for dep in migration.dependencies:
            key = (dep[0], dep[1])
            if key in keys or (dep[0] == app_label and dep[1] in ("__first__", "__latest__")):
                continue
            found.append(dep)
    return _unique(found)


def _unique(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[Key] = set()
    for item in items:
        key = (item[0], item[1])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _check_no_cycle(loader: MigrationLoader, chosen: list[Migration], keys: set[Key]) -> None:
    """Refuse a squash whose migration would depend on itself: one of the
    squashed migrations needs a migration outside the set that itself needs
    an earlier migration of the set."""
    graph = loader.graph
    for migration in chosen:
        for parent in sorted(graph.node_map[migration.key].parents):
            if parent in keys:
                continue
            upstream = [k for k in graph.forwards_plan(parent) if k in keys]
            if upstream:
                inner = upstream[-1]
                raise CircularDependencyError(
                    f"Cannot squash these migrations into one: {migration.app_label}.{migration.name} "
                    f"depends on {parent[0]}.{parent[1]}, which depends on {inner[0]}.{inner[1]}, "
                    "which would be part of the same squashed migration (a circular dependency). "
                    f"Squash a shorter range (squashmigrations {migration.app_label} START MIGRATION), "
                    "or move that dependency and the operation that needs it into a separate migration."
                )


# -- optimizemigration -------------------------------------------------------------------


def plan_optimization(loader: MigrationLoader, app_label: str, migration_name: str) -> OptimizationPlan:
    """The optimized operations of one migration (``optimizemigration``)."""
    if app_label not in loader.migrated_apps:
        raise MigrationError(f"App '{app_label}' does not have migrations.")
    migration = loader.get_migration_by_prefix(app_label, migration_name)
    operations = MigrationOptimizer().optimize(migration.operations, app_label)
    return OptimizationPlan(migration, operations)


def optimized_replacement(plan: OptimizationPlan) -> Migration:
    """``<name>_optimized``, replacing the original: used when the original
    file cannot simply be rewritten (its RunPython code could not be copied)."""
    original = plan.migration
    if original.replaces:
        raise MigrationError(
            f"Migration {original.app_label}.{original.name} is a squashed migration whose RunPython "
            "code could not be copied into a rewritten file. Transition it to a normal migration "
            "first (delete the migrations it replaces and its `replaces` attribute), or copy the "
            "functions into it by hand."
        )
    new = plan.optimized_migration
    new.name = f"{original.name}_optimized"
    new.replaces = [original.key]
    return new


def run_python_operations(operations: list[Any]) -> list[RunPython]:
    """Every RunPython among ``operations`` (also inside SeparateDatabaseAndState)."""
    found: list[RunPython] = []
    for op in operations:
        if isinstance(op, RunPython):
            found.append(op)
        elif isinstance(op, SeparateDatabaseAndState):
            found.extend(run_python_operations(op.database_operations))
    return found


# -- results (what Project returns to the commands) ------------------------------------------


@dataclass
class SquashResult:
    """A squash as done: ``path`` and ``rendered`` are None when not written
    (the confirmation was declined)."""

    plan: SquashPlan
    path: Any = None
    rendered: Any = None

    @property
    def written(self) -> bool:
        return self.path is not None


@dataclass
class OptimizeResult:
    """An optimizemigration run: ``path`` is None when nothing was written
    (nothing to optimize, or ``check``); ``replacement`` is the name of the
    ``_optimized`` migration written instead of rewriting the file."""

    plan: OptimizationPlan
    path: Any = None
    rendered: Any = None
    replacement: str | None = None
