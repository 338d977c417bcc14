"""The Python API behind the commands: one function per job, no printing.

``Project`` ties settings, the app registry, the migration files on disk and
the databases together.  The CLI parses arguments, calls one method here and
formats what it returns; tests and scripts can call the same methods.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from shoal import conf
from shoal.exceptions import ConfigError, ConflictError, MigrationError, ShoalError
from shoal.migrations.loader import MigrationLoader
from shoal.migrations.migration import Migration
from shoal.migrations.questioner import MigrationQuestioner, NonInteractiveQuestioner

if TYPE_CHECKING:  # the state pulls in the whole model layer: imported where used
    from shoal.migrations.state import ProjectState


class WrittenMigration(NamedTuple):
    """A migration makemigrations produced (and, unless dry-run, wrote)."""

    migration: Migration
    path: Path
    source: str


class MakeMigrationsResult:
    """What makemigrations wrote (or would write), per app label."""

    def __init__(self, changes: dict[str, list[WrittenMigration]] | None = None) -> None:
        self.changes: dict[str, list[WrittenMigration]] = changes if changes is not None else {}

    @property
    def empty(self) -> bool:
        return not any(self.changes.values())


class Project:
    """A configured shoal project (settings loaded, apps registered)."""

    def __init__(self, settings: conf.Settings) -> None:
        from shoal.apps import apps as registry
        from shoal.db.connections import connections

        self.settings = settings
        conf.settings.configure(settings)
        conf.add_project_to_path(settings.base_dir)
        connections.configure(settings.databases, settings.base_dir)
        self.connections = connections
        registry.clear()
        registry.populate(settings.apps, import_models=False)
        self._registry = registry

    @property
    def registry(self) -> Any:
        """The app registry with every app's models imported (on first use:
        commands that only read migration files never pay for it)."""
        self._registry.import_models()
        return self._registry

    @classmethod
    def load(cls, config: str | os.PathLike[str] | None = None) -> "Project":
        return cls(conf.load_settings(config))

    # -- shared pieces -----------------------------------------------------------------

    @property
    def app_specs(self) -> list[conf.AppSpec]:
        return self.settings.apps

    def check_app_labels(self, labels: list[str]) -> None:
        known = {a.label for a in self.app_specs}
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise ConfigError(
                f"No installed app with label {', '.join(repr(u) for u in unknown)}. "
                f"Installed apps: {', '.join(sorted(known)) or 'none'}."
            )

    def loader(self, applied: set[tuple[str, str]] | None = None, **kwargs: Any) -> MigrationLoader:
        from shoal.migrations.graph_cache import SNAPSHOT_FILE

        kwargs.setdefault("snapshot", self.settings.base_dir / "__pycache__" / SNAPSHOT_FILE)
        return MigrationLoader(self.app_specs, applied, **kwargs)

    def connection(self, alias: str = "default") -> Any:
        if alias not in self.settings.databases:
            raise ConfigError(
                f"No database named '{alias}'. Configured databases: {', '.join(sorted(self.settings.databases))}."
            )
        return self.connections[alias]

    def router(self) -> Any:
        from shoal.db.router import ConnectionRouter

        return ConnectionRouter(self.settings.routers)

    def ensure_no_conflicts(self, loader: MigrationLoader) -> None:
        conflicts = loader.detect_conflicts()
        if conflicts:
            listed = "; ".join(f"{', '.join(sorted(names))} in {app}" for app, names in sorted(conflicts.items()))
            raise ConflictError(
                f"Conflicting migrations detected; multiple leaf nodes in the migration graph: ({listed}). "
                "To fix them run 'shoal makemigrations --merge'."
            )

    def current_state(self, labels: set[str] | None = None) -> ProjectState:
        """The state of the models as declared now (migrated apps only)."""
        from shoal.migrations.state import ProjectState

        migrated = {a.label for a in self.app_specs if a.migrations_module is not None}
        wanted = migrated if labels is None else labels & migrated
        return ProjectState.from_apps(self.registry, wanted)

    def _models_match(self, summary: dict[Any, Any]) -> bool:
        """Whether the models (as :meth:`current_state` would see them) match
        the summarized end of the history, so that the autodetector would find
        nothing; any error here is left to the autodetector, which reports it."""
        from shoal.migrations import state_cache

        migrated = {a.label for a in self.app_specs if a.migrations_module is not None}
        try:
            return state_cache.unchanged(summary, state_cache.summarize_models(self.registry, migrated))
        except Exception:
            return False

    def history_state(self, loader: MigrationLoader) -> ProjectState:
        """The state at the end of the migration files (cached across runs)."""
        return self._history(loader).state  # type: ignore[no-any-return]

    def _history(self, loader: MigrationLoader) -> Any:
        """The end of the history as a ``state_cache.CachedState``: from the
        cache while no migration file changed; carried on from it when files
        were only added; else replayed (and cached)."""
        from shoal.migrations import state_cache

        sig = state_cache.signature(loader, self.settings.swappable)
        stored = state_cache.read(self.settings.base_dir, sig)
        cached = state_cache.cached_state(stored, sig, rebuild=loader.project_state)
        if cached is None:
            state = state_cache.resume(stored, sig, loader.graph)
            if state is None:
                state = loader.project_state()
            summary = state_cache.summarize(state)
            state_cache.store(self.settings.base_dir, sig, state, summary, nodes=loader.graph.nodes)
            cached = state_cache.CachedState(summary, state=state)
        return cached

    # -- makemigrations ------------------------------------------------------------------

    def make_migrations(self, app_labels: list[str] | None = None, *, name: str | None = None,
                        empty: bool = False, dry_run: bool = False,
                        questioner: MigrationQuestioner | None = None) -> MakeMigrationsResult:
        """Detect model changes and write the migrations that record them."""
        app_labels = list(app_labels or [])
        self.check_app_labels(app_labels)
        disabled = [label for label in app_labels if self.settings.app_by_label(label).migrations_module is None]
        if disabled:
            raise ConfigError(
                f"Cannot make migrations for app(s) {', '.join(repr(d) for d in disabled)}: migrations are "
                "disabled in [tool.shoal.migration_modules] (set to false). Remove that entry to give "
                "the app migrations."
            )
        # A configured migrations module that does not exist yet is created on write.
        loader = self.loader(ignore_no_migrations=True)
        self.ensure_no_conflicts(loader)
        questioner = questioner or NonInteractiveQuestioner(set(app_labels), dry_run=dry_run)
        if empty:
            if not app_labels:
                raise ConfigError("You must supply at least one app label when using --empty.")
            changes = {label: [self._empty_migration(loader, label, name)] for label in app_labels}
        else:
            history = self._history(loader)
            if self._models_match(history.summary):
                changes = {}  # what the autodetector would find, without building either state
            else:
                to_state = self.current_state()
                from shoal.migrations.autodetector import MigrationAutodetector

                detector = MigrationAutodetector(history.state, to_state, questioner)
                changes = detector.changes(loader.graph, trim_to_apps=set(app_labels) or None, migration_name=name)
        result = MakeMigrationsResult()
        if not changes:
            return result
        from shoal.migrations.writer import MigrationWriter

        for label, migrations in sorted(changes.items()):
            # Every file is rendered before anything is created: a value that
            # cannot be serialized leaves the project untouched.
            directory = self.migrations_directory(label, create=False)
            for migration in migrations:
                source = MigrationWriter(migration).as_string()
                path = directory / f"{migration.name}.py"
                result.changes.setdefault(label, []).append(WrittenMigration(migration, path, source))
        if not dry_run:
            for label in result.changes:
                self.migrations_directory(label, create=True)
            for written in (w for ws in result.changes.values() for w in ws):
                written.path.write_text(written.source, encoding="utf-8")
        return result

    def _empty_migration(self, loader: MigrationLoader, label: str, name: str | None) -> Migration:
        from shoal.migrations.naming import migration_number, numbered

        leaves = loader.graph.leaf_nodes(label)
        number = (migration_number(leaves[0][1]) or 0) + 1 if leaves else 1
        migration = Migration(numbered(number, name or ("initial" if not leaves else f"auto_{_stamp()}")), label)
        migration.dependencies = list(leaves[:1])
        migration.initial = None if leaves else True
        return migration

    def migrations_directory(self, label: str, create: bool = True) -> Path:
        """Where an app's migration files live (created with __init__.py if missing)."""
        spec = self.settings.app_by_label(label)
        if spec.migrations_module is None:
            raise ConfigError(f"App '{label}' has migrations disabled (migration_modules.{label} = false).")
        try:
            package = importlib.import_module(spec.migrations_module)
            return Path(list(package.__path__)[0])
        except ModuleNotFoundError:
            pass
        # Find the nearest existing package above it; create the packages below that.
        parts = spec.migrations_module.split(".")
        missing: list[str] = []
        parent = None
        while len(parts) > 1:
            missing.insert(0, parts.pop())
            try:
                parent = importlib.import_module(".".join(parts))
                break
            except ModuleNotFoundError:
                continue
        if parent is None or not hasattr(parent, "__path__"):
            raise ConfigError(
                f"Cannot create migrations module {spec.migrations_module} of app '{label}': none of its "
                "parent packages exists. Create the top package (a directory with an __init__.py) first."
            )
        base = Path(next(iter(parent.__path__)))
        directory = base.joinpath(*missing)
        if create:
            path = base
            for part in missing:
                path = path / part
                path.mkdir(exist_ok=True)
                init = path / "__init__.py"
                if not init.exists():
                    init.write_text("", encoding="utf-8")
            importlib.invalidate_caches()
        return directory

    # -- migrate ----------------------------------------------------------------------------

    def executor(self, database: str = "default", progress: Any = None) -> Any:
        from shoal.migrations.executor import MigrationExecutor
        from shoal.migrations.graph_cache import SNAPSHOT_FILE

        return MigrationExecutor(self.connection(database), self.app_specs, progress=progress, router=self.router(),
                                 snapshot=self.settings.base_dir / "__pycache__" / SNAPSHOT_FILE)

    def resolve_targets(self, executor: Any, app_label: str | None, migration_name: str | None) -> list[tuple[str, str | None]] | None:
        """Targets for ``migrate [APP [MIGRATION|zero]]`` (None: every leaf)."""
        if app_label is None:
            return None
        self.check_app_labels([app_label])
        loader = executor.loader
        if app_label not in loader.migrated_apps:
            raise MigrationError(f"App '{app_label}' does not have migrations.")
        if migration_name is None:
            return [key for key in loader.graph.leaf_nodes(app_label)]
        if migration_name == "zero":
            return [(app_label, None)]
        migration = loader.get_migration_by_prefix(app_label, migration_name)
        return [(app_label, migration.name)]

    def sync_unmigrated(self, database: str = "default") -> list[str]:
        """Create the missing tables of apps without migrations (``--run-syncdb``).

        Returns the names of the tables created.  Relations may point at
        models of migrated apps; their tables must exist (run it with migrate).
        """
        labels = {a.label for a in self.app_specs if a.migrations_module is None}
        loader = self.loader()
        labels |= set(loader.unmigrated_apps)
        if not labels:
            return []
        from shoal.migrations.state import ProjectState

        connection = self.connection(database)
        full = ProjectState.from_apps(self.registry)
        existing = set(connection.introspection.table_names())
        created = []
        router = self.router()
        with connection.schema_editor() as editor:
            editor.router = router
            for key, model in sorted(full.models.items()):
                if key[0] not in labels or not model.managed or model.proxy or model.db_table in existing:
                    continue
                if self._swapped_out(model):
                    continue
                if not editor.allow_migrate(key[0], model_name=key[1]):
                    continue
                editor.create_model(full, model)
                created.append(model.db_table)
        return created

    @staticmethod
    def _swapped_out(model: Any) -> bool:
        """Whether a model's ``Meta.swappable`` setting names another model (it gets no table)."""
        return bool(model.swapped)

    # -- sqlmigrate ---------------------------------------------------------------------------

    def sql_migrate(self, app_label: str, migration_name: str, *, backwards: bool = False,
                    database: str = "default") -> list[str]:
        """The SQL a migration runs, computed from state without connecting."""
        lines = self.sql_migrate_lines(app_label, migration_name, backwards=backwards, database=database)
        return [line.sql for line in lines]

    def sql_migrate_lines(self, app_label: str, migration_name: str, *, backwards: bool = False,
                          database: str = "default") -> list[SqlLine]:
        """:meth:`sql_migrate`, each statement with the notes (``SchemaNote``) about what
        it will lock or rewrite, so that ``sqlmigrate`` can say so before it."""
        self.check_app_labels([app_label])
        connection = self.connection(database)
        loader = self.loader(replace_migrations=False)
        if app_label not in loader.migrated_apps:
            raise MigrationError(f"App '{app_label}' does not have migrations.")
        migration = loader.get_migration_by_prefix(app_label, migration_name)
        key = (app_label, migration.name)
        state = loader.project_state(key, at_end=False)
        # The SQL this database would get, as migrate routes it.
        lines = collect_migration_sql(connection, migration, state, backwards=backwards, router=self.router())
        if migration.atomic and connection.features.can_rollback_ddl and lines:
            lines = [SqlLine("BEGIN;"), *lines, SqlLine("COMMIT;")]
        return lines

    def plan_notes(self, executor: Any, plan: list[Any]) -> dict[tuple[str, str], dict[int, list[Any]]]:
        """For ``migrate --plan``: the notes (``SchemaNote``) of each planned migration, by
        operation index, from the SQL it would run, collected without touching the database.

        States are replayed as ``executor.migrate`` replays them.  A migration whose SQL
        cannot be collected (e.g. it is irreversible and planned backwards) has no entry;
        going forwards the state is then unknown, so later migrations have none either.
        """
        found: dict[tuple[str, str], dict[int, list[Any]]] = {}
        if not plan:
            return found
        forwards = all(not step.backwards for step in plan)
        if forwards:
            state = executor.applied_state()
        elif all(step.backwards for step in plan):
            states = executor.states_for_unapply(plan)
        else:
            return found  # migrate refuses a mixed plan
        for step in plan:
            before = state if forwards else states[step.key]
            try:
                lines = collect_migration_sql(
                    executor.connection, step.migration, before, backwards=step.backwards, router=executor.router
                )
            except (ShoalError, NotImplementedError):
                if forwards:
                    break
                continue
            by_operation: dict[int, list[Any]] = {}
            for line in lines:
                if line.notes and line.operation is not None:
                    by_operation.setdefault(line.operation, []).extend(line.notes)
            found[step.key] = by_operation
        return found

    # == squashmigrations / optimizemigration (issue 7) =========================================
    # Planning lives in shoal/migrations/squash.py, file rendering in
    # shoal/migrations/squash_functions.py; these methods only load, confirm and write.

    def squash_migrations(self, app_label: str, migration_name: str, start_migration_name: str | None = None,
                          *, optimize: bool = True, squashed_name: str | None = None,
                          confirm: Any = None) -> Any:
        """Squash ``app_label``'s migrations up to ``migration_name`` (from
        ``start_migration_name``) into one migration that replaces them.

        ``confirm(plan) -> bool`` is called before anything is written; False
        writes nothing.  Returns a :class:`~shoal.migrations.squash.SquashResult`.
        """
        from shoal.migrations.squash import SquashResult, plan_squash
        from shoal.migrations.squash_functions import render_migration

        self.check_app_labels([app_label])
        loader = self.loader(replace_migrations=False)
        plan = plan_squash(loader, app_label, migration_name, start_migration_name,
                           optimize=optimize, squashed_name=squashed_name)
        if confirm is not None and not confirm(plan):
            return SquashResult(plan)
        rendered = render_migration(plan.migration, plan.source_modules)
        directory = Path(loader.disk_migrations[plan.squashed[-1].key].path).parent
        path = directory / f"{plan.migration.name}.py"
        path.write_text(rendered.source, encoding="utf-8")
        return SquashResult(plan, path, rendered)

    def optimize_migration(self, app_label: str, migration_name: str, *, check: bool = False) -> Any:
        """Rewrite one migration with its operations optimized (``check``: only
        report).  Returns a :class:`~shoal.migrations.squash.OptimizeResult`."""
        from shoal.migrations.squash import OptimizeResult, optimized_replacement, plan_optimization
        from shoal.migrations.squash_functions import render_migration

        self.check_app_labels([app_label])
        loader = self.loader(replace_migrations=False)
        plan = plan_optimization(loader, app_label, migration_name)
        if not plan.changed or check:
            return OptimizeResult(plan)
        module = type(plan.migration).__module__
        path = Path(loader.disk_migrations[plan.migration.key].path)
        rendered = render_migration(plan.optimized_migration, {module})
        if not rendered.needs_manual_porting:
            path.write_text(rendered.source, encoding="utf-8")
            return OptimizeResult(plan, path, rendered)
        # Its functions cannot move into a rewritten file: keep the file and write
        # an optimized migration that replaces it and still refers to them.
        replacement = optimized_replacement(plan)
        rendered = render_migration(replacement, {module})
        new_path = path.parent / f"{replacement.name}.py"
        if new_path.exists():
            raise MigrationError(f"Cannot write {new_path}: the file already exists. Remove it and run again.")
        new_path.write_text(rendered.source, encoding="utf-8")
        return OptimizeResult(plan, new_path, rendered, replacement.name)


