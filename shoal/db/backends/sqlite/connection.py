"""SQLite database wrapper.

URL options (``sqlite:///db.sqlite3?timeout=20&journal_mode=wal``):

``timeout``
    seconds to wait for another connection's write lock (default 5).
``transaction_mode``
    ``deferred`` (default), ``immediate`` or ``exclusive``: the BEGIN used by
    ``atomic()``.  ``immediate`` avoids "database is locked" on lock upgrade
    when several processes write.
``journal_mode``
    ``PRAGMA journal_mode`` set on connect (``wal``, ``delete``, ...).

Foreign keys are enforced (``PRAGMA foreign_keys = ON``).  The migration lock
is an ``flock`` on ``<database>.shoal-lock`` next to the database file (left
in place afterwards); an in-memory database needs no lock.
"""

from __future__ import annotations

import datetime
import decimal
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.backends.base.operations import duration_microseconds, is_uuid, naive_utc, split_placeholders
from shoal.db.url import DatabaseURL
from shoal.exceptions import ConfigError, DatabaseError, DriverMissing, IntegrityError

from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations

__all__ = ["DatabaseWrapper"]

_OPTIONS = {"timeout", "transaction_mode", "journal_mode", "server_version"}
_TRANSACTION_MODES = {"deferred", "immediate", "exclusive"}
_JOURNAL_MODES = {"delete", "truncate", "persist", "memory", "wal", "off"}


def _regexp(pattern: str | None, value: Any) -> bool | None:
    """SQL ``x REGEXP y`` calls ``regexp(y, x)``: search ``value`` for ``pattern``."""
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


