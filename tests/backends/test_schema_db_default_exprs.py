"""Expression db_defaults (``Now()``, ``Lower(Value(...))``) on real databases:
CREATE TABLE, ADD COLUMN, ALTER (added / changed / removed), NOT NULL fills and
the SQLite rebuild; rows inserted without the column get the database's value."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from shoal import models
from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.migrations.state import ModelState, ProjectState
from shoal.models.expressions import Value
from shoal.models.functions import Concat, Lower, Now, Upper

APP, MODEL, TABLE = "events", "Event", "events_event"
FIXED = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)


def state_with(**fields: models.Field) -> ProjectState:
    """``events.Event(id, label, **fields)``."""
    state = ProjectState()
    state.add_model(
        ModelState(
            APP,
            MODEL,
            [
                ("id", models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")),
                ("label", models.CharField(max_length=20)),
                *fields.items(),
            ],
        )
    )
    return state


def model(state: ProjectState) -> ModelState:
    return state.get_model(APP, MODEL)


def create(conn: BaseDatabaseWrapper, state: ProjectState) -> None:
    with conn.schema_editor() as editor:
        editor.create_model(state, model(state))


def alter(conn: BaseDatabaseWrapper, old: ProjectState, new: ProjectState, name: str) -> None:
    om, nm = model(old), model(new)
    with conn.schema_editor() as editor:
        editor.alter_field(old, om, om.get_field(name), new, nm, nm.get_field(name))


def insert(conn: BaseDatabaseWrapper, label: str) -> None:
    qn = conn.ops.quote_name
    conn.execute(f"INSERT INTO {qn(TABLE)} ({qn('label')}) VALUES (%s)", [label])


def value(conn: BaseDatabaseWrapper, column: str, label: str) -> Any:
    qn = conn.ops.quote_name
    row = conn.fetchone(f"SELECT {qn(column)} FROM {qn(TABLE)} WHERE {qn('label')} = %s", [label])
    assert row is not None, f"no row {label!r}"
    return row[0]


def as_utc(raw: Any) -> datetime.datetime:
    """A datetime read back: SQLite text or a naive value (the session is UTC) made aware."""
    if isinstance(raw, str):
        raw = datetime.datetime.fromisoformat(raw)
    assert isinstance(raw, datetime.datetime), f"not a datetime: {raw!r}"
    return raw if raw.tzinfo is not None else raw.replace(tzinfo=datetime.timezone.utc)


def assert_recent(raw: Any) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    got = as_utc(raw)
    assert abs(now - got) < datetime.timedelta(minutes=1), f"{got} is not the current time ({now})"


def column_default(conn: BaseDatabaseWrapper, column: str) -> str | None:
    return {c.name: c.default for c in conn.introspection.get_columns(TABLE)}[column]


# --------------------------------------------------------------------------- CREATE TABLE


def test_create_table_with_expression_defaults(connection: BaseDatabaseWrapper) -> None:
    """CREATE TABLE with Now()/Lower/Concat defaults: a row naming only `label` gets the database's values."""
    state = state_with(
        created=models.DateTimeField(db_default=Now()),
        code=models.CharField(max_length=10, db_default=Lower(Value("ABC"))),
        tag=models.CharField(max_length=10, db_default=Concat(Value("a"), Value("-"), Upper(Value("b")))),
        n=models.IntegerField(db_default=Value(3)),
    )
    create(connection, state)
    insert(connection, "one")
    assert_recent(value(connection, "created", "one"))
    assert value(connection, "code", "one") == "abc"
    assert value(connection, "tag", "one") == "a-B"
    assert value(connection, "n", "one") == 3
    default = (column_default(connection, "created") or "").lower()
    assert any(name in default for name in ("statement_timestamp", "current_timestamp", "strftime")), default


def test_collected_sql_keeps_percent_signs(vendor: str) -> None:
    """sqlmigrate's text shows the expression as run: SQLite's STRFTIME format is not mangled."""
    from shoal.db.connections import create_connection

    urls = {"sqlite": "sqlite:///:memory:", "postgresql": "postgresql://u@127.0.0.1:1/x", "mysql": "mysql://u@127.0.0.1:1/x"}
    conn = create_connection("collect", urls[vendor])
    state = state_with(created=models.DateTimeField(db_default=Now()))
    with conn.schema_editor(collect_sql=True) as editor:
        editor.create_model(state, model(state))
    sql = "\n".join(editor.collected_sql)
    expected = {
        "sqlite": "DEFAULT (STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')) NOT NULL",
        "postgresql": "DEFAULT (STATEMENT_TIMESTAMP()) NOT NULL",
        "mysql": "DEFAULT (CURRENT_TIMESTAMP(6)) NOT NULL",
    }[vendor]
    assert expected in sql, sql


