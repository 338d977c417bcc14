"""Apply and unapply migrations on one database, under the migration lock.

The executor plans from the graph and the recorder alone: deciding that there
is nothing to do never builds a project state nor imports migration files.
State is only replayed when there is work, and then once, forwards.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple

from shoal.exceptions import (
    IrreversibleError,
    MigrationApplyError,
    MigrationError,
    ShoalError,
)
from shoal.migrations.loader import MigrationLoader
from shoal.migrations.recorder import MigrationRecorder

if TYPE_CHECKING:  # imported where used: deciding there is nothing to do needs no state
    from shoal.migrations.state import ProjectState

Key = tuple[str, str]
Target = tuple[str, str | None]  # (app, name) or (app, None) for "zero"
Progress = Callable[..., None]


class MigrationCodeError(MigrationApplyError):
    """The user's own code (RunPython) raised; carries its traceback text."""

    def __init__(self, message: str, original: BaseException) -> None:
        self.original = original
        # Start at the user's code: shoal's own frames above it are not theirs to debug.
        tb = _first_user_frame(original.__traceback__) or original.__traceback__
        self.traceback_text = "".join(traceback.TracebackException(type(original), original, tb).format())
        super().__init__(message)


# Where frames are never the user's code: shoal itself and the standard library
# (contextlib, importlib, ... that shoal's own calls pass through) -- but
# installed packages (site-packages, often inside the latter) may be theirs.
_SHOAL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_PATHS = sysconfig.get_paths()
_PACKAGE_DIRS = tuple({os.path.abspath(_PATHS[k]) + os.sep for k in ("purelib", "platlib")})
_STDLIB_DIRS = tuple({os.path.abspath(_PATHS[k]) + os.sep for k in ("stdlib", "platstdlib")})


def _is_user_frame(tb: TracebackType) -> bool:
    filename = tb.tb_frame.f_code.co_filename
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    if path.startswith(_SHOAL_DIR):
        return False
    return path.startswith(_PACKAGE_DIRS) or not path.startswith(_STDLIB_DIRS)


def _first_user_frame(tb: TracebackType | None) -> TracebackType | None:
    """The first traceback entry in the user's code (None: shoal's own error)."""
    while tb is not None and not _is_user_frame(tb):
        tb = tb.tb_next
    return tb


class PlanStep(NamedTuple):
    """One migration of a plan, and whether it is unapplied."""

    migration: Any
    backwards: bool

    @property
    def key(self) -> Key:
        return self.migration.app_label, self.migration.name


