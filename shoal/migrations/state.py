"""Migration state as plain data.  [pure]

A :class:`ProjectState` maps ``(app_label, model_name_lower)`` to a
:class:`ModelState`: the name, fields, options, bases and managers of one model
at one point in history.  States are built either by replaying migrations'
``state_forwards`` or from the current model classes, and compared by the
autodetector.  Nothing here renders model classes: that happens lazily in
``historical.py`` and only for code that needs real classes (RunPython).

Copy-on-write: a ``ModelState`` inside a ``ProjectState`` is never mutated.
``ProjectState.clone()`` copies only the mapping, and every change replaces
the one model state it touches with a modified copy.  This keeps replaying
thousands of migrations linear in the number of operations.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

from shoal.exceptions import FieldDoesNotExist, ImproperlyConfigured
from shoal.models.fields import Field
from shoal.models.fields.related import resolve_relation
from shoal.models.options import DEFAULT_NAMES, default_db_table, normalize_together
from shoal.models.order_wrt import ORDER_FIELD, OrderWrt, is_order_field

ModelKey = tuple[str, str]

# Options that are not kept in state (they are implied or process-local).
_SKIP_OPTIONS = {"apps", "app_label", "abstract"}


class ModelState:
    """One model at one point in history."""

    __slots__ = ("app_label", "name", "fields", "options", "bases", "managers")

    def __init__(
        self,
        app_label: str,
        name: str,
        fields: Any,
        options: dict[str, Any] | None = None,
        bases: tuple[Any, ...] | None = None,
        managers: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.app_label = app_label
        self.name = name
        self.fields: dict[str, Field] = dict(fields)
        for fname, field in self.fields.items():
            if getattr(field, "is_relation", False) and hasattr(field.remote_field.model, "_meta"):
                raise ImproperlyConfigured(
                    f"Model state {app_label}.{name}.{fname} points at a model class; use 'app.model' strings."
                )
            if field.name is None or field.column is None:
                field.set_attributes_from_name(fname)
        self.options = dict(options or {})
        if self.options.get("order_with_respect_to") and ORDER_FIELD not in self.fields:
            self.fields[ORDER_FIELD] = order_field()
        self.options.setdefault("indexes", [])
        self.options.setdefault("constraints", [])
        self.bases = tuple(bases) if bases else ("shoal.models.Model",)
        self.managers = list(managers or [])

    # -- identity ------------------------------------------------------------

    @property
    def name_lower(self) -> str:
        return self.name.lower()

    @property
    def key(self) -> ModelKey:
        return self.app_label, self.name_lower

    @property
    def label_lower(self) -> str:
        return f"{self.app_label}.{self.name_lower}"

    @property
    def db_table(self) -> str:
        return self.options.get("db_table") or default_db_table(self.app_label, self.name_lower)

    @property
    def managed(self) -> bool:
        return self.options.get("managed", True)

    @property
    def swapped(self) -> bool:
        """Whether ``Meta.swappable`` names a setting that points at another model
        (such a model gets no table, like Django's auth.User when swapped)."""
        setting = self.options.get("swappable")
        if not setting:
            return False
        from shoal.conf import settings

        if not settings.configured:
            return False
        value = settings.get().swappable.get(setting)
        return bool(value) and str(value).lower() != self.label_lower

    @property
    def proxy(self) -> bool:
        return bool(self.options.get("proxy"))

    def get_field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            for field in self.fields.values():
                if field.attname == name:
                    return field
            raise FieldDoesNotExist(f"{self.app_label}.{self.name} has no field named '{name}'") from None

    @property
    def pk(self) -> Field | None:
        for field in self.fields.values():
            if field.primary_key:
                return field
        return None

    def get_index_by_name(self, name: str) -> Any:
        for index in self.options["indexes"]:
            if index.name == name:
                return index
        raise ValueError(f"No index named {name} on model {self.name}")

    def get_constraint_by_name(self, name: str) -> Any:
        for constraint in self.options["constraints"]:
            if constraint.name == name:
                return constraint
        raise ValueError(f"No constraint named {name} on model {self.name}")

    # -- copies ----------------------------------------------------------------

    def clone(self) -> "ModelState":
        """A copy whose containers may be changed; fields are shared (immutable)."""
        new = object.__new__(ModelState)
        new.app_label = self.app_label
        new.name = self.name
        new.fields = dict(self.fields)
        new.options = {k: (list(v) if isinstance(v, list) else v) for k, v in self.options.items()}
        new.bases = self.bases
        new.managers = list(self.managers)
        return new

    def deep_clone(self) -> "ModelState":
        """A copy with every field re-created from its deconstruction."""
        new = self.clone()
        new.fields = {name: _clone_field(f, name) for name, f in self.fields.items()}
        new.options = copy.deepcopy(self.options)
        return new

    # -- building from model classes -----------------------------------------

    @classmethod
    def from_model(cls, model: type, exclude_rels: bool = False) -> "ModelState":
        """The state of a model class (fields cloned, options as declared)."""
        opts = model._meta  # type: ignore[attr-defined]
        fields: dict[str, Field] = {}
        for field in opts.local_fields + opts.local_many_to_many:
            if exclude_rels and field.is_relation:
                continue
            if is_order_field(field.name, field):
                continue  # implied by order_with_respect_to; the constructor adds it
            fields[field.name] = _clone_field(field, field.name)
        options = _state_options(opts, fields)
        if opts.proxy:
            fields = {}
        bases = _flatten_bases(model)
        managers = _migration_managers(model)
        return cls(opts.app_label, opts.object_name, fields, options, bases, managers)

    # -- comparison ------------------------------------------------------------

    def field_signatures(self) -> list[tuple[str, Any]]:
        return [(name, f.deconstruct()[1:]) for name, f in self.fields.items()]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelState):
            return NotImplemented
        return (
            self.app_label == other.app_label
            and self.name == other.name
            and self.field_signatures() == other.field_signatures()
            and self.options == other.options
            and self.bases == other.bases
            and self.managers == other.managers
        )

    def __repr__(self) -> str:
        return f"<ModelState: '{self.app_label}.{self.name}'>"


