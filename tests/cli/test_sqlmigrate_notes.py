"""sqlmigrate and migrate --plan say what a migration will lock or rewrite, per backend.

Every backend's real command output is read: the ``-- NOTE:`` comment sits right
before the statement it is about and names the table, operations that rewrite
nothing (and anything on a table created in the same migration) get no note,
and the printed SQL, notes included, still runs when piped into psql, mysql or
sqlite3.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from typing import Any

import pytest

from shoal import models
from shoal.db.connections import create_connection
from shoal.db.url import parse_url
from shoal.migrations.state import ModelState, ProjectState
from tests.cli.projects import TempProject

NOTE = "-- NOTE: "

MIGRATIONS = {
    # Brand-new tables: an index, a foreign key or a rebuild of them is worth no note.
    "0001_initial": """
        initial = True
        operations = [
            migrations.CreateModel("Author", [
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
            ]),
            migrations.CreateModel("Book", [
                ("id", models.BigAutoField(primary_key=True)),
                ("title", models.CharField(max_length=99)),
                ("price", models.IntegerField(null=True)),
            ]),
            migrations.AddIndex("Book", models.Index(fields=["title"], name="book_title_idx")),
            migrations.AddField("Book", "author", models.ForeignKey(
                "books.Author", on_delete=models.CASCADE, null=True)),
            # SQLite rebuilds the table for this, but a new table has no rows to copy.
            migrations.AlterField("Book", "title", models.CharField(max_length=100)),
        ]
    """,
    # Nothing rewritten or scanned anywhere.
    "0002_quiet": """
        dependencies = [("books", "0001_initial")]
        operations = [
            migrations.AddField("Book", "subtitle", models.CharField(max_length=20, null=True)),
            migrations.RenameField("Book", "subtitle", "tagline"),
        ]
    """,
    # A column with a default: PostgreSQL and MySQL store the default once; SQLite rebuilds.
    "0003_stock": """
        dependencies = [("books", "0002_quiet")]
        operations = [
            migrations.AddField("Book", "stock", models.IntegerField(default=0)),
        ]
    """,
    "0004_price": """
        dependencies = [("books", "0003_stock")]
        operations = [
            migrations.AlterField("Book", "price", models.DecimalField(max_digits=10, decimal_places=2, null=True)),
        ]
    """,
    "0005_mixed": """
        dependencies = [("books", "0004_price")]
        operations = [
            migrations.AddIndex("Book", models.Index(fields=["price"], name="book_price_idx")),
            migrations.AlterField("Book", "price", models.DecimalField(max_digits=10, decimal_places=2, default=0)),
            migrations.AddField("Book", "editor", models.ForeignKey(
                "books.Author", on_delete=models.CASCADE, null=True, related_name="+")),
            migrations.AddConstraint("Book", models.CheckConstraint(
                condition=models.Q(stock__gte=0), name="book_stock_gte_0")),
            migrations.AlterField("Book", "title", models.CharField(max_length=200)),
        ]
    """,
}

#: The single note of 0004_price and the statement it must precede.
PRICE_NOTE = {
    "sqlite": ('rebuilds table "books_book": altering column price (every row is copied into a new table; '
               'other writers wait until the migration commits)', 'CREATE TABLE "new__books_book"'),
    "postgresql": (
        'rewrites table "books_book": column price changes type from integer to numeric(10, 2) '
        "(ACCESS EXCLUSIVE lock: reads and writes wait until done)",
        'ALTER TABLE "books_book" ALTER COLUMN "price" TYPE numeric(10, 2) USING "price"::numeric(10, 2);',
    ),
    "mysql": (
        'copies table "books_book": column price changes type from integer to numeric(10, 2) '
        "(ALGORITHM=COPY: reads continue, writes wait until every row is copied)",
        "ALTER TABLE `books_book` MODIFY `price` numeric(10, 2);",
    ),
}

#: The notes of 0005_mixed, in order: (start of the note, start of the next statement).
MIXED_NOTES = {
    "sqlite": [
        ('rebuilds table "books_book": altering column price', 'CREATE TABLE "new__books_book"'),
        ('rebuilds table "books_book": adding constraint book_stock_gte_0', 'CREATE TABLE "new__books_book"'),
        ('rebuilds table "books_book": altering column title', 'CREATE TABLE "new__books_book"'),
    ],
    "postgresql": [
        ('scans table "books_book": builds index book_price_idx on (price) from every row (SHARE lock',
         'CREATE INDEX "book_price_idx" ON "books_book"'),
        ('scans table "books_book": rows whose price is NULL get the default: every row is read and those are '
         'written', 'UPDATE "books_book" SET "price"'),
        ('scans table "books_book": column price becomes NOT NULL, checked on every row (ACCESS EXCLUSIVE',
         'ALTER TABLE "books_book" ALTER COLUMN "price" SET NOT NULL;'),
        ('scans table "books_book": adds CHECK book_stock_gte_0, checked on every row',
         'ALTER TABLE "books_book" ADD CONSTRAINT "book_stock_gte_0" CHECK'),
        # Queued by AddField until the end of the migration, and noted there.
        ('scans table "books_book": adds foreign key books_book_editor_id_',
         'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_editor_id_'),
        ('scans table "books_book": builds index books_book_editor_id_', 'CREATE INDEX "books_book_editor_id_'),
    ],
    "mysql": [
        ('scans table "books_book": rows whose price is NULL get the default: every row is read and those are '
         'written', "UPDATE `books_book` SET `price`"),
        ('rebuilds table "books_book": column price becomes NOT NULL (ALGORITHM=INPLACE',
         "ALTER TABLE `books_book` MODIFY `price` numeric(10, 2) NOT NULL;"),
        ('copies table "books_book": adds foreign key books_book_editor_id_',
         "ALTER TABLE `books_book` ADD COLUMN `editor_id` bigint, ADD CONSTRAINT"),
        ('copies table "books_book": adds CHECK book_stock_gte_0, checking every row (ALGORITHM=COPY',
         "ALTER TABLE `books_book` ADD CONSTRAINT `book_stock_gte_0` CHECK"),
    ],
}


def write_migrations(proj: TempProject, names: list[str]) -> None:
    proj.write("books/models.py", "from shoal import models\n")
    proj.write("books/migrations/__init__.py", "")
    for name in names:
        body = textwrap.indent(textwrap.dedent(MIGRATIONS[name]), "    ")
        proj.write(
            f"books/migrations/{name}.py",
            "from shoal import migrations, models\n\n\nclass Migration(migrations.Migration):\n" + body + "\n",
        )


@pytest.fixture
def project(tmp_path: Any, db_url: str) -> TempProject:
    proj = TempProject(tmp_path / "proj", ["books"], db_url)
    write_migrations(proj, list(MIGRATIONS))
    return proj


def sqlmigrate(proj: TempProject, name: str, *args: str) -> str:
    result = proj.shoal("sqlmigrate", "books", name, *args)
    assert result.code == 0, result.err
    return result.out


def noted(output: str) -> list[tuple[str, str]]:
    """(note text, the line right after the notes) for every note in sqlmigrate's output."""
    lines = output.splitlines()
    pairs = []
    for i, line in enumerate(lines):
        if line.startswith(NOTE):
            following = next(later for later in lines[i + 1:] if not later.startswith(NOTE))
            pairs.append((line[len(NOTE):], following))
    return pairs


