"""Parity histories for database expressions as ``db_default``: ``Now()``,
``Lower``/``Upper``/``Concat`` of ``Value``s, and ``Value`` itself.

The migration files are the same for both tools: the functions are imported
from ``<models package>.functions`` and ``Value`` from
``<models package>.expressions`` (``django.db.models.*`` under Django,
``shoal.models.*`` under shoal).  A RunPython step inserts a row without the
``Now()`` column, through the connection's own cursor, and fails the migration
-- under either tool -- unless the database filled it with its current time
(within a minute of the test's clock); the schemas are then compared as usual.
"""

from __future__ import annotations

from .harness import SQLITE_COLUMN_ORDER, History

ID = '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))'

#: After the import line, the same lines work under Django and shoal: ``models``
#: is either tool's models package.
IMPORTS = """\
import datetime
import importlib

functions = importlib.import_module(models.__name__ + ".functions")
Value = importlib.import_module(models.__name__ + ".expressions").Value
"""

#: A RunPython helper: insert a row naming only ``label`` and check ``column``
#: got the database's current time; tool-neutral (raw cursor, quote_name).
CHECK_NOW = '''

def _read_time(value):
    if isinstance(value, str):  # SQLite keeps text
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:  # MySQL/SQLite: the session's time zone, UTC here
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def check_now(table, columns, label):
    """RunPython code: a row inserted without ``columns`` has the current time in each."""

    def run(apps, schema_editor):
        conn = schema_editor.connection
        qn = conn.ops.quote_name
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {qn(table)} WHERE {qn('label')} = %s", [label])
            if cursor.fetchone()[0] == 0:
                cursor.execute(f"INSERT INTO {qn(table)} ({qn('label')}) VALUES (%s)", [label])
            for column in columns:
                cursor.execute(f"SELECT {qn(column)} FROM {qn(table)} WHERE {qn('label')} = %s", [label])
                got = _read_time(cursor.fetchone()[0])
                now = datetime.datetime.now(datetime.timezone.utc)
                if abs(now - got) > datetime.timedelta(minutes=1):
                    raise AssertionError(f"{table}.{column} = {got!r}, not the current time ({now!r})")

    return run
'''


