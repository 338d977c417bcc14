"""Database expressions as ``db_default``: how they are written into migration
files, compared by the autodetector and rendered as SQL per backend (no database)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shoal import models
from shoal.db.connections import create_connection
from shoal.exceptions import ImproperlyConfigured
from shoal.migrations import operations as ops
from shoal.migrations.autodetector import MigrationAutodetector
from shoal.migrations.graph import MigrationGraph
from shoal.migrations.serializer import serialize
from shoal.migrations.state import ModelState, ProjectState
from shoal.models.expressions import Func, Value, is_db_expression
from shoal.models.functions import Concat, Lower, Now, Upper

ROOT = Path(__file__).resolve().parents[2]

#: Unconnected wrappers (port 1: nothing listens) -- rendering must not need a server.
URLS = {
    "sqlite": "sqlite:///:memory:",
    "postgresql": "postgresql://root@127.0.0.1:1/none",
    "mysql": "mysql://root@127.0.0.1:1/none",
}


def fresh_eval(text: str, imports: set[str]) -> str:
    """``repr()`` of ``text`` evaluated by a new interpreter that ran only ``imports``,
    as a migration file would; the result is then checked against the expected value."""
    script = "\n".join(sorted(imports)) + f"\nvalue = {text}\n" + textwrap.dedent(
        """
        from shoal.models.functions import Concat, Lower, Now, Upper
        from shoal.models.expressions import Value
        print(repr(value))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, f"the serialized text does not import in a fresh interpreter:\n{script}\n{proc.stderr}"
    return proc.stdout.strip()


