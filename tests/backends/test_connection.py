"""The connection layer against real databases: SQL, transactions, errors, values, lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.connections import ConnectionHandler, connections, create_connection
from shoal.exceptions import ConfigError, DatabaseError, DriverMissing, IntegrityError, ShoalError
from tests.dbutil import make_item_table

ROOT = Path(__file__).resolve().parents[2]


def count(conn: BaseDatabaseWrapper, table: str) -> int:
    return conn.fetchall(f"SELECT COUNT(*) FROM {table}")[0][0]


# -- connecting -------------------------------------------------------------------


def test_connection_is_lazy_and_reconnects(db_url: str) -> None:
    """No I/O until first query; close() then a query reconnects."""
    conn = create_connection("default", db_url)
    assert not conn.connected
    assert not conn.is_usable()
    assert conn.fetchall("SELECT 1") == [(1,)]
    assert conn.connected and conn.is_usable()
    conn.close()
    assert not conn.connected
    assert conn.fetchone("SELECT 2") == (2,)
    conn.close()


def test_server_version_is_read_on_connect(connection: BaseDatabaseWrapper) -> None:
    """Once connected, server_version is the real server's (a tuple of ints), kept after close."""
    version = connection.server_version
    assert isinstance(version, tuple) and len(version) >= 2 and all(isinstance(v, int) for v in version)
    if connection.vendor == "sqlite":
        import sqlite3

        assert version == sqlite3.sqlite_version_info
    connection.close()
    assert connection.server_version == version  # remembered: the same server is there next time