def field_signature(field: Any, renamed: dict[tuple[str, str], tuple[str, str]] | None = None,
                    app_label: str = "", model_name: str = "") -> tuple[Any, ...]:
    """A comparable value for a field: its deconstruction with relation targets
    resolved to ``app.model`` (and mapped through model renames).  This is
    how the autodetector tells an altered field (see :func:`model_summary`)."""
    _name, path, args, kwargs = field.deconstruct()
    if "to" in kwargs:
        kwargs = dict(kwargs)
        target = resolve_relation(kwargs["to"], app_label, model_name)
        if renamed and target in renamed:
            target = renamed[target]
        kwargs["to"] = target
    return path, tuple(args), _freeze(kwargs)


def _freeze(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # the common leaves, before the isinstance checks below
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set):
        return frozenset(_freeze(v) for v in value)
    return value


def model_summary(model: ModelState) -> tuple[Any, ...]:
    """What the autodetector compares between the old and the new state of a
    model it keeps, or stricter: name, each field's deconstruction by field
    name (a dict: fields are matched by name, whatever their order), options
    and managers.  Two states whose models have equal summaries (and the same
    keys) need no migration: equal deconstructions give equal
    :func:`field_signature` values.  ``makemigrations`` compares the models
    with a summary cached with the history's end state (``state_cache.py``)."""
    fields = {name: f.deconstruct()[1:] for name, f in model.fields.items()}
    return (model.name, fields, model.options, model.managers)