class MigrationExecutor:
    """Plans and runs migrations for one connection."""

    def __init__(self, connection: Any, apps: Iterable[Any], progress: Progress | None = None,
                 router: Any = None, snapshot: Any = None) -> None:
        self.connection = connection
        self.snapshot = snapshot  # the project's graph snapshot (graph_cache.py), if any
        self.app_specs = list(apps)
        self.recorder = MigrationRecorder(connection)
        self.progress = progress or (lambda *a, **k: None)
        self.router = router
        self.loader = self._load()

    def _load(self) -> MigrationLoader:
        applied = self.recorder.applied_keys()
        self._loaded_with = applied
        return MigrationLoader(self.app_specs, applied, snapshot=self.snapshot)

    def reload(self) -> None:
        self.loader = self._load()

    def refresh(self) -> None:
        """Reload when another process applied migrations since the last load
        (called once the migration lock is held)."""
        if self.recorder.applied_keys() != getattr(self, "_loaded_with", None):
            self.reload()

    # -- planning -------------------------------------------------------------------

    def leaf_targets(self, app_label: str | None = None) -> list[Target]:
        return [k for k in self.loader.graph.leaf_nodes(app_label) if app_label is None or k[0] == app_label]

    def migration_plan(self, targets: list[Target], clean_start: bool = False) -> list[PlanStep]:
        """The steps that take the database to ``targets`` (forwards or backwards)."""
        graph = self.loader.graph
        applied: dict[Key, Any] = {} if clean_start else {
            k: self.loader.graph.nodes[k] for k in self.loader.applied_migrations if k in graph.nodes
        }
        plan: list[PlanStep] = []
        for target in targets:
            app, name = target
            if name is None:
                for root in graph.root_nodes(app):
                    for key in graph.backwards_plan(root):
                        if key in applied:
                            plan.append(PlanStep(graph.nodes[key], True))
                            applied.pop(key)
            elif target in applied:
                # Going back to ``target``: unapply what follows it in its app
                # (and everything in other apps that depends on that).
                children = sorted(k for k in _children(graph, target) if k[0] == app)
                for child in children:
                    for key in graph.backwards_plan(child):
                        if key in applied:
                            plan.append(PlanStep(graph.nodes[key], True))
                            applied.pop(key)
            else:
                for key in graph.forwards_plan(target):
                    if key not in applied:
                        plan.append(PlanStep(graph.nodes[key], False))
                        applied[key] = graph.nodes[key]
        return plan

    # -- running ----------------------------------------------------------------------

    def migrate(self, targets: list[Target] | None = None, *, fake: bool = False, fake_initial: bool = False,
                lock_timeout: float = 60.0) -> list[tuple[PlanStep, str]]:
        """Take the database to ``targets`` (all leaves when None).

        Holds the database's migration lock throughout, and re-reads what is
        applied once it has it, so a concurrent deploy that got there first
        leaves this one with nothing to do.  Returns ``(step, outcome)`` pairs.
        """
        done: list[tuple[PlanStep, str]] = []
        with self.connection.migration_lock(lock_timeout):
            self.recorder.ensure_schema()
            self.refresh()
            self.loader.check_consistent_history(self.loader.applied_migrations, database=self.connection.alias)
            self.record_complete_squashes()
            wanted = targets if targets is not None else self.leaf_targets()
            plan = self.migration_plan(wanted)
            self.progress("plan", plan=plan)
            if not plan:
                return done
            with self.connection.one_durable_flush(len(plan) > 1):
                self._run_plan(plan, done, fake, fake_initial)
            self.record_complete_squashes()
        return done

    def _run_plan(self, plan: list[PlanStep], done: list[tuple[PlanStep, str]], fake: bool,
                  fake_initial: bool) -> None:
        """Apply or unapply every step of ``plan`` (all one way), noting each in ``done``."""
        if all(not s.backwards for s in plan):
            state = self.applied_state()
            for segment in self._segments(plan, fake):
                with self._batch(len(segment) > 1):
                    for step in segment:
                        outcome = self.apply_migration(state, step.migration, fake=fake, fake_initial=fake_initial)
                        done.append((step, outcome))
        elif all(s.backwards for s in plan):
            if not fake:
                self._check_reversible(plan)
            states = self.states_for_unapply(plan)
            for step in plan:
                outcome = self.unapply_migration(states[step.key], step.migration, fake=fake)
                done.append((step, outcome))
        else:
            raise MigrationError(
                "Migration plans with both forwards and backwards migrations are not supported. "
                "Please split your migration process into separate plans of only forwards OR "
                "backwards migrations."
            )

    def record_complete_squashes(self) -> None:
        """Record a squashed migration as applied once every migration it
        replaces is, however they got applied (one by one, on a database that
        was part-way through when the squash arrived).  Without this, deleting
        the replaced files and the ``replaces`` list later would make the
        squashed migration look new, and migrate would run it again."""
        if not self.loader.replacements:
            return  # no squashed migration: nothing to ask the recorder
        recorded = self.recorder.applied_keys()
        for key, squash in sorted(self.loader.replacements.items()):
            if key not in recorded and all(tuple(r) in recorded for r in squash.replaces):
                self.recorder.record_applied(*key)

    @staticmethod
    def _check_reversible(plan: list[PlanStep]) -> None:
        """Refuse a backwards plan up front if any of its operations cannot be undone,
        so that no migration of it is unapplied before the irreversible one is met."""
        for step in plan:
            for op in step.migration.operations:
                if not getattr(op, "reversible", True):
                    describe = op.describe() if callable(getattr(op, "describe", None)) else type(op).__name__
                    raise IrreversibleError(
                        f"Operation '{describe}' in migration {step.migration.app_label}."
                        f"{step.migration.name} is not reversible, so the migration cannot be unapplied. "
                        "Give the operation a reverse (reverse_code / reverse_sql), or do not migrate back "
                        "past it. Nothing was unapplied."
                    )

    def _segments(self, plan: list[PlanStep], fake: bool) -> list[list[PlanStep]]:
        """Runs of consecutive atomic migrations that may share a transaction
        (see ``features.batch_migration_commits``); every other step alone."""
        if fake or not self.connection.features.batch_migration_commits:
            return [[step] for step in plan]
        segments: list[list[PlanStep]] = []
        for step in plan:
            if getattr(step.migration, "atomic", True) and segments and segments[-1][-1].migration.atomic:
                segments[-1].append(step)
            else:
                segments.append([step])
        return segments

    @contextmanager
    def _batch(self, enabled: bool) -> Iterator[None]:
        """One transaction around several migrations, each still in its own
        savepoint; on failure the migrations before the failing one are kept
        (committed), exactly as if each had committed on its own."""
        if not enabled:
            yield
            return
        connection = self.connection
        disabled = connection.disable_constraint_checking()
        try:
            block = connection.atomic()
            block.__enter__()
            try:
                yield
            except BaseException:
                block.__exit__(None, None, None)
                raise
            block.__exit__(None, None, None)
        finally:
            if disabled:
                connection.enable_constraint_checking()

    def _full_plan(self) -> list[Key]:
        graph = self.loader.graph
        return graph.forwards_plan_many(graph.leaf_nodes())

    def applied_state(self) -> ProjectState:
        """State with every applied migration replayed (in graph order): where a
        forwards plan starts."""
        from shoal.migrations.state import ProjectState

        state = ProjectState(real_apps=set(self.loader.unmigrated_apps))
        applied = self.loader.applied_migrations
        for key in self._full_plan():
            if key in applied:
                self.loader.graph.nodes[key].mutate_state(state, preserve=False)
        return state

    def states_for_unapply(self, plan: list[PlanStep]) -> dict[Key, ProjectState]:
        """For each migration to unapply, the state just before it was applied."""
        from shoal.migrations.state import ProjectState

        wanted = {s.key for s in plan}
        applied = self.loader.applied_migrations
        state = ProjectState(real_apps=set(self.loader.unmigrated_apps))
        states: dict[Key, ProjectState] = {}
        for key in self._full_plan():
            if not wanted - set(states):
                break
            if key in wanted:
                states[key] = state.clone()
            if key in applied or key in wanted:
                self.loader.graph.nodes[key].mutate_state(state, preserve=False)
        return states

    def apply_migration(self, state: ProjectState, migration: Any, fake: bool = False,
                        fake_initial: bool = False) -> str:
        """Apply one migration (advancing ``state``); returns "OK" or "FAKED"."""
        self.progress("apply_start", migration=migration, fake=fake)
        if not fake and fake_initial and self.detect_soft_applied(state, migration):
            fake = True
        if fake:
            migration.mutate_state(state, preserve=False)
            self._record(migration, applied=True)
            self.progress("apply_success", migration=migration, outcome="FAKED")
            return "FAKED"
        self._run(migration, state, backwards=False)
        self.progress("apply_success", migration=migration, outcome="OK")
        return "OK"

    def unapply_migration(self, state: ProjectState, migration: Any, fake: bool = False) -> str:
        self.progress("unapply_start", migration=migration, fake=fake)
        if fake:
            self._record(migration, applied=False)
            self.progress("unapply_success", migration=migration, outcome="FAKED")
            return "FAKED"
        self._run(migration, state, backwards=True)
        self.progress("unapply_success", migration=migration, outcome="OK")
        return "OK"

    def _record(self, migration: Any, applied: bool) -> None:
        keys = list(getattr(migration, "replaces", None) or []) or [(migration.app_label, migration.name)]
        for app, name in keys:
            if applied:
                self.recorder.record_applied(app, name)
            else:
                self.recorder.record_unapplied(app, name)
        if applied and getattr(migration, "replaces", None):
            # A squashed migration counts as applied under its own name too.
            self.recorder.record_applied(migration.app_label, migration.name)
        if not applied and getattr(migration, "replaces", None):
            self.recorder.record_unapplied(migration.app_label, migration.name)

    def _run(self, migration: Any, state: ProjectState, backwards: bool) -> None:
        """Run one migration in its own transaction where the backend allows it,
        recording it inside that same transaction."""
        ran: list[Any] = []
        atomic = bool(getattr(migration, "atomic", True))
        try:
            with self.connection.schema_editor(atomic=atomic) as editor:
                editor.router = self.router
                if backwards:
                    migration.unapply(state, editor, on_operation=lambda i, op: ran.append(op))
                else:
                    migration.apply(state, editor, on_operation=lambda i, op: ran.append(op))
                self._record(migration, applied=not backwards)
        except ShoalError as exc:
            message = self._failure_message(migration, ran, backwards, str(exc))
            if _first_user_frame(exc.__traceback__) is not None:
                # Raised through the user's own code (a RunPython's bad query): show where.
                raise MigrationCodeError(message, exc) from exc
            raise MigrationApplyError(message) from exc
        except Exception as exc:
            message = self._failure_message(migration, ran, backwards, f"{type(exc).__name__}: {exc}")
            raise MigrationCodeError(message, exc) from exc

    def _failure_message(self, migration: Any, ran: list[Any], backwards: bool, reason: str) -> str:
        verb = "Unapplying" if backwards else "Applying"
        text = f"{verb} {migration.app_label}.{migration.name} failed: {reason.rstrip()}"
        if not text.endswith((".", "!", "?")):
            text += "."
        rolled_back = self.connection.features.can_rollback_ddl and getattr(migration, "atomic", True)
        if rolled_back:
            return text + " The migration was rolled back; nothing of it was applied or recorded."
        finished = ran[:-1]
        if finished:
            listed = "; ".join(op.describe() for op in finished)
            why = (f"{self.connection.display_name} cannot roll back schema changes"
                   if not self.connection.features.can_rollback_ddl
                   else "The migration is not atomic (atomic = False), so it was not rolled back")
            return (f"{text} {why}, and these operations of it had already run: {listed}. The migration "
                    "was NOT recorded as applied: undo those changes by hand (or finish them) before "
                    "running migrate again.")
        return text + " None of its operations had completed; the migration was not recorded as applied."

    # -- fake-initial -------------------------------------------------------------------

    def detect_soft_applied(self, state: ProjectState, migration: Any) -> bool:
        """Whether an initial migration's tables (and columns) all exist already.

        True only when everything it creates is there; when some of it exists
        and some does not, refuse rather than guess.
        """
        from shoal.migrations.operations import AddField, CreateModel

        if not getattr(migration, "initial", False):
            return False
        introspection = self.connection.introspection
        tables = set(introspection.table_names())
        after = migration.mutate_state(state, preserve=True)
        found: list[str] = []
        missing: list[str] = []
        checked = False
        for op in migration.operations:
            if isinstance(op, CreateModel):
                model = after.get_model(migration.app_label, op.name)
                if not model.managed or model.proxy:
                    continue
                checked = True
                (found if model.db_table in tables else missing).append(f"table {model.db_table}")
            elif isinstance(op, AddField):
                model = after.get_model(migration.app_label, op.model_name)
                if not model.managed or model.proxy or op.field.many_to_many:
                    continue
                checked = True
                column = model.get_field(op.name).column
                has = model.db_table in tables and column in introspection.column_names(model.db_table)
                (found if has else missing).append(f"column {model.db_table}.{column}")
            else:
                return False
        if not checked or not found:
            return False
        if missing:
            raise MigrationError(
                f"Cannot fake-apply {migration.app_label}.{migration.name} with --fake-initial: "
                f"{', '.join(found)} exist(s) but {', '.join(missing)} do(es) not. The database does "
                "not match the migration; fix the schema by hand, or apply with --fake deliberately."
            )
        return True


def _children(graph: Any, key: Key) -> set[Key]:
    return set(graph.node_map[key].children)
