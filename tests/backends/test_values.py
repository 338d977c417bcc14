"""Values in and out of real databases: adapters, converters, lookups, quoting, checks."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.exceptions import DatabaseError, IntegrityError
from tests.dbutil import make_item_table

# -- values --------------------------------------------------------------------------


def test_values_round_trip(connection: BaseDatabaseWrapper) -> None:
    """adapt_value -> column of that type -> convert_value gives the value back."""
    now = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    values = {
        "DateTimeField": now,
        "DateField": datetime.date(2024, 2, 29),
        "TimeField": datetime.time(23, 59, 1, 500),
        "DecimalField": decimal.Decimal("12345.67"),
        "UUIDField": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "BooleanField": True,
        "JSONField": {"a": [1, 2.5, None, "x"], "b": {"c": True}},
        "DurationField": datetime.timedelta(days=3, seconds=7, microseconds=9),
        "BinaryField": b"\x00\xffbin",
        "FloatField": 1.25,
        "GenericIPAddressField": "192.168.0.1",
        "BigIntegerField": 2**40,
        "TextField": "snow \u2603 and emoji \U0001f600",
    }
    qn = connection.ops.quote_name
    cols = [f"{qn(name)} {connection.column_type(name, max_digits=10, decimal_places=2)} NULL" for name in values]
    connection.execute(f"CREATE TABLE {qn('vals')} ({', '.join(cols)})")
    names = list(values)
    params = [connection.ops.adapt_value(values[n], n) for n in names]
    connection.execute(
        f"INSERT INTO {qn('vals')} ({', '.join(qn(n) for n in names)}) VALUES ({', '.join(['%s'] * len(names))})",
        params,
    )
    connection.execute(f"INSERT INTO {qn('vals')} ({qn('TextField')}) VALUES (%s)", ["nulls"])
    row = connection.fetchone(
        f"SELECT {', '.join(qn(n) for n in names)} FROM {qn('vals')} WHERE {qn('BooleanField')} IS NOT NULL"
    )
    assert row is not None
    back = {n: connection.ops.convert_value(v, n, decimal_places=2) for n, v in zip(names, row, strict=True)}
    assert back == values
    assert back["DateTimeField"].tzinfo == datetime.timezone.utc
    nulls = connection.fetchone(
        f"SELECT {', '.join(qn(n) for n in names)} FROM {qn('vals')} WHERE {qn('TextField')} = %s", ["nulls"]
    )
    assert nulls is not None and [
        connection.ops.convert_value(v, n) for n, v in zip(names[:-1], nulls[:-1], strict=True)
    ] == [None] * (len(names) - 1)


def test_raw_python_params_are_adapted(connection: BaseDatabaseWrapper) -> None:
    """datetime/UUID/Decimal passed straight to execute() are stored as shoal reads them."""
    qn = connection.ops.quote_name
    dt_type = connection.column_type("DateTimeField")
    uuid_type = connection.column_type("UUIDField")
    connection.execute(f"CREATE TABLE {qn('raw')} ({qn('t')} {dt_type}, {qn('u')} {uuid_type})")
    aware = datetime.datetime(2020, 1, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
    u = uuid.uuid4()
    connection.execute(f"INSERT INTO {qn('raw')} VALUES (%s, %s)", [aware, u])
    t, stored = connection.fetchone(f"SELECT {qn('t')}, {qn('u')} FROM {qn('raw')}")  # type: ignore[misc]
    assert connection.ops.convert_value(t, "DateTimeField") == aware
    assert connection.ops.convert_value(stored, "UUIDField") == u
    assert connection.fetchall(f"SELECT COUNT(*) FROM {qn('raw')} WHERE {qn('u')} = %s", [u]) == [(1,)]


def test_pattern_lookups_escape_and_respect_case(connection: BaseDatabaseWrapper) -> None:
    """contains/startswith/endswith are case-sensitive, i* are not, and %/_ match literally."""
    table = make_item_table(connection)
    qn = connection.ops.quote_name
    for name in ["Hello_World", "hello world", "50% off", "a\\b"]:
        connection.execute(f"INSERT INTO {table} ({qn('name')}) VALUES (%s)", [name])

    def match(lookup: str, value: str) -> list[str]:
        sql, params = connection.ops.pattern_lookup(lookup, qn("name"), value)
        rows = connection.fetchall(f"SELECT {qn('name')} FROM {table} WHERE {sql}", params)
        return sorted(r[0] for r in rows)

    assert match("contains", "o_W") == ["Hello_World"]
    assert match("contains", "O_W") == []
    assert match("icontains", "O_W") == ["Hello_World"]
    assert match("contains", "_") == ["Hello_World"]
    assert match("contains", "%") == ["50% off"]
    assert match("contains", "\\") == ["a\\b"]
    assert match("startswith", "hello") == ["hello world"]
    assert match("istartswith", "HELLO") == ["Hello_World", "hello world"]
    assert match("endswith", "OFF") == []
    assert match("iendswith", "OFF") == ["50% off"]
    assert match("iexact", "HELLO WORLD") == ["hello world"]
    sql = connection.ops.regex_lookup(qn("name"), case_sensitive=True)
    assert [r[0] for r in connection.fetchall(f"SELECT {qn('name')} FROM {table} WHERE {sql}", ["^h.llo"])] == [
        "hello world"
    ]
    sql = connection.ops.regex_lookup(qn("name"), case_sensitive=False)
    assert len(connection.fetchall(f"SELECT {qn('name')} FROM {table} WHERE {sql}", ["^h.llo"])) == 2


def test_limit_offset_and_quoting(connection: BaseDatabaseWrapper) -> None:
    """limit_offset_sql works (OFFSET alone too) and quote_name survives quote characters."""
    qn = connection.ops.quote_name
    odd = 'we"ird`name'
    connection.execute(f"CREATE TABLE {qn(odd)} ({qn('n')} integer)")
    with connection.cursor() as cur:
        cur.executemany(f"INSERT INTO {qn(odd)} ({qn('n')}) VALUES (%s)", [(i,) for i in range(5)])
    base = f"SELECT {qn('n')} FROM {qn(odd)} ORDER BY {qn('n')} "
    assert connection.fetchall(base + connection.ops.limit_offset_sql(2, 1)) == [(1,), (2,)]
    assert connection.fetchall(base + connection.ops.limit_offset_sql(None, 3)) == [(3,), (4,)]
    assert odd in connection.introspection.table_names()
    assert connection.ops.compose_sql("SELECT %s, %s, '%%'", ["it's", None]) == "SELECT 'it''s', NULL, '%'"


def test_check_constraints_finds_dangling_rows(connection: BaseDatabaseWrapper) -> None:
    """With FK checks disabled a dangling row can be written; check_constraints reports it."""
    if not connection.disable_constraint_checking():
        pytest.skip("backend cannot disable constraint checks")
    qn = connection.ops.quote_name
    try:
        connection.execute(f"CREATE TABLE {qn('p')} ({qn('id')} integer PRIMARY KEY)")
        connection.execute(
            f"CREATE TABLE {qn('c')} ({qn('id')} integer PRIMARY KEY, "
            f"{qn('p_id')} integer REFERENCES {qn('p')} ({qn('id')}))"
        )
        connection.execute(f"INSERT INTO {qn('c')} VALUES (%s, %s)", [1, 42])
    finally:
        connection.enable_constraint_checking()
    connection.check_constraints(["p"])
    with pytest.raises(IntegrityError, match="'c'"):
        connection.check_constraints(["c"])


@pytest.mark.backends("mysql")
def test_mysql_session_is_strict_utc_utf8mb4(connection: BaseDatabaseWrapper) -> None:
    """MySQL sessions have STRICT_TRANS_TABLES, UTC and utf8mb4."""
    mode, tz, charset = connection.fetchone("SELECT @@sql_mode, @@time_zone, @@character_set_connection")  # type: ignore[misc]
    assert "STRICT_TRANS_TABLES" in mode and tz == "+00:00" and charset == "utf8mb4"
    connection.execute("CREATE TABLE s (v varchar(3))")
    with pytest.raises(DatabaseError, match="too long"):
        connection.execute("INSERT INTO s VALUES (%s)", ["abcd"])