def _state_options(opts: Any, fields: dict[str, Any], copy_named: bool = True) -> dict[str, Any]:
    """A model class's options as its state keeps them; ``fields`` (name ->
    field) gives the columns that name an unnamed index.  ``copy_named=False``
    (for a comparison only) keeps named indexes and constraints themselves
    instead of copies, which compare equal."""
    options: dict[str, Any] = {}
    for name in DEFAULT_NAMES:
        if name in _SKIP_OPTIONS or name not in opts.original_attrs:
            continue
        value = opts.original_attrs[name]
        if name == "unique_together":
            value = set(normalize_together(value)) if value else value
            if not value:
                continue
        elif name in ("indexes", "constraints"):
            if copy_named:
                value = [copy.deepcopy(v) for v in value]
            else:
                value = [v if getattr(v, "name", None) else copy.deepcopy(v) for v in value]
            if name == "indexes":
                for index in value:
                    if not index.name:
                        index.set_name_with_model_state(opts.db_table, [fields[f.lstrip("-")].column for f in index.fields])
        options[name] = value
    return options


_round_trip: frozenset[type] | None = None


def _round_trip_types() -> frozenset[type]:
    """shoal's own field classes: a clone of one deconstructs exactly as the
    field it was cloned from (``tests/core/test_planning_caches.py`` holds
    them to it), so their signature can be read off the model's own field."""
    global _round_trip
    if _round_trip is None:
        from shoal.models import fields as f

        _round_trip = frozenset({
            f.AutoField, f.BigAutoField, f.SmallAutoField, f.IntegerField, f.BigIntegerField,
            f.SmallIntegerField, f.PositiveIntegerField, f.PositiveSmallIntegerField,
            f.PositiveBigIntegerField, f.FloatField, f.DecimalField, f.BooleanField, f.CharField,
            f.SlugField, f.EmailField, f.URLField, f.TextField, f.DateField, f.DateTimeField,
            f.TimeField, f.DurationField, f.BinaryField, f.UUIDField, f.JSONField,
            f.GenericIPAddressField, f.ForeignKey, f.OneToOneField, f.ManyToManyField,
        })
    return _round_trip


def class_summary(model: type) -> tuple[Any, ...]:
    """``model_summary(ModelState.from_model(model))`` without building the
    state: fields of shoal's own classes are not cloned first (their clone
    deconstructs the same), any other field is, as ``from_model`` does."""
    opts = model._meta  # type: ignore[attr-defined]
    app_label = opts.app_label
    exact = _round_trip_types()
    fields: dict[str, Any] = {}
    signatures: dict[str, Any] = {}
    for field in opts.local_fields + opts.local_many_to_many:
        name = field.name
        if is_order_field(name, field):
            continue
        if type(field) not in exact:
            field = _clone_field(field, name)
            if getattr(field, "is_relation", False) and hasattr(field.remote_field.model, "_meta"):
                raise ImproperlyConfigured(f"Model state {app_label}.{opts.object_name}.{name} points at a model class.")
        fields[name] = field
        signatures[name] = field.deconstruct()[1:]
    options = _state_options(opts, fields, copy_named=False)
    if opts.proxy:
        signatures = {}
    if options.get("order_with_respect_to") and ORDER_FIELD not in signatures:
        signatures[ORDER_FIELD] = order_field().deconstruct()[1:]
    options.setdefault("indexes", [])
    options.setdefault("constraints", [])
    return (opts.object_name, signatures, options, _migration_managers(model))


def order_field() -> Field:
    """A bound ``_order`` field for a state with ``order_with_respect_to``."""
    field = OrderWrt()
    field.set_attributes_from_name(ORDER_FIELD)
    return field


def _clone_field(field: Field, name: str) -> Field:
    new = field.clone()
    new.set_attributes_from_name(name)
    return new


def _flatten_bases(model: type) -> tuple[Any, ...]:
    """Bases as stored in migrations: concrete model bases as 'app.model',
    abstract model bases replaced by their own bases, other classes kept."""
    from shoal.models.base import Model

    out: list[Any] = []

    def walk(bases: tuple[type, ...]) -> None:
        for base in bases:
            meta = getattr(base, "_meta", None)
            if meta is not None and meta.abstract:
                walk(base.__bases__)
            elif meta is not None:
                out.append(meta.label_lower)
            elif base is Model:
                out.append("shoal.models.Model")
            elif base is not object:
                out.append(base)

    walk(model.__bases__)
    unique: list[Any] = []
    for base in out:
        if base not in unique:
            unique.append(base)
    return tuple(unique) or ("shoal.models.Model",)


