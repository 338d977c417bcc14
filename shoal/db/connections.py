"""Database aliases -> connection wrappers.

``connections["default"]`` is the wrapper for the database configured under
that alias; ``shoal.setup()`` (or the CLI) calls
``connections.configure({"default": "sqlite:///db.sqlite3"}, base_dir)``.
Wrappers are created on first access and connect on first query.  A wrapper
is not thread-safe: a thread that needs its own connection uses
:func:`create_connection`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.url import DatabaseURL, parse_url
from shoal.exceptions import ConfigError

__all__ = ["ConnectionHandler", "connections", "create_connection", "BACKENDS", "DEFAULT_DB_ALIAS"]

DEFAULT_DB_ALIAS = "default"

#: URL scheme -> dotted path of the wrapper class (imported on demand).
BACKENDS: dict[str, str] = {
    "sqlite": "shoal.db.backends.sqlite.connection.DatabaseWrapper",
    "postgresql": "shoal.db.backends.postgresql.connection.DatabaseWrapper",
    "mysql": "shoal.db.backends.mysql.connection.DatabaseWrapper",
}


def _backend_class(scheme: str) -> type[BaseDatabaseWrapper]:
    try:
        path = BACKENDS[scheme]
    except KeyError:
        raise ConfigError(f"No backend for database scheme {scheme!r}; known: {', '.join(sorted(BACKENDS))}.") from None
    module_name, _, class_name = path.rpartition(".")
    cls: type[BaseDatabaseWrapper] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_connection(alias: str, url: str | DatabaseURL, base_dir: Path | None = None) -> BaseDatabaseWrapper:
    """A new, unconnected wrapper for ``url`` (a URL string or a parsed DatabaseURL)."""
    parsed = url if isinstance(url, DatabaseURL) else parse_url(url, base_dir)
    return _backend_class(parsed.scheme)(alias, parsed)


class ConnectionHandler:
    """The configured databases by alias; wrappers are built lazily and cached."""

    def __init__(self, databases: Mapping[str, str] | None = None, base_dir: Path | None = None) -> None:
        self._databases: dict[str, str] = {}
        self._base_dir: Path | None = None
        self._wrappers: dict[str, BaseDatabaseWrapper] = {}
        self._parsed: dict[str, DatabaseURL] = {}
        if databases is not None:
            self.configure(databases, base_dir)

    def configure(self, databases: Mapping[str, str], base_dir: Path | None = None) -> None:
        """Replace the configuration (closing open connections); URLs are validated now."""
        parsed = {}
        for alias, url in databases.items():
            try:
                parsed[alias] = parse_url(url, base_dir)
            except ConfigError as exc:
                raise ConfigError(f"Database {alias!r}: {exc}") from None
        self.close_all()
        self._databases = dict(databases)
        self._base_dir = base_dir
        self._wrappers = {}
        self._parsed = parsed

    @property
    def databases(self) -> dict[str, str]:
        """The configured alias -> URL mapping (URLs as given, with passwords)."""
        return dict(self._databases)

    @property
    def base_dir(self) -> Path | None:
        """The directory relative SQLite paths are resolved against."""
        return self._base_dir

    def url(self, alias: str) -> DatabaseURL:
        """The parsed URL of ``alias``."""
        self._check_alias(alias)
        return self._parsed[alias]

    def _check_alias(self, alias: str) -> None:
        if alias not in self._databases:
            known = ", ".join(sorted(self._databases)) or "none configured"
            raise ConfigError(
                f"The database alias {alias!r} is not configured (configured: {known}). "
                "Add it under [tool.shoal.databases]."
            )

    def __getitem__(self, alias: str) -> BaseDatabaseWrapper:
        wrapper = self._wrappers.get(alias)
        if wrapper is None:
            self._check_alias(alias)
            wrapper = create_connection(alias, self._parsed[alias])
            self._wrappers[alias] = wrapper
        return wrapper

    def __contains__(self, alias: object) -> bool:
        return alias in self._databases

    def __iter__(self) -> Iterator[str]:
        return iter(self._databases)

    def __len__(self) -> int:
        return len(self._databases)

    def all(self) -> list[BaseDatabaseWrapper]:
        """A wrapper for every configured alias."""
        return [self[alias] for alias in self._databases]

    def close_all(self) -> None:
        """Close every open connection (wrappers stay and reconnect on use)."""
        for wrapper in self._wrappers.values():
            wrapper.close()


#: The process-wide handler ``shoal.setup()`` configures.
connections = ConnectionHandler()