def assert_notes(output: str, expected: list[tuple[str, str]]) -> None:
    found = noted(output)
    assert len(found) == len(expected), output
    for (note, statement), (want_note, want_statement) in zip(found, expected):
        assert note.startswith(want_note), (note, output)
        assert statement.startswith(want_statement), (note, statement, output)
        assert not statement.startswith("--"), output  # a note is about a statement, not a comment


def test_notes_precede_the_statements_they_concern(project: TempProject, vendor: str) -> None:
    """A type change, an index, NOT NULL, a CHECK and a foreign key are noted right before
    their statement, with what each backend really does; quiet operations get nothing."""
    initial = sqlmigrate(project, "0001")
    assert "CREATE TABLE" in initial and NOTE not in initial  # new tables hold no rows
    assert NOTE not in sqlmigrate(project, "0002")
    stock = sqlmigrate(project, "0003")
    if vendor == "sqlite":
        assert_notes(stock, [('rebuilds table "books_book": adding column stock', 'CREATE TABLE "new__books_book"')])
    else:
        assert NOTE not in stock and "DEFAULT 0 NOT NULL" in stock
    price = sqlmigrate(project, "0004")
    assert_notes(price, [PRICE_NOTE[vendor]])
    assert price.count("-- Alter field price on Book") == 1
    mixed = sqlmigrate(project, "0005")
    assert_notes(mixed, MIXED_NOTES[vendor])
    if vendor == "mysql":  # an index is built online on MySQL/MariaDB: no note
        index = mixed.splitlines().index("-- Create index book_price_idx on field(s) price of model Book")
        assert mixed.splitlines()[index + 1].startswith("CREATE INDEX `book_price_idx`")
    if vendor != "sqlite":  # a longer varchar is not rewritten (PostgreSQL) / changed in place (MariaDB)
        title = mixed.splitlines().index("-- Alter field title on Book")
        assert "200" in mixed.splitlines()[title + 1], mixed


