"""Real test databases: create a fresh empty one per test, drop it afterwards.

Servers (overridable, e.g. in CI)::

    SHOAL_TEST_PG_URL     default postgresql://root@127.0.0.1:5432/test
    SHOAL_TEST_MYSQL_URL  default mysql://root@127.0.0.1:3306/test
    SHOAL_TEST_BACKENDS   comma list restricting the backends run (default: all)

The server URL's database is only the "maintenance" database used to run
CREATE/DROP DATABASE; every test gets its own ``shoal_t_<pid>_<n>`` so that
concurrent runs (other engineers, other processes) never collide.  Databases
a test forgets to drop are dropped when the process exits.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import threading
from pathlib import Path

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.connections import create_connection
from shoal.db.url import DatabaseURL, parse_url
from shoal.exceptions import ShoalError

__all__ = [
    "BACKENDS",
    "SERVER_ENV",
    "server_url",
    "server_available",
    "selected_backends",
    "unavailable_message",
    "fresh_database_url",
    "drop_database",
    "make_item_table",
]

BACKENDS = ["sqlite", "postgresql", "mysql"]

#: vendor -> (environment variable, default server URL)
SERVER_ENV: dict[str, tuple[str, str]] = {
    "postgresql": ("SHOAL_TEST_PG_URL", "postgresql://root@127.0.0.1:5432/test"),
    "mysql": ("SHOAL_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
_DISPLAY = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB"}
PREFIX = "shoal_t_"

_counter = itertools.count(1)
_lock = threading.Lock()
_admins: dict[str, BaseDatabaseWrapper] = {}
_created: set[str] = set()


def selected_backends() -> list[str]:
    """Backends named in SHOAL_TEST_BACKENDS (all when unset); unknown names raise ValueError."""
    raw = os.environ.get("SHOAL_TEST_BACKENDS", "").strip()
    if not raw:
        return list(BACKENDS)
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    names = ["postgresql" if n in ("postgres", "pg") else "mysql" if n == "mariadb" else n for n in names]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise ValueError(f"SHOAL_TEST_BACKENDS names unknown backend(s) {unknown}; choose from {BACKENDS}")
    return [b for b in BACKENDS if b in names]


def server_url(vendor: str) -> str:
    """The maintenance-database URL of the server used for ``vendor``."""
    env, default = SERVER_ENV[vendor]
    return os.environ.get(env) or default


def _where(vendor: str) -> str:
    url = parse_url(server_url(vendor))
    return f"{url.host or 'localhost'}:{url.port or ''}".rstrip(":")


def _admin(vendor: str) -> BaseDatabaseWrapper:
    conn = _admins.get(vendor)
    if conn is None or not conn.is_usable():
        conn = create_connection(f"admin_{vendor}", server_url(vendor))
        conn.ensure_connection()
        if vendor == "mysql":
            conn.execute("SET SESSION lock_wait_timeout = 20")
        _admins[vendor] = conn
    return conn


@functools.cache
def server_available(vendor: str) -> tuple[bool, str]:
    """(True, "") if the server for ``vendor`` answers; else (False, why). Cached per process."""
    if vendor == "sqlite":
        return True, ""
    try:
        with _lock:
            _admin(vendor)
    except ShoalError as exc:
        return False, str(exc)
    return True, ""


def unavailable_message(vendor: str, reason: str, ci: bool) -> str:
    """The skip/fail text for a server that cannot be reached."""
    name, where = _DISPLAY[vendor], _where(vendor)
    env = SERVER_ENV[vendor][0]
    if ci:
        return f"CI=true but {name} at {where} is unreachable: {reason}"
    return f"{name} server not reachable at {where}: {reason}; set {env} to use another server"


def fresh_database_url(vendor: str, tmp_path: Path) -> str:
    """Create a brand-new empty database for ``vendor`` and return its URL (with password)."""
    n = next(_counter)
    if vendor == "sqlite":
        path = Path(tmp_path) / f"shoal_t_{n}.sqlite3"
        if path.exists():
            path.unlink()
        return DatabaseURL("sqlite", str(path.resolve())).render(mask_password=False)
    name = f"{PREFIX}{os.getpid()}_{n}"
    with _lock:
        admin = _admin(vendor)
        qn = admin.ops.quote_name(name)
        _drop_server_database(admin, name)  # a dead process with our pid may have left it
        if vendor == "postgresql":
            admin.execute(f"CREATE DATABASE {qn} TEMPLATE template0 ENCODING 'UTF8'")
        else:
            admin.execute(f"CREATE DATABASE {qn} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    url = parse_url(server_url(vendor))._replace(name=name)
    text = url.render(mask_password=False)
    _created.add(text)
    return text


def _drop_server_database(admin: BaseDatabaseWrapper, name: str) -> None:
    qn = admin.ops.quote_name(name)
    if admin.vendor == "postgresql":
        if admin.server_version >= (13,):
            admin.execute(f"DROP DATABASE IF EXISTS {qn} WITH (FORCE)")
            return
        admin.fetchall(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        admin.execute(f"DROP DATABASE IF EXISTS {qn}")
        return
    # MySQL has no FORCE: end sessions still using it so DROP cannot wait on their locks.
    for (pid,) in admin.fetchall(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()", (name,)
    ):
        try:
            admin.execute(f"KILL {int(pid)}")
        except ShoalError:
            pass  # it ended by itself meanwhile
    admin.execute(f"DROP DATABASE IF EXISTS {qn}")


def drop_database(url: str) -> None:
    """Drop a database made by :func:`fresh_database_url` (other names are refused)."""
    parsed = parse_url(url)
    _created.discard(url)
    if parsed.scheme == "sqlite":
        if parsed.is_memory:
            return
        for suffix in ("", "-wal", "-shm", "-journal", ".shoal-lock"):
            try:
                os.unlink(parsed.name + suffix)
            except FileNotFoundError:
                pass
        return
    if not parsed.name.startswith(PREFIX):
        raise ValueError(f"Refusing to drop {parsed.masked()}: not a database created by tests.dbutil")
    with _lock:
        _drop_server_database(_admin(parsed.scheme), parsed.name)


def make_item_table(conn: BaseDatabaseWrapper, name: str = "item") -> str:
    """Create ``item(id auto pk, name varchar(50) NOT NULL UNIQUE, qty integer NULL)``; return the quoted name."""
    qn = conn.ops.quote_name
    pk = {
        "sqlite": "integer PRIMARY KEY AUTOINCREMENT",
        "postgresql": "integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "mysql": "integer AUTO_INCREMENT PRIMARY KEY",
    }[conn.vendor]
    conn.execute(
        f"CREATE TABLE {qn(name)} ({qn('id')} {pk}, {qn('name')} varchar(50) NOT NULL UNIQUE, {qn('qty')} integer NULL)"
    )
    return qn(name)


@atexit.register
def _drop_leftovers() -> None:
    for url in list(_created):
        try:
            drop_database(url)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
    for conn in _admins.values():
        conn.close()