def test_execute_fetch_and_cursor_api(connection: BaseDatabaseWrapper) -> None:
    """%s parameters, fetchone/fetchmany/fetchall, description, rowcount, executemany."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({qn('name')}, {qn('qty')}) VALUES (%s, %s)", [("a", 1), ("b", 2), ("c", None)]
        )
        cur.execute(f"SELECT {qn('name')}, {qn('qty')} FROM {table} ORDER BY {qn('name')}")
        assert [d[0] for d in cur.description] == ["name", "qty"]
        assert cur.fetchone() == ("a", 1)
        assert cur.fetchmany(1) == [("b", 2)]
        assert cur.fetchall() == [("c", None)]
        cur.execute(f"UPDATE {table} SET {qn('qty')} = %s WHERE {qn('qty')} IS NOT NULL", [5])
        assert cur.rowcount == 2
    assert connection.fetchall(f"SELECT {qn('qty')} FROM {table} WHERE {qn('name')} = %s", ["a"]) == [(5,)]


def test_update_rowcount_counts_matched_rows(connection: BaseDatabaseWrapper) -> None:
    """An UPDATE that changes nothing still reports the matched rows (the ORM's save relies on it)."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    connection.execute(f"INSERT INTO {table} ({qn('name')}, {qn('qty')}) VALUES (%s, %s)", ["a", 1])
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET {qn('qty')} = %s WHERE {qn('name')} = %s", [1, "a"])
        assert cur.rowcount == 1


def test_lastrowid_and_returning(connection: BaseDatabaseWrapper) -> None:
    """The new primary key comes back through RETURNING or last_insert_id."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"])
        first = connection.ops.last_insert_id(cur, "item", "id")
        assert first == 1
        if connection.features.can_return_columns_from_insert:
            cur.execute(
                f"INSERT INTO {table} ({qn('name')}) VALUES (%s) {connection.ops.return_insert_columns(['id'])}", ["b"]
            )
            assert cur.fetchone() == (2,)


def test_percent_signs_and_placeholders(connection: BaseDatabaseWrapper) -> None:
    """With params %% is a literal percent; without params SQL is sent untouched."""
    assert connection.fetchall("SELECT 7 %% 3, %s", ["x%s"]) == [(1, "x%s")]
    assert connection.fetchall("SELECT 7 % 3") == [(1,)]
    assert connection.fetchall("SELECT '100%'") == [("100%",)]
    assert connection.fetchall("SELECT %s, %s", ["it's", "a?b"]) == [("it's", "a?b")]


def test_bad_placeholder_is_rejected() -> None:
    """A %(name)s placeholder is an error on SQLite, as the server drivers make it."""
    conn = create_connection("default", "sqlite://")
    with pytest.raises(DatabaseError, match="Bad placeholder"):
        conn.execute("SELECT %(x)s", [1])


def test_sqlite_enforces_foreign_keys_and_has_regexp() -> None:
    """PRAGMA foreign_keys is on; REGEXP is available."""
    conn = create_connection("default", "sqlite://")
    conn.execute("CREATE TABLE p (id integer PRIMARY KEY)")
    conn.execute("CREATE TABLE c (id integer PRIMARY KEY, p_id integer REFERENCES p (id))")
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        conn.execute("INSERT INTO c (p_id) VALUES (%s)", [5])
    assert conn.fetchall("SELECT 'abc' REGEXP %s, 'abc' REGEXP %s", ["^a.c$", "^A"]) == [(1, 0)]


# -- transactions --------------------------------------------------------------------


def test_atomic_commits(db_url: str, connection: BaseDatabaseWrapper) -> None:
    """Leaving atomic() normally commits: another connection sees the rows."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    with connection.atomic():
        assert connection.in_atomic_block
        connection.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"])
    assert not connection.in_atomic_block
    other = create_connection("other", db_url)
    try:
        assert count(other, table) == 1
    finally:
        other.close()


def test_atomic_rolls_back_on_exception(connection: BaseDatabaseWrapper) -> None:
    """An exception in atomic() undoes its writes and propagates unchanged."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    with pytest.raises(KeyError):
        with connection.atomic():
            connection.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"])
            raise KeyError("boom")
    assert not connection.in_atomic_block
    assert count(connection, table) == 0


def test_nested_atomic_uses_savepoints(connection: BaseDatabaseWrapper) -> None:
    """A failing inner block rolls back to its savepoint; the outer one still commits."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    insert = f"INSERT INTO {table} ({qn('name')}) VALUES (%s)"
    with connection.atomic():
        connection.execute(insert, ["outer"])
        with pytest.raises(IntegrityError):
            with connection.atomic():
                connection.execute(insert, ["inner"])
                connection.execute(insert, ["outer"])  # duplicate -> error
        with connection.atomic():
            connection.execute(insert, ["kept"])
    rows = connection.fetchall(f"SELECT {qn('name')} FROM {table} ORDER BY {qn('name')}")
    assert rows == [("kept",), ("outer",)]


def test_atomic_works_as_decorator(connection: BaseDatabaseWrapper) -> None:
    """atomic() decorates a function: its body runs in a transaction."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name

    @connection.atomic()
    def add_then_fail() -> None:
        connection.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"])
        raise ValueError

    with pytest.raises(ValueError):
        add_then_fail()
    assert count(connection, table) == 0


def test_ddl_rollback_follows_feature_flag(connection: BaseDatabaseWrapper) -> None:
    """CREATE TABLE is undone by rollback exactly where can_rollback_ddl says so."""
    with pytest.raises(RuntimeError):
        with connection.atomic():
            make_item_table(connection, "ddl_probe")
            raise RuntimeError
    exists = "ddl_probe" in connection.introspection.table_names()
    assert exists is (not connection.features.can_rollback_ddl)


def test_error_inside_atomic_leaves_connection_usable(connection: BaseDatabaseWrapper) -> None:
    """After a failed statement and rollback the same connection keeps working."""
    with pytest.raises(DatabaseError):
        with connection.atomic():
            connection.execute("SELECT * FROM no_such_table")
    assert connection.fetchall("SELECT 1") == [(1,)]


def test_closing_inside_atomic_is_reported(connection: BaseDatabaseWrapper) -> None:
    """Closing the connection inside atomic() gives a clear error instead of a stray COMMIT."""
    with pytest.raises(DatabaseError, match="closed inside an atomic block"):
        with connection.atomic():
            connection.close()
    assert connection.fetchall("SELECT 1") == [(1,)]


def test_sqlite_failed_commit_ends_transaction(tmp_path: Path) -> None:
    """A deferred FK violation fails COMMIT with IntegrityError and leaves no open transaction."""
    conn = create_connection("default", f"sqlite:///{tmp_path}/d.db")
    conn.execute("CREATE TABLE p (id integer PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE c (id integer PRIMARY KEY, p_id integer REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(IntegrityError):
        with conn.atomic():
            conn.execute("INSERT INTO c (p_id) VALUES (%s)", [9])
    with conn.atomic():  # would fail with "cannot start a transaction within a transaction"
        conn.execute("INSERT INTO p (id) VALUES (%s)", [1])
    assert conn.fetchall("SELECT COUNT(*) FROM c") == [(0,)]
    conn.close()


def test_capture_queries(connection: BaseDatabaseWrapper) -> None:
    """capture_queries() records executed SQL in order."""
    with connection.capture_queries() as queries:
        connection.execute("SELECT 1")
        with connection.atomic():
            connection.fetchall("SELECT %s", [2])
    assert queries[0] == "SELECT 1"
    assert "SELECT %s" in queries and queries[-1] == "COMMIT"


# -- error mapping -------------------------------------------------------------------


def test_integrity_errors_are_mapped_once(connection: BaseDatabaseWrapper) -> None:
    """Unique, NOT NULL, FK and CHECK violations raise IntegrityError with the driver's message."""
    qn = connection.ops.quote_name
    table = make_item_table(connection)
    connection.execute(
        f"CREATE TABLE {qn('child')} ({qn('id')} integer PRIMARY KEY, "
        f"{qn('item_id')} integer REFERENCES {table} ({qn('id')}), {qn('n')} integer CHECK ({qn('n')} > 0))"
    )
    connection.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"])
    failures = [
        (f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", ["a"]),
        (f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", [None]),
        (f"INSERT INTO {qn('child')} ({qn('id')}, {qn('item_id')}) VALUES (%s, %s)", [1, 999]),
        (f"INSERT INTO {qn('child')} ({qn('id')}, {qn('n')}) VALUES (%s, %s)", [2, -1]),
    ]
    for sql, params in failures:
        with pytest.raises(IntegrityError) as info:
            connection.execute(sql, params)
        err = info.value
        cause = err.__cause__
        assert cause is not None and type(cause).__module__.split(".")[0] in ("sqlite3", "psycopg", "pymysql")
        assert str(err) == " ".join(str(err).split()) or "\n" not in str(err)
        assert str(err).strip()
        assert err.sql == sql and err.params == params and err.code is not None  # type: ignore[attr-defined]
        assert not isinstance(cause, ShoalError)


def test_other_errors_are_database_errors(connection: BaseDatabaseWrapper) -> None:
    """A missing table is DatabaseError (not IntegrityError) naming the table."""
    with pytest.raises(DatabaseError) as info:
        connection.execute("SELECT * FROM missing_table_xyz")
    assert not isinstance(info.value, IntegrityError)
    assert "missing_table_xyz" in str(info.value)


def test_connection_refused_message_masks_password(vendor: str) -> None:
    """A server that is down gives DatabaseError naming the masked URL and the reason."""
    if vendor == "sqlite":
        url = "sqlite:////nonexistent-dir-shoal/sub/db.sqlite3"
    else:
        url = f"{vendor}://bob:SuperSecret99@127.0.0.1:1/nodb?connect_timeout=3"
    conn = create_connection("default", url)
    with pytest.raises(DatabaseError) as info:
        conn.execute("SELECT 1")
    message = str(info.value)
    assert "SuperSecret99" not in message
    assert "Could not connect to database 'default'" in message
    if vendor == "sqlite":
        assert "does not exist" in message
    else:
        assert "bob:***@127.0.0.1:1/nodb" in message


@pytest.mark.backends("postgresql", "mysql")
def test_bad_credentials_and_unknown_database(vendor: str, db_url: str) -> None:
    """Wrong password / unknown database: DatabaseError with the masked URL, never the password."""
    from shoal.db.url import parse_url

    good = parse_url(db_url)
    attempts = [good._replace(name="shoal_no_such_db_xyz", password="Pw-Secret-1")]
    if vendor == "mysql":
        attempts.append(good._replace(user="shoal_no_such_user", password="Pw-Secret-1"))
    for url in attempts:
        conn = create_connection("default", url)
        with pytest.raises(DatabaseError) as info:
            conn.ensure_connection()
        message = str(info.value)
        assert "Pw-Secret-1" not in message and ":***@" in message
        assert url.masked() in message


@pytest.mark.parametrize(
    ("module", "url", "driver", "extra"),
    [
        ("psycopg", "postgresql://u@127.0.0.1/db", "psycopg", "postgresql"),
        ("pymysql", "mysql://u@127.0.0.1/db", "PyMySQL", "mysql"),
    ],
)
def test_missing_driver_message(
    monkeypatch: pytest.MonkeyPatch, module: str, url: str, driver: str, extra: str
) -> None:
    """Without the driver installed, connecting raises DriverMissing naming the pip extra."""
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" raise ImportError
    conn = create_connection("default", url)  # building the wrapper needs no driver
    assert conn.data_types["CharField"] == "varchar(%(max_length)s)"
    with pytest.raises(DriverMissing) as info:
        conn.execute("SELECT 1")
    assert (info.value.driver, info.value.extra) == (driver, extra)
    assert f"pip install 'shoal[{extra}]'" in str(info.value)


def test_wrappers_import_no_driver_until_connect() -> None:
    """Creating wrappers and reading types/features imports neither psycopg nor pymysql."""
    code = textwrap.dedent(
        """
        import sys
        from shoal.db.connections import create_connection
        for url in ("postgresql://u@h/db", "mysql://u@h/db", "sqlite:///x.db"):
            c = create_connection("default", url)
            c.data_types; c.features.can_rollback_ddl; c.ops.quote_name("x")
            c.schema_editor_class
        print(sorted(m for m in ("psycopg", "pymysql", "sqlite3") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- handler ---------------------------------------------------------------------------


def test_connection_handler(tmp_path: Path) -> None:
    """Aliases map to lazily created wrappers chosen by scheme; unknown aliases are ConfigErrors."""
    handler = ConnectionHandler({"default": "sqlite:///a.db", "other": "postgresql://u@h/db"}, tmp_path)
    assert list(handler) == ["default", "other"] and "other" in handler
    default = handler["default"]
    assert default is handler["default"] and default.vendor == "sqlite"
    assert default.url.name == str(tmp_path / "a.db")
    assert handler["other"].vendor == "postgresql" and not handler["other"].connected
    default.execute("SELECT 1")
    handler.close_all()
    assert not default.connected
    with pytest.raises(ConfigError, match="'missing' is not configured"):
        handler["missing"]
    with pytest.raises(ConfigError, match="Database 'bad'"):
        handler.configure({"bad": "nosql://x"})
    handler.configure({"default": "sqlite://"})
    assert handler["default"] is not default and handler["default"].url.is_memory
    assert isinstance(connections, ConnectionHandler)


def test_schema_editor_is_resolved_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """schema_editor() uses schema_editor_class or <vendor>.schema.DatabaseSchemaEditor."""
    conn = create_connection("a", "sqlite://")

    class FakeEditor:
        def __init__(self, connection: object, collect_sql: bool, atomic: bool) -> None:
            self.args = (connection, collect_sql, atomic)

    monkeypatch.setattr(type(conn), "schema_editor_class", FakeEditor)
    editor = conn.schema_editor(collect_sql=True, atomic=False)
    assert editor.args == (conn, True, False)
    monkeypatch.setattr(type(conn), "schema_editor_class", None)
    monkeypatch.setattr(type(conn), "vendor", "novendor")
    with pytest.raises(ShoalError, match="has no schema editor"):
        conn.schema_editor(collect_sql=True)


def test_statements_are_logged_to_shoal_db_at_debug(connection: BaseDatabaseWrapper, caplog) -> None:
    """Every statement goes to the ``shoal.db`` logger at DEBUG, with its parameters
    (shoal does not import logging itself, but a project that configures it gets the records)."""
    import logging

    with caplog.at_level(logging.DEBUG, logger="shoal.db"):
        connection.fetchone("SELECT %s", [41])
    records = [r for r in caplog.records if r.name == "shoal.db"]
    assert records and records[-1].levelno == logging.DEBUG
    assert "SELECT" in records[-1].getMessage() and "41" in records[-1].getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="shoal.db"):
        connection.fetchone("SELECT %s", [42])
    assert not [r for r in caplog.records if r.name == "shoal.db"]


def test_planning_commands_do_not_import_heavy_modules(tmp_path: Path) -> None:
    """showmigrations / migrate with nothing to do stay lean: modules that cost
    milliseconds at start-up (dataclasses+inspect, logging, json, uuid) are not loaded."""
    code = textwrap.dedent("""
        import sys
        import shoal.cli.commands.showmigrations, shoal.cli.commands.migrate
        from shoal.db.backends.sqlite import connection, introspection, operations
        from shoal import checks, conf, project
        from shoal.migrations import executor, loader, recorder, graph_cache
        heavy = sorted({"dataclasses", "inspect", "logging", "json", "uuid"} & set(sys.modules))
        print(",".join(heavy))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


@pytest.mark.backends("postgresql")
def test_postgresql_run_of_migrations_flushes_once(connection: BaseDatabaseWrapper) -> None:
    """Inside one_durable_flush commits do not wait for the disk (synchronous_commit off);
    afterwards -- also after an error -- the setting is back and a durable commit has run."""
    def setting() -> str:
        return connection.fetchone("SHOW synchronous_commit")[0]

    before = setting()
    with connection.one_durable_flush():
        assert setting() == "off"
        with connection.atomic():
            connection.execute("CREATE TABLE flushed (id integer)")
    assert setting() == before
    with pytest.raises(RuntimeError):
        with connection.one_durable_flush():
            raise RuntimeError("a migration failed")
    assert setting() == before
    with connection.one_durable_flush(wanted=False):
        assert setting() == before
    connection.execute("DROP TABLE flushed")