def event(*fields: tuple[str, models.Field]) -> ModelState:
    return ModelState(
        "events",
        "Event",
        [("id", models.BigAutoField(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")), *fields],
    )


def detect(before: ModelState, after: ModelState) -> dict:
    return MigrationAutodetector(
        ProjectState({before.key: before}), ProjectState({after.key: after})
    ).changes(MigrationGraph())


# -- serializer -------------------------------------------------------------------

def test_now_serializes_to_an_importable_path() -> None:
    """Now() is written as a path under shoal.models that a fresh migration process can import."""
    text, imports = serialize(Now())
    assert text in {"shoal.models.functions.Now()", "models.functions.Now()", "models.Now()"}, text
    assert fresh_eval(text, imports) == "Now()"


def test_field_with_expression_default_round_trips() -> None:
    """A field whose db_default is a nested expression is written and read back equal."""
    field = models.CharField(max_length=20, db_default=Concat(Value("a"), Upper(Value("b")), 3))
    text, imports = serialize(field)
    assert text.startswith("models.CharField(db_default=") and "Concat(" in text and "Upper(" in text, text
    script_value = fresh_eval(f"({text}).db_default", imports)
    assert script_value == "Concat(Value('a'), Upper(Value('b')), 3)"


def test_value_serializes_and_round_trips() -> None:
    """Value(x) as a db_default is written through its deconstruct() and rebuilt equal."""
    text, imports = serialize(Value("x"))
    assert text.endswith('Value("x")'), text
    assert fresh_eval(text, imports) == "Value('x')"


# -- deconstruct / equality ------------------------------------------------------------


def test_deconstruct_paths_and_arguments() -> None:
    """Each function deconstructs to its shoal.models.functions path and its own arguments."""
    assert Now().deconstruct() == ("shoal.models.functions.Now", (), {})
    assert Lower(Value("ABC")).deconstruct() == ("shoal.models.functions.Lower", (Value("ABC"),), {})
    assert Concat(Value("a"), 1).deconstruct() == ("shoal.models.functions.Concat", (Value("a"), 1), {})


def test_equal_by_class_and_arguments() -> None:
    """Two Now() are equal and hash equal; other classes or arguments are not equal."""
    assert Now() == Now() and hash(Now()) == hash(Now())
    assert Lower(Value("a")) == Lower(Value("a")) and hash(Lower(Value("a"))) == hash(Lower(Value("a")))
    assert Lower(Value("a")) != Lower(Value("b"))
    assert Lower(Value("a")) != Upper(Value("a"))
    assert Now() != "now" and Now() != Value("now")
    assert len({Now(), Now(), Upper(Value("x"))}) == 2


def test_pickle_and_field_clone_keep_equality() -> None:
    """The state cache pickles field deconstructions: an expression survives it equal."""
    value = Concat(Value("a"), Lower(Value("B")))
    assert pickle.loads(pickle.dumps(value)) == value
    field = models.DateTimeField(db_default=Now())
    assert field.clone().db_default == Now()
    assert field.deconstruct()[3]["db_default"] == Now()


def test_is_db_expression() -> None:
    """Functions count as database expressions; a Value or a plain literal does not."""
    assert is_db_expression(Now()) and is_db_expression(Lower(Value("a")))
    assert not is_db_expression(Value("a")) and not is_db_expression("a") and not is_db_expression(3)


def test_concat_needs_two_values() -> None:
    """Concat() of one value is refused with a message saying what to do."""
    with pytest.raises(ImproperlyConfigured, match="at least two"):
        Concat(Value("a"))


# -- autodetector -------------------------------------------------------------------


def test_unchanged_now_is_no_change() -> None:
    """Two states with the same Now() db_default (separate instances) need no migration."""
    before = event(("created", models.DateTimeField(db_default=Now())))
    after = event(("created", models.DateTimeField(db_default=Now())))
    assert detect(before, after) == {}


def test_literal_to_now_is_alter_field() -> None:
    """Changing db_default from a literal to Now() is one AlterField carrying Now()."""
    import datetime

    literal = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    before = event(("created", models.DateTimeField(db_default=literal)))
    after = event(("created", models.DateTimeField(db_default=Now())))
    changes = detect(before, after)
    operations = [op for migration in changes["events"] for op in migration.operations]
    assert len(operations) == 1
    op = operations[0]
    assert isinstance(op, ops.AlterField) and op.name == "created"
    assert op.field.db_default == Now()


def test_changed_function_arguments_are_alter_field() -> None:
    """Lower(Value("a")) -> Lower(Value("b")) is detected as an AlterField."""
    before = event(("code", models.CharField(max_length=5, db_default=Lower(Value("a")))))
    after = event(("code", models.CharField(max_length=5, db_default=Lower(Value("b")))))
    operations = [op for migration in detect(before, after)["events"] for op in migration.operations]
    assert [type(op).__name__ for op in operations] == ["AlterField"]


# -- SQL per backend ---------------------------------------------------------------------


EXPECTED_NOW = {
    "sqlite": "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')",
    "postgresql": "STATEMENT_TIMESTAMP()",
    "mysql": "CURRENT_TIMESTAMP(6)",
}

#: What Django 5.2's sqlmigrate writes for Concat(Value("a"), Value(1), Value("c")).
EXPECTED_CONCAT = {
    "sqlite": "(COALESCE('a', '') || COALESCE((COALESCE(1, '') || COALESCE('c', '')), ''))",
    "postgresql": "(COALESCE('a', '') || COALESCE((COALESCE((1)::text, '') || COALESCE('c', '')), ''))",
    "mysql": "CONCAT_WS('', 'a', CONCAT_WS('', 1, 'c'))",
}


@pytest.mark.parametrize("backend", list(URLS))
def test_sql_per_backend(backend: str) -> None:
    """Now/Lower/Upper/Concat render the SQL Django writes on each backend, without a server."""
    conn = create_connection("render", URLS[backend])
    assert Now().as_sql(conn) == EXPECTED_NOW[backend]
    assert Lower(Value("ABC")).as_sql(conn) == "LOWER('ABC')"
    assert Upper(Lower(Value("x"))).as_sql(conn) == "UPPER(LOWER('x'))"
    assert Concat(Value("a"), Value(1), Value("c")).as_sql(conn) == EXPECTED_CONCAT[backend]


@pytest.mark.parametrize("backend", list(URLS))
def test_db_default_sql_wraps_expressions_only(backend: str) -> None:
    """db_default_sql: an expression in parentheses, a Value as the plain literal."""
    conn = create_connection("render", URLS[backend])
    editor = conn.schema_editor(collect_sql=True)
    now = models.DateTimeField(db_default=Now())
    now.set_attributes_from_name("created")
    assert editor.db_default_sql(now) == f"({EXPECTED_NOW[backend]})"
    word = models.CharField(max_length=5, db_default=Value("it's"))
    word.set_attributes_from_name("word")
    plain = models.CharField(max_length=5, db_default="it's")
    plain.set_attributes_from_name("word")
    assert editor.db_default_sql(word) == editor.db_default_sql(plain) == conn.ops.quote_value("it's")


def test_column_reference_is_refused_with_field_name() -> None:
    """A string argument names a column: db_default refuses it naming the field and the fix."""
    conn = create_connection("render", URLS["sqlite"])
    field = models.CharField(max_length=5, db_default=Lower("ABC"))
    field.set_attributes_from_name("code")
    with pytest.raises(ImproperlyConfigured, match=r"Field 'code'.*Value\('ABC'\)"):
        conn.schema_editor(collect_sql=True).db_default_sql(field)


def test_func_subclass_uses_vendor_override() -> None:
    """A Func subclass's as_<vendor> method replaces the generic template on that backend only."""

    class Random(Func):
        function = "RANDOM"

        def as_mysql(self, connection: object) -> str:
            return "RAND()"

    assert Random().as_sql(create_connection("r", URLS["sqlite"])) == "RANDOM()"
    assert Random().as_sql(create_connection("r", URLS["mysql"])) == "RAND()"