def _migration_managers(model: type) -> list[tuple[str, Any]]:
    """The managers a migration keeps, as Django does: each one with
    ``use_in_migrations``, and a plain ``Manager`` standing in for a default
    manager without it (so historical models still have their default manager
    under its name); a lone stand-in called ``objects`` is left implicit."""
    from shoal.models.manager import Manager

    declared = model._meta.managers  # type: ignore[attr-defined]
    default = model._meta.default_manager_name or (declared[0][0] if declared else None)  # type: ignore[attr-defined]
    managers: list[tuple[str, Any]] = []
    shim = None
    for name, manager in declared:
        if any(name == kept for kept, _ in managers):
            continue
        if getattr(manager, "use_in_migrations", False):
            new = copy.copy(manager)
            new.model = None
        elif name == default:
            new = shim = Manager()
        else:
            continue
        managers.append((name, new))
    if len(managers) == 1 and managers[0][0] == "objects" and managers[0][1] is shim:
        return []
    return managers


def _relations_of(model: ModelState, model_key: ModelKey, index: dict[ModelKey, Any]) -> list[tuple[Field, ModelKey]]:
    """``(field, target key)`` of each relation field of ``model``, in field order.

    Replaying a history asks :meth:`ProjectState.relations_to` once per field
    rename, over every model; the answer per model is remembered in ``index``
    and reused while the model state is the same object with the same name
    and the same fields mapping of the same size (a model state inside a
    project state is never changed in place: see the module docstring).
    """
    fields = model.fields
    entry = index.get(model_key)
    if (
        entry is not None
        and entry[0] is model
        and entry[1] is fields
        and entry[2] == len(fields)
        and entry[3] == model.name
        and entry[4] == model.app_label
    ):
        return entry[5]  # type: ignore[no-any-return]
    app, lower = model.app_label, model.name_lower
    pairs = [
        (field, resolve_relation(field.remote_field.model, app, lower))
        for field in fields.values() if field.is_relation
    ]
    index[model_key] = (model, fields, len(fields), model.name, model.app_label, pairs)
    return pairs


