"""The app registry: app label <-> module, the models of each app.

Model classes register themselves here when their class statement runs
(through the model metaclass).  ``apps.populate(specs)`` imports each app and
its ``models`` module; errors name the app and what to fix.
"""

from __future__ import annotations

import importlib
from typing import Any, Iterable

from shoal.conf import AppSpec
from shoal.exceptions import ConfigError


class AppConfig:
    """One installed app as the running process sees it."""

    def __init__(self, spec: AppSpec, apps: "Apps") -> None:
        self.spec = spec
        self.label = spec.label
        self.name = spec.module
        self.migrations_module = spec.migrations_module
        self.apps = apps
        self.models_module: Any = None

    @property
    def models(self) -> dict[str, type]:
        return self.apps.all_models.setdefault(self.label, {})

    def get_models(self) -> list[type]:
        return list(self.models.values())

    def __repr__(self) -> str:
        return f"<AppConfig {self.label} ({self.name})>"


class Apps:
    """A registry of apps and models (the project's own, or a historical one)."""

    def __init__(self) -> None:
        self.app_configs: dict[str, AppConfig] = {}
        # label -> model_name_lower -> class; filled as model classes are created.
        self.all_models: dict[str, dict[str, type]] = {}
        self.ready = False
        # Memos of two lookups asked once per model class (or per relation, in
        # the checks); dropped whenever an app or a model is registered.
        self._containing: dict[str, AppConfig | None] = {}
        self._models_memo: dict[bool, tuple[int, list[type]]] = {}

    def populate(self, specs: Iterable[AppSpec], import_models: bool = True) -> None:
        """Register every app and (unless told to wait) import its models module.

        Commands that only read migration files (``showmigrations``, a
        ``migrate`` with nothing to do) register the apps without importing
        their models; :meth:`import_models` does that on first real need.
        """
        self.app_configs = {}
        self.ready = False
        self._forget()
        for spec in specs:
            if spec.label in self.app_configs:
                raise ConfigError(f"Two apps have the label '{spec.label}'.")
            self.app_configs[spec.label] = AppConfig(spec, self)
        if import_models:
            self.import_models()

    def import_models(self) -> None:
        """Import each registered app and its models module, in order (once)."""
        if self.ready:
            return
        for config in self.app_configs.values():
            self._import(config.name, f"app '{config.label}'")
            config.models_module = self._import(f"{config.name}.models", f"models of app '{config.label}'", optional=True)
        self.ready = True

    @staticmethod
    def _import(module: str, what: str, optional: bool = False) -> Any:
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if optional and exc.name == module:
                return None
            missing = exc.name or module
            raise ConfigError(
                f"Cannot import {what} ({module}): no module named '{missing}'. "
                "Check [tool.shoal] apps and that the project directory contains it."
            ) from exc
        except Exception as exc:
            import traceback

            last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({last.filename}, line {last.lineno})" if last else ""
            if isinstance(exc, SyntaxError):
                where = f" ({exc.filename}, line {exc.lineno})"
            raise ConfigError(f"Cannot import {what} ({module}){where}: {type(exc).__name__}: {exc}") from exc

    def _forget(self) -> None:
        self.__dict__.setdefault("_containing", {}).clear()
        self.__dict__.setdefault("_models_memo", {}).clear()

    def get_containing_app_config(self, module: str) -> AppConfig | None:
        """The app whose package contains ``module`` (longest match wins)."""
        memo = self.__dict__.get("_containing")
        found = memo.get(module) if memo is not None else None
        if found is not None and self.app_configs.get(found.label) is found:
            return found
        best: AppConfig | None = None
        for config in self.app_configs.values():
            if module == config.name or module.startswith(config.name + "."):
                if best is None or len(config.name) > len(best.name):
                    best = config
        if memo is not None and best is not None:
            memo[module] = best
        return best

    def get_app_config(self, label: str) -> AppConfig:
        try:
            return self.app_configs[label]
        except KeyError:
            raise LookupError(f"No installed app with label '{label}'.") from None

    def register_model(self, app_label: str, model: type) -> None:
        name = model._meta.model_name  # type: ignore[attr-defined]
        self.all_models.setdefault(app_label, {})[name] = model
        memo = self.__dict__.get("_models_memo")
        if memo:
            memo.clear()

    def get_model(self, app_label: str, model_name: str | None = None) -> type:
        """``get_model("books", "Book")`` or ``get_model("books.Book")``."""
        if model_name is None:
            app_label, model_name = app_label.split(".")
        if app_label not in self.all_models and app_label not in self.app_configs:
            raise LookupError(f"No installed app with label '{app_label}'.")
        try:
            return self.all_models.get(app_label, {})[model_name.lower()]
        except KeyError:
            raise LookupError(f"App '{app_label}' doesn't have a '{model_name}' model.") from None

    def get_models(self, include_auto_created: bool = False) -> list[type]:
        # Asked once per relation by the checks: the list is remembered while
        # no model is registered and the number of models stays the same.
        memo = self.__dict__.get("_models_memo")
        count = sum(len(models) for models in self.all_models.values()) if memo is not None else -1
        if memo is not None:
            hit = memo.get(include_auto_created)
            if hit is not None and hit[0] == count:
                return list(hit[1])
        out: list[type] = []
        for label in self.app_configs:
            for model in self.all_models.get(label, {}).values():
                if include_auto_created or not model._meta.auto_created:  # type: ignore[attr-defined]
                    out.append(model)
        if memo is not None:
            memo[include_auto_created] = (count, out)
            return list(out)
        return out

    def clear(self) -> None:
        """Forget every app and model (tests call this between projects)."""
        self.app_configs.clear()
        self.all_models.clear()
        self.ready = False
        self._forget()


apps = Apps()