def test_backwards_notes(project: TempProject, vendor: str) -> None:
    """--backwards notes what undoing does: a shorter varchar and a narrower type rewrite or copy."""
    back = sqlmigrate(project, "0005", "--backwards")
    found = noted(back)
    if vendor == "postgresql":
        assert [note for note, _ in found] == [
            'rewrites table "books_book": column title changes type from varchar(200) to varchar(100) '
            "(ACCESS EXCLUSIVE lock: reads and writes wait until done)"
        ]
        assert found[0][1] == 'ALTER TABLE "books_book" ALTER COLUMN "title" TYPE varchar(100);'
    elif vendor == "mysql":
        assert [note.split(" (")[0] for note, _ in found] == [
            'copies table "books_book": column title changes type from varchar(200) to varchar(100)',
            'rebuilds table "books_book": column price becomes NULL',
        ]
        assert found[0][1] == "ALTER TABLE `books_book` MODIFY `title` varchar(100) NOT NULL;"
        assert found[1][1] == "ALTER TABLE `books_book` MODIFY `price` numeric(10, 2);"
    else:
        assert found and all(note.startswith('rebuilds table "books_book": ') for note, _ in found)
    quiet_back = sqlmigrate(project, "0002", "--backwards")
    if vendor == "sqlite":  # DROP COLUMN rewrites the table there
        assert [note for note, _ in noted(quiet_back)] == [
            'rewrites table "books_book": DROP COLUMN subtitle rewrites the table'
        ]
    else:
        assert NOTE not in quiet_back and "DROP COLUMN" in quiet_back


def pipe_into_database(db_url: str, sql: str) -> subprocess.CompletedProcess[str]:
    """Run ``sql`` through the database's own command-line client, stopping at the first error."""
    url = parse_url(db_url)
    env = dict(os.environ)
    if url.scheme == "sqlite":
        command = ["sqlite3", "-bail", url.name]
    elif url.scheme == "postgresql":
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1",
                   "-p", str(url.port or 5432), "-U", url.user or "root", "-d", url.name]
        if url.password:
            env["PGPASSWORD"] = url.password
    else:
        command = ["mysql", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.user or "root",
                   url.name]
        if url.password:
            env["MYSQL_PWD"] = url.password
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    return subprocess.run(command, input=sql, capture_output=True, text=True, env=env, timeout=120)