class DatabaseWrapper(BaseDatabaseWrapper):
    """A SQLite database file (or ``:memory:``) used through the sqlite3 module."""

    vendor = "sqlite"
    display_name = "SQLite"
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
    introspection_class = DatabaseIntrospection

    data_types = {
        "AutoField": "integer",
        "BigAutoField": "integer",
        "SmallAutoField": "integer",
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "SmallIntegerField": "smallint",
        "PositiveIntegerField": "integer unsigned",
        "PositiveSmallIntegerField": "smallint unsigned",
        "PositiveBigIntegerField": "bigint unsigned",
        "FloatField": "real",
        "DecimalField": "decimal",
        "BooleanField": "bool",
        "CharField": "varchar(%(max_length)s)",
        "SlugField": "varchar(%(max_length)s)",
        "FileField": "varchar(%(max_length)s)",
        "FilePathField": "varchar(%(max_length)s)",
        "TextField": "text",
        "UUIDField": "char(32)",
        "DateField": "date",
        "DateTimeField": "datetime",
        "TimeField": "time",
        "DurationField": "bigint",
        "BinaryField": "BLOB",
        "JSONField": "text",
        "GenericIPAddressField": "char(39)",
        "IPAddressField": "char(15)",
    }
    data_types_suffix = {
        "AutoField": "AUTOINCREMENT",
        "BigAutoField": "AUTOINCREMENT",
        "SmallAutoField": "AUTOINCREMENT",
    }
    data_type_check_constraints = {
        "PositiveIntegerField": '"%(column)s" >= 0',
        "PositiveSmallIntegerField": '"%(column)s" >= 0',
        "PositiveBigIntegerField": '"%(column)s" >= 0',
        "JSONField": '(JSON_VALID("%(column)s") OR "%(column)s" IS NULL)',
    }

    def __init__(self, alias: str, url: DatabaseURL) -> None:
        unknown = set(url.options) - _OPTIONS
        if unknown:
            raise ConfigError(
                f"Unknown SQLite URL option(s) {', '.join(sorted(unknown))} in {url.masked()}; "
                f"supported: {', '.join(sorted(_OPTIONS - {'server_version'}))}."
            )
        mode = url.options.get("transaction_mode", "deferred").lower()
        if mode not in _TRANSACTION_MODES:
            raise ConfigError(
                f"SQLite URL option transaction_mode={mode!r} in {url.masked()} is not one of "
                f"{', '.join(sorted(_TRANSACTION_MODES))}."
            )
        journal = url.options.get("journal_mode")
        if journal is not None and journal.lower() not in _JOURNAL_MODES:
            raise ConfigError(
                f"SQLite URL option journal_mode={journal!r} in {url.masked()} is not one of "
                f"{', '.join(sorted(_JOURNAL_MODES))}."
            )
        try:
            self._timeout = float(url.options.get("timeout", "5"))
        except ValueError:
            raise ConfigError(
                f"SQLite URL option timeout={url.options['timeout']!r} in {url.masked()} is not a number of seconds."
            ) from None
        self.sql_begin = "BEGIN" if mode == "deferred" else f"BEGIN {mode.upper()}"  # type: ignore[misc]
        self._lock_fd: int | None = None
        super().__init__(alias, url)

    # -- connecting ----------------------------------------------------------

    def _import_driver(self) -> Any:
        try:
            import sqlite3
        except ImportError:  # a Python built without _sqlite3
            raise DriverMissing("sqlite3", "sqlite") from None
        return sqlite3

    def _assumed_version(self) -> tuple[int, ...]:
        # The library linked into Python is the "server": known without I/O.
        sqlite3 = self.Database or self._import_driver()
        return tuple(sqlite3.sqlite_version_info)

    def _read_server_version(self) -> tuple[int, ...]:
        return tuple(self.Database.sqlite_version_info)

    def _get_new_connection(self) -> Any:
        return self.Database.connect(
            self.url.name,
            timeout=self._timeout,
            isolation_level=None,  # autocommit: atomic() issues BEGIN itself
            check_same_thread=False,  # used serially from worker threads too
        )

    def _init_connection(self, conn: Any) -> None:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("REGEXP", 2, _regexp, deterministic=True)
        journal = self.url.options.get("journal_mode")
        if journal:
            conn.execute(f"PRAGMA journal_mode = {journal.lower()}")

    def _connect_failure_message(self, exc: BaseException) -> str:
        message = super()._connect_failure_message(exc)
        if not self.url.is_memory and not os.path.isdir(os.path.dirname(self.url.name) or "."):
            message += f" The directory {os.path.dirname(self.url.name)!r} does not exist; create it first."
        return message

    # -- errors and parameters -----------------------------------------------

    def _driver_error_classes(self) -> tuple[type[BaseException], ...]:
        return (self.Database.Error,)

    def _is_integrity_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self.Database.IntegrityError)

    def _error_code(self, exc: BaseException) -> Any:
        return getattr(exc, "sqlite_errorname", None)

    def _prepare_sql(self, sql: str, params: Sequence[Any] | None) -> tuple[str, Any]:
        if params is None:
            return sql, None
        return "?".join(split_placeholders(sql)), self._adapt_params(params)

    def _adapt_params(self, params: Sequence[Any]) -> Any:
        return tuple(_adapt(v) for v in params)

    # -- constraint checking --------------------------------------------------

    def disable_constraint_checking(self) -> bool:
        """``PRAGMA foreign_keys = OFF``; a no-op inside a transaction (returns False then)."""
        self.execute("PRAGMA foreign_keys = OFF")
        row = self.fetchone("PRAGMA foreign_keys")
        return bool(row is not None and row[0] == 0)

    def enable_constraint_checking(self) -> None:
        """``PRAGMA foreign_keys = ON``."""
        self.execute("PRAGMA foreign_keys = ON")

    def check_constraints(self, table_names: Sequence[str] | None = None) -> None:
        """``PRAGMA foreign_key_check``: raise IntegrityError naming the first dangling row."""
        tables = list(table_names) if table_names is not None else self.introspection.table_names()
        for table in tables:
            rows = self.fetchall("SELECT * FROM pragma_foreign_key_check(%s)", (table,))
            if rows:
                _, rowid, parent, fkid = rows[0][:4]
                fk = [r for r in self.fetchall("SELECT * FROM pragma_foreign_key_list(%s)", (table,)) if r[0] == fkid]
                cols = ", ".join(r[3] for r in fk)
                raise IntegrityError(
                    f"Table {table!r} row with rowid {rowid} has a foreign key ({cols}) that refers "
                    f"to no row of {parent!r}."
                )

    # -- migration lock -------------------------------------------------------

    def _lock_path(self) -> str:
        return f"{self.url.name}.shoal-lock"

    def _try_acquire_migration_lock(self) -> bool:
        if self.url.is_memory:
            return True  # nobody else can see this database
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(self._lock_path(), os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise DatabaseError(
                    f"Cannot create the migration lock file {self._lock_path()!r} for database "
                    f"{self.alias!r}: {exc.strerror}. Check that the directory exists and is writable."
                ) from exc
        return _try_lock(self._lock_fd)

    def _release_migration_lock(self, held: bool) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        try:
            if held:
                _unlock(fd)
        finally:
            os.close(fd)

    def _lock_hint(self) -> str:
        return (
            f"The lock is an flock on {self._lock_path()!r}, released when the holding process "
            "exits; `fuser` or `lsof` on that file shows who holds it."
        )


def _adapt(value: Any) -> Any:
    """Python values sqlite3 cannot bind itself, stored the way shoal reads them back."""
    if isinstance(value, datetime.datetime):
        return naive_utc(value).isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if is_uuid(value):
        return value.hex
    if isinstance(value, datetime.timedelta):
        return duration_microseconds(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