def _stamp() -> str:
    import datetime

    return datetime.datetime.now().strftime("%Y%m%d_%H%M")


# -- sqlmigrate / migrate --plan: statements with their notes ---------------------------------


class SqlLine(NamedTuple):
    """One line of a migration's SQL, with what it will lock or rewrite.

    ``notes`` are the schema editor's ``SchemaNote``s about this statement (printed
    before it); ``operation`` is the index in ``migration.operations`` of the
    operation the line comes from (None for BEGIN/COMMIT).
    """

    sql: str
    notes: tuple[Any, ...] = ()
    operation: int | None = None


def collect_migration_sql(connection: Any, migration: Migration, state: ProjectState, *,
                          backwards: bool = False, router: Any = None) -> list[SqlLine]:
    """The SQL of ``migration`` (``state``: the state before it, advanced in place when
    going forwards) in a collecting schema editor, which never connects.

    Statements queued until the end of the editor block (indexes and foreign keys
    of new columns and tables) belong to the operation that queued them.
    """
    # id(queued statement) -> (the statement, kept alive so its id stays its own; operation index)
    owners: dict[int, tuple[Any, int]] = {}
    current: list[int] = []

    def claim(queued: list[Any]) -> None:
        for item in queued:
            if id(item) not in owners and current:
                owners[id(item)] = (item, current[-1])

    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        editor.router = router
        starts: list[tuple[int, int]] = []  # (first line, operation index)

        def on_operation(index: int, operation: Any) -> None:
            claim(editor.deferred_sql)
            current.append(index)
            starts.append((len(editor.collected_sql), index))

        if backwards:
            migration.unapply(state, editor, collect_sql=True, on_operation=on_operation)
        else:
            migration.apply(state, editor, collect_sql=True, on_operation=on_operation)
        claim(editor.deferred_sql)
        queued_from = len(editor.collected_sql)
        queued = list(editor.deferred_sql)  # run, one line each, as the block ends
    collected = list(editor.collected_sql)
    operation_of: list[int | None] = []
    for position in range(len(collected)):
        if position >= queued_from and position - queued_from < len(queued):
            owned = owners.get(id(queued[position - queued_from]))
            operation_of.append(owned[1] if owned else None)
            continue
        owner = None
        for first, index in starts:
            if first <= position:
                owner = index
        operation_of.append(owner)
    notes: dict[int, list[Any]] = {}
    for note in editor.notes:
        if note.statement is not None and collected:
            notes.setdefault(min(note.statement, len(collected) - 1), []).append(note)
    return [
        SqlLine(sql, tuple(notes.get(position, ())), operation_of[position])
        for position, sql in enumerate(collected)
    ]
