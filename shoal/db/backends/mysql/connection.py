"""MySQL / MariaDB database wrapper (PyMySQL, imported lazily).

Connections use ``utf8mb4``, autocommit, ``FOUND_ROWS`` (so UPDATE row counts
mean "matched", as the ORM needs), ``STRICT_TRANS_TABLES`` added to the
session ``sql_mode`` and ``time_zone = '+00:00'``.

URL options: ``connect_timeout`` / ``read_timeout`` / ``write_timeout``
(seconds), ``charset``, ``unix_socket``, ``ssl_ca`` / ``ssl_cert`` /
``ssl_key`` / ``ssl_verify_cert`` / ``ssl_verify_identity``, and
``server_version``: the server assumed when no connection is made (collect-only
SQL for ``sqlmigrate``), written ``10.11`` / ``10.6-mariadb`` / ``8.0-mysql``;
without it shoal assumes MariaDB 10.11.  Once connected the real server
decides.

The migration lock is ``GET_LOCK('shoal_migrate:<database>')``; lock names are
server-wide, so the database name is part of it.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from shoal.db.backends.base.connection import BaseDatabaseWrapper, parse_version
from shoal.db.backends.base.operations import naive_utc
from shoal.db.url import DatabaseURL
from shoal.exceptions import ConfigError, DatabaseError, DriverMissing

from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations

__all__ = ["DatabaseWrapper"]

_INT_OPTIONS = {"connect_timeout", "read_timeout", "write_timeout"}
_BOOL_OPTIONS = {"ssl_verify_cert", "ssl_verify_identity"}
_STR_OPTIONS = {"charset", "unix_socket", "ssl_ca", "ssl_cert", "ssl_key"}
_OPTIONS = _INT_OPTIONS | _BOOL_OPTIONS | _STR_OPTIONS | {"server_version"}

# Server errors that mean "a constraint refused the change".
_INTEGRITY_CODES = {
    1048,  # column cannot be null
    1062,  # duplicate entry
    1169,  # duplicate unique
    1216,
    1217,
    1451,
    1452,  # foreign key violations
    1364,  # NOT NULL column without default not given (strict mode)
    1557,
    1586,  # duplicate key variants
    3819,  # MySQL: check constraint violated
    4025,  # MariaDB: CONSTRAINT ... failed
}
_MISSING_SAVEPOINT = 1305

_SQL_MODE = (
    "SET SESSION sql_mode = IF(FIND_IN_SET('STRICT_TRANS_TABLES', @@sql_mode), @@sql_mode, "
    "CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_TRANS_TABLES')), time_zone = '+00:00'"
)

_COMMON_TYPES = {
    "AutoField": "integer AUTO_INCREMENT",
    "BigAutoField": "bigint AUTO_INCREMENT",
    "SmallAutoField": "smallint AUTO_INCREMENT",
    "IntegerField": "integer",
    "BigIntegerField": "bigint",
    "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer UNSIGNED",
    "PositiveSmallIntegerField": "smallint UNSIGNED",
    "PositiveBigIntegerField": "bigint UNSIGNED",
    "FloatField": "double precision",
    "DecimalField": "numeric(%(max_digits)s, %(decimal_places)s)",
    "BooleanField": "bool",
    "CharField": "varchar(%(max_length)s)",
    "SlugField": "varchar(%(max_length)s)",
    "FileField": "varchar(%(max_length)s)",
    "FilePathField": "varchar(%(max_length)s)",
    "TextField": "longtext",
    "UUIDField": "char(32)",
    "DateField": "date",
    "DateTimeField": "datetime(6)",
    "TimeField": "time(6)",
    "DurationField": "bigint",
    "BinaryField": "longblob",
    "JSONField": "json",
    "GenericIPAddressField": "char(39)",
    "IPAddressField": "char(15)",
}


def _server_flavour(text: str) -> bool:
    """True if a ``server_version`` text names MariaDB (MySQL majors are < 10)."""
    lowered = text.lower()
    if "mariadb" in lowered:
        return True
    if "mysql" in lowered:
        return False
    version = parse_version(text)
    return bool(version) and version[0] >= 10


class DatabaseWrapper(BaseDatabaseWrapper):
    """A MySQL or MariaDB database reached through PyMySQL."""

    vendor = "mysql"
    display_name = "MySQL"
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
    introspection_class = DatabaseIntrospection
    features: DatabaseFeatures
    assumed_server_version = (10, 11)
    data_types_suffix: dict[str, str] = {}

    def __init__(self, alias: str, url: DatabaseURL) -> None:
        unknown = set(url.options) - _OPTIONS
        if unknown:
            raise ConfigError(
                f"Unknown MySQL URL option(s) {', '.join(sorted(unknown))} in {url.masked()}; "
                f"supported: {', '.join(sorted(_OPTIONS))}."
            )
        for key in _INT_OPTIONS & set(url.options):
            if not url.options[key].isdigit():
                raise ConfigError(
                    f"MySQL URL option {key}={url.options[key]!r} in {url.masked()} must be whole seconds."
                )
        self._version_text: str | None = None
        super().__init__(alias, url)

    # -- server flavour and version-dependent data ---------------------------

    @property
    def is_mariadb(self) -> bool:
        """True for MariaDB: from the server once connected (remembered after close), else assumed."""
        if self._version_text is not None:  # from the last connection
            return "mariadb" in self._version_text.lower()
        text = self.url.options.get("server_version")
        return _server_flavour(text) if text else True

    @property
    def server_version_text(self) -> str | None:
        """``SELECT VERSION()`` as the server reported it (None before connecting)."""
        return self._version_text

    @property
    def data_types(self) -> dict[str, str]:  # type: ignore[override]
        """Column types; ``uuid`` for UUIDField on MariaDB 10.7+."""
        types = dict(_COMMON_TYPES)
        if self.features.has_native_uuid_field:
            types["UUIDField"] = "uuid"
        return types

    @property
    def data_type_check_constraints(self) -> dict[str, str]:  # type: ignore[override]
        """Positive* get ``>= 0`` checks where CHECK is enforced; MariaDB < 10.4.3 also
        needs an explicit JSON_VALID (later versions add it to JSON columns themselves)."""
        if not self.features.supports_column_check_constraints:
            return {}
        checks = {
            "PositiveIntegerField": "`%(column)s` >= 0",
            "PositiveSmallIntegerField": "`%(column)s` >= 0",
            "PositiveBigIntegerField": "`%(column)s` >= 0",
        }
        if self.is_mariadb and self.server_version < (10, 4, 3):
            checks["JSONField"] = "JSON_VALID(`%(column)s`)"
        return checks

    # -- connecting ----------------------------------------------------------

    def _import_driver(self) -> Any:
        try:
            import pymysql
        except ImportError:
            raise DriverMissing("PyMySQL", "mysql") from None
        return pymysql

    def _connect_kwargs(self) -> dict[str, Any]:
        from pymysql.constants import CLIENT

        url = self.url
        kwargs: dict[str, Any] = {
            "database": url.name,
            "user": url.user,
            "password": url.password or "",
            "charset": "utf8mb4",
            "autocommit": True,
            "client_flag": CLIENT.FOUND_ROWS,
            "connect_timeout": 10,
        }
        if url.host and url.host.startswith("/"):
            kwargs["unix_socket"] = url.host
        elif url.host:
            kwargs["host"] = url.host
        if url.port is not None:
            kwargs["port"] = url.port
        for key, value in url.options.items():
            if key in _INT_OPTIONS:
                kwargs[key] = int(value)
            elif key in _BOOL_OPTIONS:
                kwargs[key] = value.lower() in ("1", "true", "yes", "on")
            elif key in _STR_OPTIONS:
                kwargs[key] = value
        return kwargs

    def _get_new_connection(self) -> Any:
        return self.Database.connect(**self._connect_kwargs())

    def _init_connection(self, conn: Any) -> None:
        with conn.cursor() as cur:
            cur.execute(_SQL_MODE)
            cur.execute("SELECT VERSION()")
            self._version_text = str(cur.fetchone()[0])

    def _read_server_version(self) -> tuple[int, ...]:
        return parse_version(self._version_text or "") or self.assumed_server_version

    # -- errors --------------------------------------------------------------

    def _driver_error_classes(self) -> tuple[type[BaseException], ...]:
        return (self.Database.MySQLError,)

    def _error_code(self, exc: BaseException) -> Any:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        return args[0] if args and isinstance(args[0], int) else None

    def _is_integrity_error(self, exc: BaseException) -> bool:
        return self._error_code(exc) in _INTEGRITY_CODES

    def _error_text(self, exc: BaseException) -> str:
        args: tuple[Any, ...] = getattr(exc, "args", ())
        if len(args) >= 2 and isinstance(args[0], int):
            return f"{args[1]} (error {args[0]})"
        return str(exc).strip() or type(exc).__name__

    def _ping(self) -> None:
        self._conn.ping(reconnect=False)

    def _adapt_params(self, params: Sequence[Any]) -> Any:
        return tuple(self._adapt_param(v) for v in params)

    def _adapt_param(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value.hex  # fits char(32), and MariaDB's uuid type accepts it too
        if isinstance(value, datetime.datetime):
            return naive_utc(value)
        return value

    def _release_savepoint(self, quoted_name: str) -> None:
        # DDL inside the block committed implicitly and took the savepoint with it.
        try:
            super()._release_savepoint(quoted_name)
        except DatabaseError as exc:
            if getattr(exc, "code", None) != _MISSING_SAVEPOINT:
                raise

    # -- constraint checking ---------------------------------------------------

    def disable_constraint_checking(self) -> bool:
        """``SET foreign_key_checks = 0`` for this session."""
        self.execute("SET foreign_key_checks = 0")
        return True

    def enable_constraint_checking(self) -> None:
        """``SET foreign_key_checks = 1``."""
        self.execute("SET foreign_key_checks = 1")

    # -- migration lock ------------------------------------------------------

    def _lock_name(self) -> str:
        name = f"shoal_migrate:{self.url.name}"
        if len(name) > 64:
            name = "shoal_migrate:" + hashlib.sha1(self.url.name.encode()).hexdigest()
        return name

    def _try_acquire_migration_lock(self) -> bool:
        row = self.fetchone("SELECT GET_LOCK(%s, 0)", (self._lock_name(),))
        return bool(row and row[0] == 1)

    def _release_migration_lock(self, held: bool) -> None:
        if not held or self._conn is None:
            return
        try:
            self.execute("SELECT RELEASE_LOCK(%s)", (self._lock_name(),))
        except Exception:  # noqa: BLE001 - closing the session releases the lock too
            self.close()

    def _lock_hint(self) -> str:
        return (
            f"If no migrate is running, SELECT IS_USED_LOCK('{self._lock_name()}') gives the "
            "holding connection id; end it with KILL <id>."
        )