def test_printed_sql_with_notes_runs_in_the_database_client(project: TempProject, db_url: str, vendor: str) -> None:
    """sqlmigrate's output, notes included, runs as is in psql / mysql / sqlite3 on a table with rows."""
    assert project.shoal("migrate", "books", "0001").code == 0
    conn = create_connection("rows", db_url)
    try:
        conn.execute("INSERT INTO books_author (name) VALUES (%s)", ["Le Guin"])
        conn.execute("INSERT INTO books_book (title, price) VALUES (%s, NULL)", ["Earthsea"])
    finally:
        conn.close()
    printed = [sqlmigrate(project, name) for name in ("0002", "0003", "0004", "0005")]
    assert sum(len(noted(sql)) for sql in printed) >= 3
    for sql in printed:
        ran = pipe_into_database(db_url, sql)
        assert ran.returncode == 0, (ran.stderr, sql)
    conn = create_connection("check", db_url)
    try:
        columns = {c.name: c for c in conn.introspection.get_columns("books_book")}
        assert {"tagline", "stock", "editor_id"} <= set(columns)
        assert columns["price"].type.startswith(("numeric", "decimal")) and columns["price"].null is False
        assert conn.fetchall("SELECT title, price, stock FROM books_book") == [("Earthsea", 0, 0)]
        assert "book_stock_gte_0" in conn.introspection.get_constraints("books_book")
    finally:
        conn.close()


def plan_notes(output: str) -> list[tuple[str, list[str]]]:
    """(operation line, the ``!`` lines under it) for every operation of migrate --plan."""
    entries: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        if line.startswith("    ! "):
            entries[-1][1].append(line[len("    ! "):])
        elif line.startswith("    "):
            entries.append((line.strip(), []))
    return entries


def test_migrate_plan_shows_notes_under_their_operation(project: TempProject, vendor: str) -> None:
    """migrate --plan lists, under each operation, the notes sqlmigrate prints for its SQL
    (queued statements under the operation that queued them), and nothing under quiet ones."""
    assert project.shoal("migrate", "books", "0001").code == 0
    result = project.shoal("migrate", "--plan")
    assert result.code == 0, result.err
    entries = plan_notes(result.out)
    assert [op for op, _ in entries] == [
        "Add field subtitle to Book", "Rename field subtitle on Book to tagline",
        "Add field stock to Book",
        "Alter field price on Book",
        "Create index book_price_idx on field(s) price of model Book", "Alter field price on Book",
        "Add field editor to Book", "Create constraint book_stock_gte_0 on model Book",
        "Alter field title on Book",
    ]
    notes = [found for _, found in entries]
    assert notes[0] == [] and notes[1] == []
    assert notes[2] == (['rebuilds table "books_book": adding column stock (every row is copied into a new '
                         'table; other writers wait until the migration commits)'] if vendor == "sqlite" else [])
    assert notes[3] == [PRICE_NOTE[vendor][0]]
    # The same notes as sqlmigrate's (there, queued statements come last).
    mixed = [note for found in notes[4:] for note in found]
    wanted = [want for want, _statement in MIXED_NOTES[vendor]]
    assert len(mixed) == len(wanted), result.out
    assert all(sum(n.startswith(w) for n in mixed) == 1 for w in wanted), result.out
    if vendor == "postgresql":
        assert [n.split(",")[0] for n in notes[6]] == [
            'scans table "books_book": adds foreign key books_book_editor_id_fcb63802_fk_books_author_id',
            'scans table "books_book": builds index books_book_editor_id_fcb63802 on (editor_id) from every row (SHARE lock: reads continue',
        ]
    if vendor == "mysql":
        assert notes[4] == []  # CREATE INDEX is online
    if vendor != "sqlite":
        assert notes[8] == []  # varchar(100) -> varchar(200): no rewrite, or in place
    assert project.shoal("migrate").code == 0
    back = plan_notes(project.shoal("migrate", "books", "0004", "--plan").out)
    title = dict(back)["Undo Alter field title on Book"]
    assert len(title) == 1 and title[0].startswith(
        {"sqlite": "rebuilds", "postgresql": "rewrites", "mysql": "copies"}[vendor] + ' table "books_book": '
    )