DB_DEFAULT_EXPRESSIONS = History(
    name="db_default_expressions",
    app="dbexpr",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}
            {{IMPORT_BLOCK}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Event",
                        fields=[
                            {ID},
                            ("label", models.CharField(max_length=20)),
                            ("created", models.DateTimeField(db_default=functions.Now())),
                            ("created_null", models.DateTimeField(null=True, db_default=functions.Now())),
                            ("day", models.DateField(db_default=functions.Now())),
                            ("code", models.CharField(max_length=10, db_default=functions.Lower(Value("ABC")))),
                            ("shout", models.CharField(max_length=10, db_default=functions.Upper(Value("it's")))),
                            ("tag", models.CharField(max_length=30, db_default=functions.Concat(Value("a"), Value("-"), functions.Upper(Value("b"))))),
                            ("joined", models.CharField(max_length=30, null=True, db_default=functions.Concat(Value("n"), Value(1)))),
                            ("body", models.TextField(db_default=functions.Lower(Value("TEXT")))),
                            ("n", models.IntegerField(db_default=Value(3))),
                            ("word", models.CharField(max_length=10, db_default=Value("w"))),
                            ("stamp", models.DateTimeField(db_default=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))),
                        ],
                    ),
                    migrations.CreateModel(
                        "Log",
                        fields=[{ID}, ("label", models.CharField(max_length=20))],
                    ),
                ]
        """,
        "0002_row": """
            {IMPORT}
            {IMPORT_BLOCK}
            {CHECK_NOW}

            class Migration(migrations.Migration):
                dependencies = [("dbexpr", "0001_initial")]
                operations = [
                    migrations.RunPython(check_now("dbexpr_event", ["created", "created_null"], "first"), migrations.RunPython.noop),
                ]
        """,
        "0003_alter": """
            {IMPORT}
            {IMPORT_BLOCK}
            {CHECK_NOW}

            class Migration(migrations.Migration):
                dependencies = [("dbexpr", "0002_row")]
                operations = [
                    # literal -> Now(), Now() -> literal, Now() -> none, none -> expression, expression -> Value
                    migrations.AlterField("event", "stamp", models.DateTimeField(db_default=functions.Now())),
                    migrations.AlterField("event", "created", models.DateTimeField(db_default=datetime.datetime(2021, 2, 3, tzinfo=datetime.timezone.utc))),
                    migrations.AlterField("event", "created_null", models.DateTimeField(null=True)),
                    migrations.AlterField("event", "label", models.CharField(max_length=20, db_default=functions.Lower(Value("X")))),
                    migrations.AlterField("event", "code", models.CharField(max_length=10, db_default=Value("abc"))),
                    migrations.AlterField("event", "shout", models.CharField(max_length=10, db_default=functions.Upper(Value("other")))),
                    # nullable -> NOT NULL with an expression default fills the NULLs with it
                    migrations.AlterField("event", "joined", models.CharField(max_length=30, db_default=functions.Concat(Value("x"), Value("y")))),
                    # a new column on an empty table (SQLite: re-created, not ALTERed)
                    migrations.AddField("log", "added", models.DateTimeField(db_default=functions.Now())),
                    migrations.RunPython(check_now("dbexpr_log", ["added"], "second"), migrations.RunPython.noop),
                    migrations.RunPython(check_now("dbexpr_event", ["stamp"], "third"), migrations.RunPython.noop),
                ]
        """,
    },
    steps=[None, "0002_row", "0001_initial", "zero"],
    accept=(SQLITE_COLUMN_ORDER,),
)


#: A Now() column added to a table that already has rows: each row gets the
#: current time (PostgreSQL and MySQL evaluate the default per existing row,
#: SQLite's rebuild copies the rows without the column).
DB_DEFAULT_ADDED_TO_ROWS = History(
    name="db_default_now_added_to_rows",
    app="dbexprrows",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}
            {{IMPORT_BLOCK}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Event",
                        fields=[{ID}, ("label", models.CharField(max_length=20))],
                    ),
                ]
        """,
        "0002_rows": """
            {IMPORT}
            {IMPORT_BLOCK}


            def add_rows(apps, schema_editor):
                conn = schema_editor.connection
                qn = conn.ops.quote_name
                with conn.cursor() as cursor:
                    cursor.execute(f"INSERT INTO {qn('dbexprrows_event')} ({qn('label')}) VALUES (%s)", ["old"])


            class Migration(migrations.Migration):
                dependencies = [("dbexprrows", "0001_initial")]
                operations = [migrations.RunPython(add_rows, migrations.RunPython.noop)]
        """,
        "0003_add": """
            {IMPORT}
            {IMPORT_BLOCK}
            {CHECK_NOW}

            class Migration(migrations.Migration):
                dependencies = [("dbexprrows", "0002_rows")]
                operations = [
                    migrations.AddField("event", "added", models.DateTimeField(db_default=functions.Now())),
                    migrations.AddField("event", "added_null", models.DateTimeField(null=True, db_default=functions.Now())),
                    migrations.AddField("event", "code", models.CharField(max_length=10, null=True, db_default=functions.Lower(Value("ABC")))),
                    migrations.RunPython(check_now("dbexprrows_event", ["added", "added_null"], "old"), migrations.RunPython.noop),
                ]
        """,
    },
    steps=[None, "0002_rows"],
    accept=(SQLITE_COLUMN_ORDER,),
)


HISTORIES: list[History] = [DB_DEFAULT_EXPRESSIONS, DB_DEFAULT_ADDED_TO_ROWS]

for _history in HISTORIES:
    _history.substitutions = {"IMPORT_BLOCK": {"*": IMPORTS}, "CHECK_NOW": {"*": CHECK_NOW}}
