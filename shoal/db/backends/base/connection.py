"""The database wrapper every backend subclasses: connect, run SQL, transact, lock.

One :class:`BaseDatabaseWrapper` per configured database alias.  It connects
lazily (nothing touches the network until SQL runs), speaks one placeholder
style (``%s``, with ``%%`` for a literal percent when parameters are given),
maps every driver exception exactly once to :mod:`shoal.exceptions`, and runs
the driver in autocommit mode so that shoal alone decides where transactions
begin and end (:meth:`BaseDatabaseWrapper.atomic`).

Backends differ in data (``data_types``, features, ``sql_*`` strings) and in a
handful of hook methods whose names start with ``_`` and are documented here.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from shoal.exceptions import DatabaseError, IntegrityError, LockTimeout, ShoalError

from .cursor import CursorWrapper, Params

if TYPE_CHECKING:
    from shoal.db.url import DatabaseURL

    from .features import BaseDatabaseFeatures
    from .introspection import BaseDatabaseIntrospection
    from .operations import BaseDatabaseOperations

__all__ = ["BaseDatabaseWrapper", "CursorWrapper", "parse_version"]

_DEBUG = 10  # logging.DEBUG
_logger: Any = None


def _log() -> Any:
    """The ``shoal.db`` logger once anything has imported :mod:`logging`, else None.

    Nobody can have asked for shoal's debug records without importing logging
    first, so shoal does not import it just to find that out: the import costs
    several milliseconds of every command.
    """
    global _logger
    if _logger is None:
        logging = sys.modules.get("logging")
        if logging is not None:
            _logger = logging.getLogger("shoal.db")
    return _logger

# Auto and unsigned integer types a foreign key points at -> the type the FK
# column gets when the backend does not require related columns to match.
_REL_TYPES = {
    "AutoField": "IntegerField",
    "BigAutoField": "BigIntegerField",
    "SmallAutoField": "SmallIntegerField",
    "PositiveIntegerField": "IntegerField",
    "PositiveBigIntegerField": "BigIntegerField",
    "PositiveSmallIntegerField": "SmallIntegerField",
}


class BaseDatabaseWrapper:
    """A lazily connected database: SQL execution, transactions, migration lock.

    Subclasses set the class attributes and implement the ``_`` hooks:
    ``_import_driver``, ``_get_new_connection``, ``_init_connection``,
    ``_read_server_version``, ``_driver_error_classes``,
    ``_is_integrity_error`` (plus optionally ``_error_code``, ``_error_text``,
    ``_prepare_sql``, ``_adapt_params``), ``_try_acquire_migration_lock`` and
    ``_release_migration_lock``.
    """

    vendor: ClassVar[str] = "unknown"
    display_name: ClassVar[str] = "unknown"
    features_class: ClassVar[type[BaseDatabaseFeatures]]
    ops_class: ClassVar[type[BaseDatabaseOperations]]
    introspection_class: ClassVar[type[BaseDatabaseIntrospection]]
    #: Set by the backend's schema.py author, or found lazily in
    #: ``shoal.db.backends.<vendor>.schema.DatabaseSchemaEditor``.
    schema_editor_class: ClassVar[type | None] = None

    #: Field internal type -> column type template (``%(max_length)s`` etc.).
    data_types: dict[str, str] = {}
    #: Field internal type -> text written after the column type (identity).
    data_types_suffix: dict[str, str] = {}
    #: Field internal type -> column CHECK template (``%(column)s``).
    data_type_check_constraints: dict[str, str] = {}

    #: Newest server version assumed when no connection was made (collect-only SQL).
    assumed_server_version: ClassVar[tuple[int, ...]] = ()
    sql_begin: ClassVar[str] = "BEGIN"

    def __init__(self, alias: str, url: DatabaseURL) -> None:
        self.alias = alias
        self.url = url
        self._conn: Any = None
        self._generation = 0
        self._atomic_depth = 0
        self._savepoint_seq = 0
        self._lock_depth = 0
        self._server_version: tuple[int, ...] | None = None
        self._captures: list[list[str]] = []
        self.Database: Any = None
        self.features = self.features_class(self)
        self.ops = self.ops_class(self)
        self.introspection = self.introspection_class(self)
        #: Schema editors' memo of resolved column params of non-relational
        #: fields (state fields are never changed in place); cleared on connect,
        #: as the server version can change what a type resolves to.
        self.column_params_memo: dict[int, Any] = {}
        self._data_changed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} vendor={self.vendor!r} alias={self.alias!r} url={self.url.masked()!r}>"

    # -- connecting ----------------------------------------------------------

    @property
    def connection(self) -> Any:
        """The driver connection, opened on first use."""
        if self._conn is None:
            self.connect()
        return self._conn

    @property
    def connected(self) -> bool:
        """True while a driver connection is open (no I/O)."""
        return self._conn is not None

    def ensure_connection(self) -> None:
        """Connect now if not yet connected."""
        if self._conn is None:
            self.connect()

    def connect(self) -> None:
        """Open a new driver connection (closing any previous one)."""
        if self._conn is not None:
            self.close()
        self.Database = self._import_driver()
        try:
            conn = self._get_new_connection()
        except self._driver_error_classes() as exc:
            raise DatabaseError(self._connect_failure_message(exc)) from exc
        except OSError as exc:
            raise DatabaseError(self._connect_failure_message(exc)) from exc
        self._conn = conn
        self._generation += 1
        self._atomic_depth = 0
        try:
            self._init_connection(conn)
            self._server_version = self._read_server_version()
            self.column_params_memo.clear()
        except ShoalError:
            self.close()
            raise
        except self._driver_error_classes() as exc:
            self.close()
            raise DatabaseError(self._connect_failure_message(exc)) from exc

    def close(self) -> None:
        """Close the driver connection; the next use reconnects."""
        conn, self._conn = self._conn, None
        self._atomic_depth = 0
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the connection may already be dead
                if (log := _log()) is not None:
                    log.debug("error while closing %s", self.alias, exc_info=True)

    def is_usable(self) -> bool:
        """True if connected and the server still answers; never raises."""
        if self._conn is None:
            return False
        try:
            self._ping()
        except Exception:  # noqa: BLE001 - any failure means "not usable"
            return False
        return True

    def _connect_failure_message(self, exc: BaseException) -> str:
        reason = " ".join(self._scrub(self._error_text(exc)).split())
        if not reason.endswith((".", "?", "!")):
            reason += "."
        return (
            f"Could not connect to database {self.alias!r} at {self.url.masked()}: {reason} "
            "Check that the server is running and that the host, port, user, password and "
            "database name in the URL are right."
        )

    def _scrub(self, text: str) -> str:
        """Remove the password from a driver message (some echo connection strings)."""
        pw = self.url.password
        if pw:
            text = text.replace(pw, "***")
        return text

    # -- hooks a backend implements ------------------------------------------

    def _import_driver(self) -> Any:
        """Import and return the driver module; raise DriverMissing if absent."""
        raise NotImplementedError

    def _get_new_connection(self) -> Any:
        """Open and return a driver connection in autocommit mode."""
        raise NotImplementedError

    def _init_connection(self, conn: Any) -> None:
        """Session setup right after connecting (pragmas, sql_mode, time zone)."""

    def _read_server_version(self) -> tuple[int, ...]:
        """Ask the server for its version."""
        return self.assumed_server_version

    def _driver_error_classes(self) -> tuple[type[BaseException], ...]:
        """The driver's exception base classes that get mapped to shoal errors."""
        raise NotImplementedError

    def _is_integrity_error(self, exc: BaseException) -> bool:
        """True if the driver exception is a constraint violation."""
        raise NotImplementedError

    def _error_code(self, exc: BaseException) -> Any:
        """The driver's error code (SQLSTATE, errno, SQLite error name) if any."""
        return None

    def _error_text(self, exc: BaseException) -> str:
        """The driver's own message, without decoration."""
        return str(exc).strip() or type(exc).__name__

    def _ping(self) -> None:
        """Raise if the server does not answer."""
        with self.cursor() as cur:
            cur.execute("SELECT 1").fetchall()

    def _prepare_sql(self, sql: str, params: Params) -> tuple[str, Any]:
        """Turn shoal SQL and params into what the driver takes."""
        if params is None:
            return sql, None
        return sql, self._adapt_params(params)

    def _adapt_params(self, params: Sequence[Any]) -> Any:
        """Convert Python values the driver cannot send itself."""
        return tuple(params)

    def _wrap_error(self, exc: BaseException, sql: str | None, params: Params) -> DatabaseError:
        """Build the shoal exception for a driver exception (called once per error)."""
        cls = IntegrityError if self._is_integrity_error(exc) else DatabaseError
        err = cls(self._scrub(self._error_text(exc)))
        err.sql = sql  # type: ignore[attr-defined]
        err.params = params  # type: ignore[attr-defined]
        err.code = self._error_code(exc)  # type: ignore[attr-defined]
        err.alias = self.alias  # type: ignore[attr-defined]
        err.vendor = self.vendor  # type: ignore[attr-defined]
        return err

    # -- server version -------------------------------------------------------

    @property
    def server_version(self) -> tuple[int, ...]:
        """The server's version, read when connecting (and remembered after close);
        before the first connection, the ``server_version`` URL option or the
        newest version shoal knows (so collect-only SQL works with no server)."""
        if self._server_version is not None:  # kept after close(): same server next time
            return self._server_version
        return self._assumed_version()

    def _assumed_version(self) -> tuple[int, ...]:
        text = self.url.options.get("server_version")
        if text:
            parsed = parse_version(text)
            if parsed:
                return parsed
        return self.assumed_server_version

    # -- running SQL ---------------------------------------------------------

    def cursor(self) -> CursorWrapper:
        """A new cursor (connects if needed); use it as a context manager."""
        return CursorWrapper(self, self.connection.cursor())

    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement and discard any result."""
        with self.cursor() as cur:
            cur.execute(sql, params)

    def fetchall(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run one query and return all its rows as tuples."""
        with self.cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        """Run one query and return its first row (or None)."""
        with self.cursor() as cur:
            return cur.execute(sql, params).fetchone()

    def _record(self, sql: str, params: Params) -> None:
        if self._captures:
            for bucket in self._captures:
                bucket.append(sql)
        log = _logger or _log()
        if log is not None and log.isEnabledFor(_DEBUG):
            log.debug("(%s) %s; params=%r", self.alias, sql, params)

    @contextmanager
    def capture_queries(self) -> Iterator[list[str]]:
        """Collect the SQL text of every statement run inside the block (for tests)."""
        bucket: list[str] = []
        self._captures.append(bucket)
        try:
            yield bucket
        finally:
            self._captures.remove(bucket)

    # -- transactions --------------------------------------------------------

    @property
    def in_atomic_block(self) -> bool:
        """True inside :meth:`atomic`."""
        return self._atomic_depth > 0

    def mark_data_changed(self) -> None:
        """Note that rows may have changed in the current transaction (user code
        or SQL ran): a backend that must settle deferred constraint checks before
        DDL (PostgreSQL) does so only then, sparing every other DDL statement."""
        self._data_changed = True

    @property
    def data_changed(self) -> bool:
        """Whether rows may have changed in the current transaction (see
        :meth:`mark_data_changed`); outside a transaction, assume they may have."""
        return self._data_changed or not self.in_atomic_block

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction (outermost) or a savepoint (nested).

        Leaving the block normally commits / releases; an exception rolls back
        to where the block began and propagates.  Usable as a decorator.
        """
        if self._atomic_depth == 0:
            yield from self._outer_atomic()
        else:
            yield from self._savepoint_atomic()

    def _outer_atomic(self) -> Iterator[None]:
        self.execute(self.sql_begin)
        generation = self._generation
        self._atomic_depth = 1
        self._data_changed = False
        try:
            yield
        except BaseException:
            self._atomic_depth = 0
            if self._generation == generation and self._conn is not None:
                self._quiet("ROLLBACK")
            raise
        self._atomic_depth = 0
        self._check_same_connection(generation)
        try:
            self.execute("COMMIT")
        except DatabaseError:
            # SQLite keeps the transaction open when COMMIT fails (deferred
            # foreign keys); end it so the connection stays usable.
            self._quiet("ROLLBACK")
            raise

    def _savepoint_atomic(self) -> Iterator[None]:
        self._savepoint_seq += 1
        name = self.ops.quote_name(f"shoal_sp_{self._savepoint_seq}")
        generation = self._generation
        self.execute(f"SAVEPOINT {name}")
        self._atomic_depth += 1
        try:
            yield
        except BaseException:
            self._atomic_depth -= 1
            if self._generation == generation and self._conn is not None:
                self._quiet(f"ROLLBACK TO SAVEPOINT {name}")
                self._quiet(f"RELEASE SAVEPOINT {name}")
            raise
        self._atomic_depth -= 1
        self._check_same_connection(generation)
        self._release_savepoint(name)

    def _release_savepoint(self, quoted_name: str) -> None:
        self.execute(f"RELEASE SAVEPOINT {quoted_name}")

    def _check_same_connection(self, generation: int) -> None:
        if self._generation != generation or self._conn is None:
            raise DatabaseError(
                f"The connection to database {self.alias!r} was closed inside an atomic "
                "block, so its transaction was lost. Do not close the connection inside atomic()."
            )

    def _quiet(self, sql: str) -> None:
        """Run transaction cleanup SQL, logging (not raising) failures."""
        try:
            self.execute(sql)
        except DatabaseError:
            if (log := _log()) is not None:
                log.debug("(%s) ignored failure of %s", self.alias, sql, exc_info=True)

    # -- constraint checking (used by table rebuilds and fixtures) -----------

    def disable_constraint_checking(self) -> bool:
        """Turn off foreign-key enforcement; return True if it was turned off.

        Must be called outside a transaction on SQLite.
        """
        return False

    def enable_constraint_checking(self) -> None:
        """Undo :meth:`disable_constraint_checking`."""

    def check_constraints(self, table_names: Sequence[str] | None = None) -> None:
        """Raise IntegrityError naming the first row whose foreign key points nowhere."""
        tables = list(table_names) if table_names is not None else self.introspection.table_names()
        qn = self.ops.quote_name
        for table in tables:
            for name, info in self.introspection.get_constraints(table).items():
                if not info.foreign_key or len(info.columns) != 1:
                    continue
                col = info.columns[0]
                ref_table, ref_col = info.foreign_key
                row = self.fetchone(
                    f"SELECT t.{qn(col)} FROM {qn(table)} t LEFT JOIN {qn(ref_table)} r "
                    f"ON t.{qn(col)} = r.{qn(ref_col)} "
                    f"WHERE t.{qn(col)} IS NOT NULL AND r.{qn(ref_col)} IS NULL"
                )
                if row is not None:
                    raise IntegrityError(
                        f"Table {table!r} has a row whose {col!r} = {row[0]!r} refers to no row "
                        f"of {ref_table!r} ({ref_col!r}); foreign key {name!r} is violated."
                    )

    # -- durability of a run of migrations -------------------------------------

    @contextmanager
    def one_durable_flush(self, wanted: bool = True) -> Iterator[None]:
        """Around a run of migrations that each commit on their own: a backend may
        let those commits return before they reach the disk, and make the run
        durable with one flush at its end (see the PostgreSQL backend).  No-op here."""
        yield

    # -- migration lock ------------------------------------------------------

    @contextmanager
    def migration_lock(self, timeout: float) -> Iterator[None]:
        """Hold the database-wide migration lock for the block.

        A second holder (another process, or another wrapper in this process)
        waits up to ``timeout`` seconds, then gets :class:`LockTimeout`.  The
        lock is re-entrant on the same wrapper and released on every exit path.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth = max(self._lock_depth - 1, 0)
            return
        start = time.monotonic()
        delay = 0.02
        while True:
            try:
                acquired = self._try_acquire_migration_lock()
            except BaseException:
                self._release_migration_lock(held=False)
                raise
            if acquired:
                break
            waited = time.monotonic() - start
            if waited >= timeout:
                self._release_migration_lock(held=False)
                raise LockTimeout(self._lock_timeout_message(waited))
            time.sleep(min(delay, max(timeout - waited, 0.001)))
            delay = min(delay * 1.5, 0.25)
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            self._release_migration_lock(held=True)

    def _try_acquire_migration_lock(self) -> bool:
        """One non-blocking attempt at the lock."""
        raise NotImplementedError

    def _release_migration_lock(self, held: bool) -> None:
        """Release the lock (``held``) or clean up after failed attempts; never raises."""

    def _lock_hint(self) -> str:
        """Backend-specific advice on finding who holds the lock."""
        return ""

    def _lock_timeout_message(self, waited: float) -> str:
        hint = self._lock_hint()
        return (
            f"Timed out after {waited:.1f}s waiting for the migration lock on database "
            f"{self.alias!r} ({self.url.masked()}): another `shoal migrate` is applying "
            "migrations to it. Wait for it to finish and run migrate again (it will find "
            "nothing left to do), or allow a longer wait." + (f" {hint}" if hint else "")
        )

    # -- schema editor and column types --------------------------------------

    def schema_editor(self, collect_sql: bool = False, atomic: bool = True) -> Any:
        """A ``DatabaseSchemaEditor`` for this backend (from its schema.py)."""
        cls = type(self).schema_editor_class or self._load_schema_editor_class()
        if not collect_sql:
            # Executing DDL: read the real server version first so version-
            # dependent types and features are right.
            self.ensure_connection()
        return cls(self, collect_sql=collect_sql, atomic=atomic)

    def _load_schema_editor_class(self) -> type:
        module_name = f"shoal.db.backends.{self.vendor}.schema"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
                raise  # schema.py exists but something it imports is missing
            raise ShoalError(
                f"The {self.display_name} backend has no schema editor ({module_name} is missing)."
            ) from None
        return module.DatabaseSchemaEditor  # type: ignore[no-any-return]

    def column_type(self, internal_type: str, **params: Any) -> str | None:
        """The column type for a field, e.g. ``column_type("CharField", max_length=20)``.

        None if the backend has no column for that type.
        """
        template = self.data_types.get(internal_type)
        if template is None:
            return None
        return template % params

    def rel_column_type(self, internal_type: str, **params: Any) -> str | None:
        """The column type of a foreign key pointing at a field of ``internal_type``."""
        if internal_type.endswith("AutoField") or not self.features.related_fields_match_type:
            internal_type = _REL_TYPES.get(internal_type, internal_type)
        return self.column_type(internal_type, **params)

    def column_type_suffix(self, internal_type: str) -> str | None:
        """Text after the column type (e.g. ``GENERATED BY DEFAULT AS IDENTITY``)."""
        return self.data_types_suffix.get(internal_type)

    def column_check(self, internal_type: str, column: str) -> str | None:
        """The CHECK expression a field's column gets (e.g. ``"qty" >= 0``), if any."""
        template = self.data_type_check_constraints.get(internal_type)
        if template is None:
            return None
        return template % {"column": column}


def parse_version(text: str) -> tuple[int, ...]:
    """``"10.11.4-MariaDB"`` -> ``(10, 11, 4)``."""
    numbers: list[int] = []
    for part in text.strip().split("-")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)
