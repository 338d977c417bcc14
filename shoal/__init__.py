"""shoal: Django-style schema migrations for any Python project.

Public surface: ``from shoal import migrations, models``, :func:`setup`,
``__version__``.  Everything else is imported by module path.  No database
driver is imported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"


def setup(
    apps: list[Any] | None = None,
    databases: dict[str, str] | None = None,
    migration_modules: dict[str, Any] | None = None,
    *,
    base_dir: str | Path | None = None,
    default_auto_field: str | None = None,
    routers: list[str] | None = None,
    swappable: dict[str, str] | None = None,
    config: str | Path | None = None,
) -> Any:
    """Configure shoal for this process (scripts and tests) and import the apps.

    Either pass the settings directly, or ``config=`` a pyproject.toml path.
    Returns the resolved :class:`shoal.conf.Settings`.
    """
    from shoal import conf
    from shoal.apps import apps as registry
    from shoal.db.connections import connections

    if config is not None:
        settings = conf.load_settings(config)
    else:
        data: dict[str, Any] = {"apps": list(apps or [])}
        if databases is not None:
            data["databases"] = databases
        if migration_modules is not None:
            data["migration_modules"] = migration_modules
        if default_auto_field is not None:
            data["default_auto_field"] = default_auto_field
        if routers is not None:
            data["routers"] = routers
        if swappable is not None:
            data["swappable"] = swappable
        settings = conf.settings_from_dict(data, base_dir=Path(base_dir or Path.cwd()).resolve())
    conf.settings.configure(settings)
    conf.add_project_to_path(settings.base_dir)
    connections.configure(settings.databases, settings.base_dir)
    registry.clear()
    registry.populate(settings.apps)
    return settings


def __getattr__(name: str) -> Any:
    # `from shoal import migrations, models` without importing them eagerly here.
    if name in ("migrations", "models"):
        import importlib

        return importlib.import_module(f"shoal.{name}")
    if name == "deconstructible":
        from shoal.deconstruct import deconstructible

        return deconstructible
    raise AttributeError(f"module 'shoal' has no attribute {name!r}")


__all__ = ["setup", "__version__", "migrations", "models", "deconstructible"]
