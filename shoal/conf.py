"""Project settings: find ``[tool.shoal]``, read it, apply ``DATABASE_URL``.

Settings are resolved once per process (by the CLI or :func:`shoal.setup`) into
a :class:`Settings` value; ``from shoal.conf import settings`` gives a lazy
proxy to it, so that models can say ``settings.AUTH_USER_MODEL``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from shoal.exceptions import ConfigError

DEFAULT_DATABASE = "sqlite:///db.sqlite3"
DEFAULT_AUTO_FIELD = "shoal.models.BigAutoField"


class AppSpec(NamedTuple):
    """One installed app: its import path, label and migrations module.

    ``migrations_module`` is ``None`` when the project disabled migrations for
    the app (``migration_modules = {label = false}``): an unmigrated app.
    """

    module: str
    label: str
    migrations_module: str | None


class SettingReference(str):
    """A string that remembers which setting it came from, so a ForeignKey to
    ``settings.AUTH_USER_MODEL`` is written back as the setting, not its value."""

    setting_name: str

    def __new__(cls, value: str, setting_name: str) -> "SettingReference":
        obj = super().__new__(cls, value)
        obj.setting_name = setting_name
        return obj

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return "shoal.conf.SettingReference", [str(self), self.setting_name], {}


class Settings:
    """Everything shoal needs to know about a project.

    A plain class rather than a dataclass: every command builds one, and
    :mod:`dataclasses` costs milliseconds to import (it loads :mod:`inspect`).
    """

    def __init__(self, *, apps: list[AppSpec] | None = None, databases: dict[str, str] | None = None,
                 default_auto_field: str = DEFAULT_AUTO_FIELD, routers: list[str] | None = None,
                 swappable: dict[str, str] | None = None, base_dir: Path | None = None,
                 config_path: Path | None = None, silenced_system_checks: list[str] | None = None) -> None:
        self.apps: list[AppSpec] = list(apps or [])
        self.databases: dict[str, str] = dict(databases) if databases is not None else {"default": DEFAULT_DATABASE}
        self.default_auto_field = default_auto_field
        self.routers: list[str] = list(routers or [])
        self.swappable: dict[str, str] = dict(swappable or {})
        self.base_dir: Path = base_dir if base_dir is not None else Path.cwd()
        self.config_path = config_path
        #: Check ids (``"fields.W342"``) whose messages are not reported.
        self.silenced_system_checks: list[str] = list(silenced_system_checks or [])

    _FIELDS = ("apps", "databases", "default_auto_field", "routers", "swappable", "base_dir", "config_path",
               "silenced_system_checks")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._FIELDS)

    __hash__ = None  # type: ignore[assignment]  (mutable, compared by value)

    def __repr__(self) -> str:
        from shoal.db.url import mask_password

        shown = {name: getattr(self, name) for name in self._FIELDS}
        shown["databases"] = {alias: mask_password(url) for alias, url in self.databases.items()}
        return "Settings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    def app_by_label(self, label: str) -> AppSpec:
        for app in self.apps:
            if app.label == label:
                return app
        known = ", ".join(a.label for a in self.apps) or "none"
        raise ConfigError(f"No installed app with label '{label}'. Installed apps: {known}.")

    @cached_property
    def default_name_limit(self) -> int | None:
        """The default database's identifier limit: default table names longer than
        it are cut with a hash (as Django does), not silently by the server."""
        from shoal.db.url import name_limit

        return name_limit(self.databases.get("default", ""))


def find_config(start: Path | None = None) -> Path:
    """The nearest ``pyproject.toml`` (from ``start`` upwards) with ``[tool.shoal]``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "shoal" in _read_toml(candidate).get("tool", {}):
            return candidate
    raise ConfigError(
        f"No [tool.shoal] table found in a pyproject.toml in {here} or any parent directory. "
        "Add one (see the README), or name the file with --config PATH or SHOAL_CONFIG."
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}") from exc


def load_settings(config: str | os.PathLike[str] | None = None, *, environ: dict[str, str] | None = None) -> Settings:
    """Read the project's settings: ``config`` or ``SHOAL_CONFIG`` or discovery."""
    env = os.environ if environ is None else environ
    if config is None and env.get("SHOAL_CONFIG"):
        config = env["SHOAL_CONFIG"]
    if config is not None:
        path = Path(config).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"Config file {path} does not exist.")
    else:
        path = find_config()
    data = _read_toml(path).get("tool", {}).get("shoal")
    if not isinstance(data, dict):
        raise ConfigError(f"{path} has no [tool.shoal] table.")
    return settings_from_dict(data, base_dir=path.parent, config_path=path, environ=env)