@pytest.mark.parametrize("target", ["postgresql", "mysql"])
def test_notes_need_no_connection(tmp_path: Any, target: str) -> None:
    """sqlmigrate --database prints the notes of a server that cannot be reached."""
    proj = TempProject(tmp_path / "p", ["books"], f"sqlite:///{tmp_path}/main.sqlite3")
    with open(proj.path / "pyproject.toml", "a") as toml:
        toml.write(f'other = "{target}://x@127.0.0.1:1/none"\n')
    write_migrations(proj, list(MIGRATIONS))
    out = sqlmigrate(proj, "0004", "--database", "other")
    assert noted(out) == [PRICE_NOTE[target]]


def _library() -> tuple[ProjectState, ProjectState]:
    before = ProjectState()
    price = models.IntegerField(null=True)
    before.add_model(ModelState("shop", "Item", [("id", models.BigAutoField(primary_key=True)), ("price", price)]))
    after = before.clone()
    wider = models.BigIntegerField(null=True)
    wider.set_attributes_from_name("price")
    after.update_model("shop", "item", lambda m: m.fields.__setitem__("price", wider))
    return before, after


@pytest.mark.backends("postgresql", "mysql")
def test_connected_editor_notes_only_tables_with_rows(connection: Any, vendor: str) -> None:
    """Running for real, a type change is noted on a table with rows, not on an empty one."""
    narrow, wide = _library()

    def alter(state_a: ProjectState, state_b: ProjectState, asked: bool = True) -> Any:
        a, b = state_a.get_model("shop", "item"), state_b.get_model("shop", "item")
        with connection.schema_editor() as editor:
            editor.notes_when_connected = asked
            editor.alter_field(state_a, a, a.get_field("price"), state_b, b, b.get_field("price"))
        return editor

    with connection.schema_editor() as editor:
        editor.create_model(narrow, narrow.get_model("shop", "item"))
    assert editor.notes == []
    assert alter(narrow, wide).notes == []  # empty: nothing to rewrite
    connection.execute("INSERT INTO shop_item (price) VALUES (1)")
    notes = alter(wide, narrow).notes
    assert [(n.kind, n.table) for n in notes] == [("rewrite" if vendor == "postgresql" else "copy", "shop_item")]
    assert notes[0].summary.startswith(
        ('rewrites table "shop_item": column price changes type from bigint to integer',
         'copies table "shop_item": column price changes type from bigint to integer')
    )
    assert connection.fetchall("SELECT price FROM shop_item") == [(1,)]
    # Not asked (a real migrate): no look at the rows, no note.
    assert alter(narrow, wide, asked=False).notes == []


def test_postgresql_add_column_notes_identity_and_unique() -> None:
    """PostgreSQL: adding an identity column rewrites the table and a UNIQUE builds an index
    over every row; a plain column with a constant default is noted nowhere."""
    state = ProjectState()
    state.add_model(ModelState("shop", "Item", [("code", models.CharField(max_length=10, primary_key=True))]))
    seq = models.BigAutoField(primary_key=False, unique=True)
    seq.set_attributes_from_name("seq")
    qty = models.IntegerField(default=1)
    qty.set_attributes_from_name("qty")
    new = state.clone()
    new.update_model("shop", "item", lambda m: m.fields.update(seq=seq, qty=qty))
    item = new.get_model("shop", "item")
    conn = create_connection("default", "postgresql://nobody@192.0.2.1:5432/nowhere")
    with conn.schema_editor(collect_sql=True) as editor:
        editor.add_field(new, item, item.get_field("seq"))
        editor.add_field(new, item, item.get_field("qty"))
    assert editor.collected_sql[0].startswith('ALTER TABLE "shop_item" ADD COLUMN "seq" bigint NOT NULL UNIQUE')
    assert [(n.statement, n.summary) for n in editor.notes] == [
        (0, 'rewrites table "shop_item": new column seq is an identity column, so every row is written with a '
            "value from its sequence (ACCESS EXCLUSIVE lock: reads and writes wait until done)"),
        (0, 'scans table "shop_item": adds unique constraint shop_item_seq_key on (seq), built from every row '
            "(ACCESS EXCLUSIVE lock: reads and writes wait)"),
    ]
    assert editor.collected_sql[1] == 'ALTER TABLE "shop_item" ADD COLUMN "qty" integer DEFAULT 1 NOT NULL;'