# --------------------------------------------------------------------------- ADD COLUMN


@pytest.mark.parametrize("null", [False, True], ids=["not_null", "null"])
def test_add_now_column_fills_existing_rows(connection: BaseDatabaseWrapper, null: bool) -> None:
    """Adding a Now() column to a table with rows gives each row the current time."""
    old = state_with()
    create(connection, old)
    insert(connection, "old")
    new = state_with(added=models.DateTimeField(null=null, db_default=Now()))
    with connection.schema_editor() as editor:
        editor.add_field(new, model(new), model(new).get_field("added"))
    assert_recent(value(connection, "added", "old"))
    insert(connection, "new")
    assert_recent(value(connection, "added", "new"))


def test_add_now_column_to_empty_table(connection: BaseDatabaseWrapper) -> None:
    """Adding a Now() column to an empty table works everywhere (SQLite re-creates it)."""
    create(connection, state_with())
    new = state_with(added=models.DateTimeField(db_default=Now()))
    with connection.schema_editor() as editor:
        editor.add_field(new, model(new), model(new).get_field("added"))
    insert(connection, "new")
    assert_recent(value(connection, "added", "new"))


def test_add_column_with_default_and_db_default_keeps_the_db_default(connection: BaseDatabaseWrapper) -> None:
    """A field with both default and db_default: old rows get the db_default and the column keeps
    it as its DEFAULT (the Python default's DROP DEFAULT must not take it away)."""
    create(connection, state_with())
    insert(connection, "old")
    new = state_with(kind=models.CharField(max_length=10, default="py", db_default="db"))
    with connection.schema_editor() as editor:
        editor.add_field(new, model(new), model(new).get_field("kind"))
    insert(connection, "new")
    assert value(connection, "kind", "old") == "db" and value(connection, "kind", "new") == "db"
    assert column_default(connection, "kind") is not None


# --------------------------------------------------------------------------- ALTER


def test_alter_literal_to_now_then_remove(connection: BaseDatabaseWrapper) -> None:
    """literal -> Now(): old rows keep their value, new rows get the time; Now() -> none drops the default."""
    literal = state_with(created=models.DateTimeField(db_default=FIXED))
    create(connection, literal)
    insert(connection, "before")
    now = state_with(created=models.DateTimeField(db_default=Now()))
    alter(connection, literal, now, "created")
    assert as_utc(value(connection, "created", "before")) == FIXED
    insert(connection, "after")
    assert_recent(value(connection, "created", "after"))
    plain = state_with(created=models.DateTimeField(null=True))
    alter(connection, now, plain, "created")
    assert column_default(connection, "created") in (None, "NULL")
    insert(connection, "none")
    assert value(connection, "created", "none") is None
    assert as_utc(value(connection, "created", "before")) == FIXED  # rows kept across the (SQLite) rebuilds


def test_alter_expression_to_other_expression(connection: BaseDatabaseWrapper) -> None:
    """Lower(Value("ABC")) -> Upper(Value("xyz")) changes what new rows get, not old rows."""
    old = state_with(code=models.CharField(max_length=10, db_default=Lower(Value("ABC"))))
    create(connection, old)
    insert(connection, "one")
    new = state_with(code=models.CharField(max_length=10, db_default=Upper(Value("xyz"))))
    alter(connection, old, new, "code")
    insert(connection, "two")
    assert (value(connection, "code", "one"), value(connection, "code", "two")) == ("abc", "XYZ")


def test_not_null_with_expression_default_fills_nulls(connection: BaseDatabaseWrapper) -> None:
    """null -> NOT NULL with db_default=Now(): rows holding NULL get the current time."""
    old = state_with(created=models.DateTimeField(null=True))
    create(connection, old)
    insert(connection, "null row")
    assert value(connection, "created", "null row") is None
    new = state_with(created=models.DateTimeField(db_default=Now()))
    alter(connection, old, new, "created")
    assert_recent(value(connection, "created", "null row"))
    columns = {c.name: c for c in connection.introspection.get_columns(TABLE)}
    assert not columns["created"].null