_KNOWN_KEYS = {"apps", "databases", "default_auto_field", "routers", "migration_modules", "swappable",
               "silenced_system_checks"}


def settings_from_dict(data: dict[str, Any], *, base_dir: Path, config_path: Path | None = None,
                       environ: dict[str, str] | None = None) -> Settings:
    """Validate a ``[tool.shoal]`` mapping (or ``shoal.setup`` arguments)."""
    where = str(config_path) if config_path else "shoal.setup()"
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown [tool.shoal] key(s): {', '.join(sorted(unknown))}. "
                          f"Known keys: {', '.join(sorted(_KNOWN_KEYS))}.")
    raw_apps = data.get("apps", [])
    if not isinstance(raw_apps, list):
        raise ConfigError(f"{where}: 'apps' must be a list of import paths.")
    modules = data.get("migration_modules", {}) or {}
    if not isinstance(modules, dict):
        raise ConfigError(f"{where}: 'migration_modules' must be a table of label = module or false.")
    apps: list[AppSpec] = []
    seen: dict[str, str] = {}
    for entry in raw_apps:
        if isinstance(entry, str):
            module, label = entry, entry.rsplit(".", 1)[-1]
        elif isinstance(entry, dict) and isinstance(entry.get("module"), str):
            module = entry["module"]
            label = entry.get("label") or module.rsplit(".", 1)[-1]
        else:
            raise ConfigError(f"{where}: an app must be an import path or {{ module = ..., label = ... }}; got {entry!r}.")
        if not label.isidentifier():
            raise ConfigError(f"{where}: app label '{label}' (of {module}) is not a valid Python identifier.")
        if label in seen:
            raise ConfigError(
                f"{where}: two apps have the label '{label}': {seen[label]} and {module}. "
                "Give one of them another label: { module = \"...\", label = \"...\" }."
            )
        seen[label] = module
        mig = modules.get(label, f"{module}.migrations")
        if mig is False:
            mig_module: str | None = None
        elif isinstance(mig, str):
            mig_module = mig
        else:
            raise ConfigError(f"{where}: migration_modules.{label} must be a module path or false.")
        apps.append(AppSpec(module=module, label=label, migrations_module=mig_module))
    stray = set(modules) - set(seen)
    if stray:
        raise ConfigError(f"{where}: migration_modules names unknown app label(s): {', '.join(sorted(stray))}.")
    databases = dict(data.get("databases") or {})
    if not all(isinstance(v, str) for v in databases.values()):
        raise ConfigError(f"{where}: every [tool.shoal.databases] entry must be a URL string.")
    env = os.environ if environ is None else environ
    if env.get("DATABASE_URL"):
        databases["default"] = env["DATABASE_URL"]
    databases.setdefault("default", DEFAULT_DATABASE)
    swappable = dict(data.get("swappable") or {})
    silenced = data.get("silenced_system_checks") or []
    if not isinstance(silenced, list) or not all(isinstance(i, str) for i in silenced):
        raise ConfigError(f"{where}: 'silenced_system_checks' must be a list of check ids, like [\"fields.W342\"].")
    return Settings(
        apps=apps,
        databases=databases,
        default_auto_field=data.get("default_auto_field", DEFAULT_AUTO_FIELD),
        routers=list(data.get("routers") or []),
        swappable=swappable,
        base_dir=base_dir,
        config_path=config_path,
        silenced_system_checks=silenced,
    )


class _LazySettings:
    """``settings.AUTH_USER_MODEL`` and friends, read from the configured project."""

    _wrapped: Settings | None = None

    def configure(self, value: Settings) -> None:
        self._wrapped = value

    @property
    def configured(self) -> bool:
        return self._wrapped is not None

    def get(self) -> Settings:
        if self._wrapped is None:
            raise ConfigError("shoal is not set up: call shoal.setup(...) or run through the shoal command.")
        return self._wrapped

    def __getattr__(self, name: str) -> Any:
        if name.isupper():
            swappable = self.get().swappable
            if name in swappable:
                return SettingReference(swappable[name], name)
            raise ConfigError(f"Setting {name} is not defined; add it under [tool.shoal.swappable].")
        return getattr(self.get(), name)


settings = _LazySettings()


def add_project_to_path(base_dir: Path) -> None:
    """Put the project directory first on ``sys.path`` so its apps import."""
    entry = str(base_dir)
    if entry not in sys.path:
        sys.path.insert(0, entry)