class ProjectState:
    """The models of every app at one point in history."""

    def __init__(self, models: dict[ModelKey, ModelState] | None = None, real_apps: set[str] | None = None) -> None:
        self.models: dict[ModelKey, ModelState] = dict(models or {})
        self.real_apps: set[str] = set(real_apps or ())
        self._apps: Any = None

    def clone(self) -> "ProjectState":
        """A copy that can change independently (models are shared until changed)."""
        return ProjectState(self.models, self.real_apps)

    # -- lookups ---------------------------------------------------------------

    def get_model(self, app_label: str, model_name: str) -> ModelState:
        try:
            return self.models[app_label, model_name.lower()]
        except KeyError:
            raise LookupError(f"No model '{model_name}' in app '{app_label}' at this point in the migration history.") from None

    def app_labels(self) -> set[str]:
        return {app for app, _ in self.models}

    def resolve_relation(self, model: ModelState, field: Field) -> ModelState:
        """The model state a relation field of ``model`` points at."""
        app, name = resolve_relation(field.remote_field.model, model.app_label, model.name_lower)
        try:
            return self.models[app, name]
        except KeyError:
            real = self._real_app_model(app, name)
            if real is not None:
                return real
            raise LookupError(
                f"Field {model.app_label}.{model.name}.{field.name} refers to model '{app}.{name}', "
                "which does not exist at this point in the migration history. Make sure the migration "
                "that creates it is a dependency."
            ) from None

    def _real_app_model(self, app: str, name: str) -> ModelState | None:
        """A model of an unmigrated app (``real_apps``), taken from the current
        model classes: migrations never create it, so it is not in ``models``."""
        if app not in self.real_apps:
            return None
        from shoal.apps import apps as global_apps

        model = global_apps.all_models.get(app, {}).get(name)
        return ModelState.from_model(model) if model is not None else None

    def related_target(self, model: ModelState, field: Field) -> tuple[ModelState, Field]:
        """``(target model, target field)`` of a foreign key."""
        target = self.resolve_relation(model, field)
        while target.proxy:
            base = next((b for b in target.bases if isinstance(b, str) and "." in b and b != "shoal.models.Model"), None)
            if base is None:
                break
            target = self.get_model(*base.split("."))
        name = field.remote_field.field_name
        target_field = target.get_field(name) if name else target.pk
        if target_field is None:
            raise LookupError(f"Model {target.label_lower} has no primary key at this point in history.")
        return target, target_field

    def relations_to(self, app_label: str, model_name: str) -> Iterator[tuple[ModelState, Field]]:
        """Every relation field (of any model) that points at the given model."""
        key = (app_label, model_name.lower())
        index: dict[ModelKey, Any] | None = self.__dict__.get("_relation_index")
        if index is None:
            index = self.__dict__["_relation_index"] = {}
        for model_key, model in self.models.items():
            for field, target in _relations_of(model, model_key, index):
                if target == key:
                    yield model, field

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_relation_index", None)  # a memo (see _relations_of), not part of the state
        return state

    # -- changes (each replaces the one model it touches) ------------------------

    def add_model(self, model_state: ModelState) -> None:
        self.models[model_state.key] = model_state
        self._apps = None

    def remove_model(self, app_label: str, model_name: str) -> None:
        del self.models[app_label, model_name.lower()]
        self._apps = None

    def update_model(self, app_label: str, model_name: str, change: Callable[[ModelState], None]) -> ModelState:
        """Replace a model with a modified copy: ``change(copy)`` edits the copy."""
        new = self.get_model(app_label, model_name).clone()
        change(new)
        self.models[new.key] = new
        self._apps = None
        return new

    def rename_model(self, app_label: str, old_name: str, new_name: str) -> None:
        old = self.get_model(app_label, old_name)
        new = old.clone()
        new.name = new_name
        del self.models[old.key]
        self.models[new.key] = new
        # Relations pointing at the old name now point at the new one.
        old_label, new_label = f"{app_label}.{old.name_lower}", f"{app_label}.{new_name.lower()}"
        for key, model in list(self.models.items()):
            changed: dict[str, Field] = {}
            for fname, field in model.fields.items():
                if field.is_relation:
                    target = resolve_relation(field.remote_field.model, model.app_label, model.name_lower)
                    if f"{target[0]}.{target[1]}" == old_label:
                        copy_ = _clone_field(field, fname)
                        copy_.remote_field.model = new_label
                        changed[fname] = copy_
            if changed:
                self.update_model(key[0], key[1], lambda m, c=changed: m.fields.update(c))
        self._apps = None

    # -- apps for RunPython ---------------------------------------------------------

    @property
    def apps(self) -> Any:
        """Historical model classes for this state, rendered on first use."""
        if self._apps is None:
            from shoal.migrations.historical import StateApps

            self._apps = StateApps(self)
        return self._apps

    @classmethod
    def from_apps(cls, apps: Any, labels: set[str] | None = None) -> "ProjectState":
        """The state of the current model classes of an app registry."""
        models: dict[ModelKey, ModelState] = {}
        for model in apps.get_models(include_auto_created=False):
            opts = model._meta
            if labels is not None and opts.app_label not in labels:
                continue
            state = ModelState.from_model(model)
            models[state.key] = state
        return cls(models)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectState) and self.models == other.models and self.real_apps == other.real_apps

    def __repr__(self) -> str:
        return f"<ProjectState: {len(self.models)} models>"
