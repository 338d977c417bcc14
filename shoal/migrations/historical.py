"""Historical model classes for RunPython: a ``ProjectState`` rendered as classes.

``StateApps(state)`` is the ``apps`` argument a RunPython function receives.
On the first ``get_model()`` it renders every model of the state, once: each
class is built only from its :class:`~shoal.migrations.state.ModelState` --
cloned fields, the Meta options of that point in history, the bases (other
historical classes for ``"app.model"`` bases, plain classes as given) and the
managers marked ``use_in_migrations`` (or a plain ``objects``).  None of the
real model's methods exist on it.  Classes register only in this registry;
relations between them resolve here too.

Which database the historical models use: the executor runs RunPython code
inside ``bind_connection(schema_editor.connection)`` (re-exported here), or
passes ``StateApps(state, connection=...)`` / sets ``apps.connection``.
Querysets without an explicit ``using()`` then run on that connection, in the
migration's transaction.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

from shoal.apps import Apps
from shoal.exceptions import ImproperlyConfigured
from shoal.models.sql import bind_connection

__all__ = ["StateApps", "bind_connection", "HISTORICAL_MODULE"]

#: ``__module__`` of every historical class (they are importable from nowhere).
HISTORICAL_MODULE = "__fake__"


def _import_base(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ImproperlyConfigured(
            f"Cannot import model base class '{path}' named in a migration: {exc}. Keep base "
            "classes importable as long as a migration refers to them."
        ) from exc


class StateApps(Apps):
    """An app registry holding the historical model classes of one ``ProjectState``."""

    def __init__(self, state: Any, connection: Any = None) -> None:
        super().__init__()
        self.state = state
        #: The database wrapper historical querysets use when none is given explicitly.
        self.connection = connection
        self._rendered = False
        self.ready = True

    # -- rendering -------------------------------------------------------------

    def render(self) -> None:
        """Build every model class of the state (done once, on first use)."""
        if self._rendered:
            return
        self._rendered = True
        states = dict(self.state.models)
        real = set(getattr(self.state, "real_apps", ()) or ())
        if real:
            states.update(self._real_app_states(real, states))
        building: set[tuple[str, str]] = set()
        for key in states:
            self._render_one(key, states, building)

    def _render_closure(self, key: tuple[str, str]) -> None:
        """Build ``key`` and what it points at (relations, bases), not the
        whole state: a data migration usually touches a few models of many.
        Reverse relations (cascades) trigger the full :meth:`render`."""
        if self._rendered or self.all_models.get(key[0], {}).get(key[1]) is not None:
            return
        states = dict(self.state.models)
        real = set(getattr(self.state, "real_apps", ()) or ())
        if real:
            states.update(self._real_app_states(real, states))
        if key not in states:
            return
        from shoal.models.fields.related import resolve_relation

        todo, seen = [key], {key}
        while todo:
            current = todo.pop()
            ms = states[current]
            for field in ms.fields.values():
                if getattr(field, "is_relation", False):
                    target = resolve_relation(field.remote_field.model, ms.app_label, ms.name_lower)
                    through = getattr(field, "through", None)
                    extra = [target]
                    if isinstance(through, str) and "." in through:
                        app, _, name = through.rpartition(".")
                        extra.append((app, name.lower()))
                    for nxt in extra:
                        if nxt in states and nxt not in seen:
                            seen.add(nxt)
                            todo.append(nxt)
        building: set[tuple[str, str]] = set()
        for needed in sorted(seen):
            self._render_one(needed, states, building)

    @staticmethod
    def _real_app_states(labels: set[str], known: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
        """Model states of unmigrated apps, taken from the current model classes."""
        from shoal.apps import apps as global_apps
        from shoal.migrations.state import ModelState

        out: dict[tuple[str, str], Any] = {}
        for label in labels:
            for model in global_apps.all_models.get(label, {}).values():
                ms = ModelState.from_model(model)
                if ms.key not in known:
                    out[ms.key] = ms
        return out

    def _render_one(self, key: tuple[str, str], states: dict[tuple[str, str], Any],
                    building: set[tuple[str, str]]) -> type:
        existing = self.all_models.get(key[0], {}).get(key[1])
        if existing is not None:
            return existing
        if key in building:
            raise ImproperlyConfigured(f"Model {key[0]}.{key[1]} inherits from itself through its bases.")
        building.add(key)
        ms = states[key]
        bases = tuple(self._resolve_base(b, ms, states, building) for b in ms.bases)
        cls = self._build(ms, bases)
        building.discard(key)
        return cls

    def _resolve_base(self, base: Any, ms: Any, states: dict[tuple[str, str], Any],
                      building: set[tuple[str, str]]) -> Any:
        if not isinstance(base, str):
            return base
        if base in ("shoal.models.Model", "shoal.models.base.Model"):
            from shoal.models import Model

            return Model
        app, _, name = base.rpartition(".")
        key = (app, name.lower())
        if key in states:
            return self._render_one(key, states, building)
        if app and "." not in app:
            raise ImproperlyConfigured(
                f"Model {ms.app_label}.{ms.name} has base '{base}', which is not in the migration "
                f"state. The migration must depend on the migration of app '{app}' that creates it."
            )
        return _import_base(base)

    def _build(self, ms: Any, bases: tuple[type, ...]) -> type:
        meta_attrs: dict[str, Any] = {}
        for name, value in ms.options.items():
            meta_attrs[name] = list(value) if isinstance(value, list) else value
        meta_attrs["app_label"] = ms.app_label
        meta_attrs["apps"] = self
        attrs: dict[str, Any] = {
            "__module__": HISTORICAL_MODULE,
            "__qualname__": ms.name,
            "Meta": type("Meta", (), meta_attrs),
        }
        for fname, field in ms.fields.items():
            attrs[fname] = field.clone()
        for mname, manager in ms.managers:
            clone = copy.copy(manager)
            clone.model = None
            clone.name = None
            attrs[mname] = clone
        return type(ms.name, bases, attrs)

    # -- the registry interface ---------------------------------------------------

    def register_model(self, app_label: str, model: type) -> None:
        self.all_models.setdefault(app_label, {})[model._meta.model_name] = model  # type: ignore[attr-defined]

    def get_containing_app_config(self, module: str) -> Any:
        return None

    def _labels(self) -> set[str]:
        labels = {app for app, _ in self.state.models}
        labels.update(getattr(self.state, "real_apps", ()) or ())
        return labels

    def get_model(self, app_label: str, model_name: str | None = None, require_ready: bool = True) -> type:
        """The historical class ``get_model("books", "Book")`` (or ``"books.Book"``).

        LookupError when the app or the model is not in the state at this point.
        """
        if model_name is None:
            app_label, _, model_name = app_label.partition(".")
        if app_label not in self._labels():
            raise LookupError(
                f"No installed app with label '{app_label}'. The migration that uses it must depend "
                f"on {app_label}'s latest migration (add ('{app_label}', '<name>') to its dependencies)."
            )
        self._render_closure((app_label, model_name.lower()))
        try:
            return self.all_models[app_label][model_name.lower()]
        except KeyError:
            raise LookupError(
                f"App '{app_label}' doesn't have a '{model_name}' model at this point in the migration "
                f"history. If a later migration creates it, make this migration depend on that one."
            ) from None

    def get_models(self, include_auto_created: bool = False) -> list[type]:
        """Every historical model class, in state order."""
        self.render()
        out: list[type] = []
        for models in self.all_models.values():
            for model in models.values():
                if include_auto_created or not model._meta.auto_created:  # type: ignore[attr-defined]
                    out.append(model)
        return out

    def get_app_config(self, label: str) -> Any:
        if label not in self._labels():
            return super().get_app_config(label)
        return _StateAppConfig(label, self)

    def is_installed(self, label: str) -> bool:
        return label in self._labels()

    def bind(self, connection: Any) -> Any:
        """``with apps.bind(conn):`` -- querysets run on ``conn`` inside the block."""
        return bind_connection(connection)

    def __repr__(self) -> str:
        return f"<StateApps: {len(self.state.models)} models>"


class _StateAppConfig:
    """The minimal app config a historical registry gives out."""

    def __init__(self, label: str, apps: StateApps) -> None:
        self.label = label
        self.name = label
        self.apps = apps

    def get_models(self) -> list[type]:
        self.apps.render()
        return list(self.apps.all_models.get(self.label, {}).values())

    def get_model(self, name: str) -> type:
        return self.apps.get_model(self.label, name)

    def __repr__(self) -> str:
        return f"<StateAppConfig {self.label}>"
