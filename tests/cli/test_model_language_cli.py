"""The whole model language through the real commands: makemigrations (interactive
and --noinput), the files it writes, and migrate on every backend."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import Result, TempProject

LANGUAGE = '''
import datetime
import uuid

from shoal import models
from shoal.deconstruct import deconstructible


def default_code():
    return "new"


def only_living():
    return {"alive": True}


@deconstructible
class AtLeast:
    def __init__(self, limit=0):
        self.limit = limit

    def __call__(self, value):
        assert value >= self.limit

    def __eq__(self, other):
        return isinstance(other, AtLeast) and other.limit == self.limit


class UpperField(models.CharField):
    """A custom field with an option of its own."""

    def __init__(self, *args, shout=True, **kwargs):
        self.shout = shout
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if not self.shout:
            kwargs["shout"] = False
        return name, path, args, kwargs


class Status(models.TextChoices):
    DRAFT = "d", "Draft"
    LIVE = "l", "Live"


class Stamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created"]


class Author(Stamped):
    name = models.CharField(max_length=50, db_column="full_name", db_comment="as printed")
    alive = models.BooleanField(default=True)
    code = UpperField(max_length=10, default=default_code, shout=False)
    rating = models.IntegerField(db_default=3, validators=[AtLeast(1)])
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.DRAFT)
    profile = models.JSONField(default=dict)
    photo = models.BinaryField(null=True)
    pause = models.DurationField(default=datetime.timedelta(minutes=5))
    ip = models.GenericIPAddressField(null=True)
    key = models.UUIDField(default=uuid.uuid4)
    price = models.DecimalField(max_digits=6, decimal_places=2, null=True)

    class Meta(Stamped.Meta):
        db_table_comment = "people who write"
        unique_together = [("name", "code")]
        indexes = [
            models.Index(fields=["-rating", "name"], name="author_rating_idx"),
            models.Index(fields=["price"], name="author_priced_idx", condition=models.Q(price__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="author_key_uniq"),
            models.CheckConstraint(condition=models.Q(rating__gte=0) & ~models.Q(name=""), name="author_ok"),
        ]


class Tag(models.Model):
    label = models.SlugField(unique=True)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, limit_choices_to=only_living)
    tags = models.ManyToManyField(Tag)
    fans = models.ManyToManyField(Author, through="Fandom", related_name="loved")

    class Meta:
        default_related_name = "books"


class Fandom(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="+")
    fan = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+")
    since = models.DateField(default=datetime.date(2000, 1, 1))


class Chapter(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="chapters")
    heading = models.CharField(max_length=80, blank=True)

    class Meta:
        order_with_respect_to = "book"


class Novel(Book):
    genre = models.CharField(max_length=20)


class Paperback(Book):
    class Meta:
        proxy = True
        ordering = ["title"]
'''


def columns(db_url: str, table: str) -> list[str]:
    conn = create_connection("check", db_url)
    try:
        return conn.introspection.column_names(table)
    finally:
        conn.close()


def constraints(db_url: str, table: str) -> dict:
    conn = create_connection("check", db_url)
    try:
        return conn.introspection.get_constraints(table)
    finally:
        conn.close()


def only_file(proj: TempProject, app: str = "books") -> Path:
    (found,) = sorted((proj.path / app / "migrations").glob("0*.py"))
    return found


def migration_files(proj: TempProject, app: str = "books") -> list[str]:
    return sorted(p.name for p in (proj.path / app / "migrations").glob("0*.py"))


@pytest.fixture
def sqlite_project(tmp_path: Path) -> TempProject:
    return TempProject(tmp_path / "proj", ["books"], f"sqlite:///{tmp_path / 'db.sqlite3'}")


def interactive(proj: TempProject, *answers: str) -> Result:
    stdin = "".join(f"{a}\n" for a in answers)
    return proj.shoal("makemigrations", stdin=stdin, env={"SHOAL_FORCE_INTERACTIVE": "1"})


# -- the whole language, on every backend -------------------------------------------------


def test_whole_language_migrates_and_then_has_no_changes(tmp_path: Path, db_url: str, vendor: str) -> None:
    """Every field kind and Meta option: makemigrations, migrate, then nothing left to detect; undo works."""
    proj = TempProject(tmp_path / "proj", ["books"], db_url)
    proj.write("books/models.py", LANGUAGE)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    source = proj.read("books/migrations/0001_initial.py")
    assert "books.models.default_code" in source and "books.models.only_living" in source
    assert "books.models.AtLeast(1)" in source and "books.models.UpperField(" in source and "shout=False" in source
    assert 'default="d"' in source  # a TextChoices member is written as its value
    assert '"order_with_respect_to": "book"' in source and "_order" not in source
    assert 'through="books.Fandom"' in source
    applied = proj.shoal("migrate")
    assert applied.code == 0, applied.err
    again = proj.shoal("makemigrations")
    assert again.code == 0 and again.out.strip() == "No changes detected", again.out + again.err
    assert columns(db_url, "books_chapter") == ["id", "book_id", "heading", "_order"]
    assert columns(db_url, "books_novel") == ["book_ptr_id", "genre"]
    assert columns(db_url, "books_fandom") == ["id", "book_id", "fan_id", "since"]
    assert "full_name" in columns(db_url, "books_author")
    assert {"author_rating_idx", "author_key_uniq"} <= set(constraints(db_url, "books_author"))
    undone = proj.shoal("migrate", "books", "zero")
    assert undone.code == 0, undone.err
    conn = create_connection("check", db_url)
    try:
        assert not [t for t in conn.introspection.table_names() if t.startswith("books_")]
    finally:
        conn.close()


CHANGED = {
    # Remove a field named by an index and unique_together: both go before the field does.
    '        unique_together = [("name", "code")]\n': "",
    'models.Index(fields=["price"], name="author_priced_idx", condition=models.Q(price__isnull=False)),': "",
    "    price = models.DecimalField(max_digits=6, decimal_places=2, null=True)\n": "",
    # Rename an index; move a table; add a field and an index on it.
    'name="author_rating_idx"': 'name="author_rated_idx"',
    '        default_related_name = "books"': '        default_related_name = "books"\n        db_table = "library_book"',
    '    heading = models.CharField(max_length=80, blank=True)\n':
        '    heading = models.CharField(max_length=80, blank=True)\n    pages = models.IntegerField(null=True)\n',
    '        order_with_respect_to = "book"': '        indexes = [models.Index(fields=["pages"], name="chapter_pages_idx")]',
}


def test_model_changes_detected_in_order_and_applied(tmp_path: Path, db_url: str, vendor: str) -> None:
    """Index/unique removals precede the field removal, additions follow; all apply and undo."""
    proj = TempProject(tmp_path / "proj", ["books"], db_url)
    proj.write("books/models.py", LANGUAGE)
    assert proj.shoal("makemigrations").code == 0
    assert proj.shoal("migrate").code == 0
    text = LANGUAGE
    for old, new in CHANGED.items():
        assert old in text, old
        text = text.replace(old, new)
    proj.write("books/models.py", text)
    made = proj.shoal("makemigrations", "--noinput")
    assert made.code == 0, made.err
    lines = [ln.strip() for ln in made.out.splitlines() if ln.startswith("    ")]
    assert lines.index("- Remove index author_priced_idx from author") < lines.index("- Remove field price from author")
    assert lines.index("~ Alter unique_together for author (0 constraint(s))") < lines.index(
        "- Remove field price from author")
    assert "~ Rename index author_rating_idx on author to author_rated_idx" in lines
    assert "~ Set order_with_respect_to on chapter to None" in lines
    assert lines.index("+ Add field pages to chapter") < lines.index(
        "+ Create index chapter_pages_idx on field(s) pages of model chapter")
    assert "~ Rename table for book to library_book" in lines
    applied = proj.shoal("migrate")
    assert applied.code == 0, applied.err
    assert columns(db_url, "books_chapter") == ["id", "book_id", "heading", "pages"]
    assert "author_rated_idx" in constraints(db_url, "books_author")
    assert "chapter_pages_idx" in constraints(db_url, "books_chapter")
    assert "library_book_tags" in [t.lower() for t in _tables(db_url)]
    again = proj.shoal("makemigrations")
    assert again.out.strip() == "No changes detected", again.out + again.err
    back = proj.shoal("migrate", "books", "0001")
    assert back.code == 0, back.err
    assert columns(db_url, "books_chapter") == ["id", "book_id", "heading", "_order"]
    assert "price" in columns(db_url, "books_author")


def _tables(db_url: str) -> list[str]:
    conn = create_connection("check", db_url)
    try:
        return conn.introspection.table_names()
    finally:
        conn.close()


# -- interactive questions ---------------------------------------------------------------------

BOOK = """
from shoal import models


class {model}(models.Model):
    {field} = models.CharField(max_length=100)
"""


def test_interactive_field_rename_is_asked_and_accepted(sqlite_project: TempProject) -> None:
    """"Did you rename book.title to book.name (a CharField)? [y/N]" answered y writes RenameField."""
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="title"))
    assert sqlite_project.shoal("makemigrations").code == 0
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="name"))
    made = interactive(sqlite_project, "y")
    assert made.code == 0, made.err
    assert "Did you rename book.title to book.name (a CharField)? [y/N]" in made.out
    assert "~ Rename field title on book to name" in made.out
    assert migration_files(sqlite_project) == ["0001_initial.py", "0002_rename_title_book_name.py"]


def test_interactive_model_rename_is_asked_and_accepted(tmp_path: Path) -> None:
    """"Did you rename the books.Tome model to Volume? [y/N]" answered y writes RenameModel."""
    proj = TempProject(tmp_path / "proj", ["books"], f"sqlite:///{tmp_path / 'db.sqlite3'}")
    proj.write("books/models.py", BOOK.format(model="Tome", field="title"))
    assert proj.shoal("makemigrations").code == 0
    proj.write("books/models.py", BOOK.format(model="Volume", field="title"))
    made = interactive(proj, "y")
    assert made.code == 0, made.err
    assert "Did you rename the books.Tome model to Volume? [y/N]" in made.out
    assert "~ Rename model Tome to Volume" in made.out
    assert "migrations.RenameModel(" in proj.read("books/migrations/0002_rename_tome_volume.py")


def test_rename_declined_then_one_off_default_is_read_from_stdin(sqlite_project: TempProject) -> None:
    """Answering N removes and adds; the new non-null field takes a one-off default typed as Python."""
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="title"))
    assert sqlite_project.shoal("makemigrations").code == 0
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="name"))
    made = interactive(sqlite_project, "n", "1", '"untitled"')
    assert made.code == 0, made.err
    assert "It is impossible to add a non-nullable field 'name' to book without specifying a default." in made.out
    assert "- Remove field title from book" in made.out and "+ Add field name to book" in made.out
    (second,) = [f for f in migration_files(sqlite_project) if f.startswith("0002")]
    text = sqlite_project.read(f"books/migrations/{second}")
    assert 'field=models.CharField(default="untitled", max_length=100)' in text
    assert "preserve_default=False" in text


STAMPED_BOOK = """
from shoal import models


class Book(models.Model):
    title = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)
"""


def test_auto_now_add_field_asks_for_a_one_off_default(tmp_path: Path, db_url: str) -> None:
    """Adding an auto_now_add field asks, as Django does; Enter takes timezone.now, which fills
    the existing rows with the time of the migration (preserve_default=False)."""
    proj = TempProject(tmp_path / "proj", ["books"], db_url)
    proj.write("books/models.py", BOOK.format(model="Book", field="title"))
    assert proj.shoal("makemigrations").code == 0
    assert proj.shoal("migrate").code == 0
    conn = create_connection("check", db_url)
    try:
        conn.execute("INSERT INTO books_book (title) VALUES (%s)", ["old"])
    finally:
        conn.close()
    proj.write("books/models.py", STAMPED_BOOK)
    refused = proj.shoal("makemigrations", "--noinput")
    assert refused.code != 0 and "Traceback" not in refused.err
    assert "impossible to add the field 'created' with 'auto_now_add=True' to book" in refused.err
    made = interactive(proj, "1", "")
    assert made.code == 0, made.err
    assert "It is impossible to add the field 'created' with 'auto_now_add=True' to book" in made.out
    assert "Accept the default 'timezone.now' by pressing 'Enter'" in made.out
    (second,) = [f for f in migration_files(proj) if f.startswith("0002")]
    text = proj.read(f"books/migrations/{second}")
    assert "default=shoal.timezone.now" in text and "import shoal.timezone" in text
    assert "preserve_default=False" in text
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    applied = proj.shoal("migrate")
    assert applied.code == 0, applied.err
    conn = create_connection("check", db_url)
    try:
        (stamp,) = conn.fetchone("SELECT created FROM books_book WHERE title = %s", ["old"])
    finally:
        conn.close()
    if isinstance(stamp, str):
        stamp = datetime.datetime.fromisoformat(stamp)
    stamp = stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp
    assert abs((stamp - before).total_seconds()) < 120
    assert proj.shoal("makemigrations", "--check", "--noinput").code == 0


def test_noinput_assumes_no_rename_and_refuses_a_non_null_field(sqlite_project: TempProject) -> None:
    """--noinput never asks: no rename is assumed and a new non-null field without default is an error."""
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="title"))
    assert sqlite_project.shoal("makemigrations").code == 0
    sqlite_project.write("books/models.py", BOOK.format(model="Book", field="name"))
    made = sqlite_project.shoal("makemigrations", "--noinput", env={"SHOAL_FORCE_INTERACTIVE": "1"})
    assert made.code != 0
    assert "Did you rename" not in made.out
    assert "non-nullable field 'name' to book without specifying a default" in made.err
    assert "Traceback" not in made.err
    assert migration_files(sqlite_project) == ["0001_initial.py"]


# -- serialization ------------------------------------------------------------------------------

UNWRITABLE = {
    "a lambda": ("default=lambda: 1", "lambdas cannot be written"),
    "an instance": ("default=Point(3)", "Point instances cannot be written"),
    "a nested class": ("default=make()", "defined inside a function"),
}


@pytest.mark.parametrize("case", sorted(UNWRITABLE))
def test_unserializable_value_names_model_field_and_value(sqlite_project: TempProject, case: str) -> None:
    """A lambda, an arbitrary instance or a class defined in a function stops makemigrations; nothing is written."""
    option, reason = UNWRITABLE[case]
    sqlite_project.write("books/models.py", f'''
        from shoal import models


        class Point:
            def __init__(self, x):
                self.x = x


        def make():
            class Inner:
                pass
            return Inner


        class Book(models.Model):
            size = models.IntegerField({option})
    ''')
    made = sqlite_project.shoal("makemigrations")
    assert made.code != 0
    assert "model books.Book, field 'size'" in made.err and reason in made.err
    assert "Traceback" not in made.err
    assert not (sqlite_project.path / "books" / "migrations").exists()


NONDETERMINISTIC = '''
from shoal import models


class Shelf(models.Model):
    zone = models.CharField(max_length=5, default="a")
    row = models.IntegerField(default=0)
    size = models.CharField(max_length=1, choices={"s": "Small", "l": "Large", "m": "Medium"})
    marks = models.JSONField(default=frozenset)

    class Meta:
        unique_together = {("zone", "row"), ("row", "size"), ("size", "zone")}
        constraints = [
            models.CheckConstraint(condition=models.Q(size__in={"s", "m", "l"}, row__gte=0, zone__gt=""),
                                   name="shelf_ok"),
        ]


class Item(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    tags = models.ManyToManyField(Shelf, related_name="+")
'''


def test_five_runs_in_five_processes_write_identical_files(tmp_path: Path) -> None:
    """Sets, Q conditions and dependencies are written in a stable order under any hash seed."""
    sources = set()
    for seed in ("1", "2", "3", "4", "5"):
        proj = TempProject(tmp_path / f"p{seed}", ["books"], f"sqlite:///{tmp_path / f'db{seed}.sqlite3'}")
        proj.write("books/models.py", NONDETERMINISTIC)
        made = proj.shoal("makemigrations", env={"PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1700000000"})
        assert made.code == 0, made.err
        sources.add(proj.read("books/migrations/0001_initial.py"))
    assert len(sources) == 1
    (text,) = sources
    assert "# Generated by shoal" in text and "on 2023-11-14 22:13" in text
    assert re.search(r'unique_together": \{\s*\("row", "size"\),\s*\("size", "zone"\),\s*\("zone", "row"\),?\s*\}',
                     text), text


def test_generated_file_is_black_formatted_when_black_is_installed(sqlite_project: TempProject) -> None:
    """With black installed the written file is already black-formatted (black changes nothing)."""
    black = pytest.importorskip("black")
    sqlite_project.write("books/models.py", LANGUAGE)
    assert sqlite_project.shoal("makemigrations").code == 0
    text = sqlite_project.read("books/migrations/0001_initial.py")
    assert black.format_str(text, mode=black.Mode()) == text


# -- swappable models ---------------------------------------------------------------------------


def test_relation_to_swappable_model_writes_setting_and_dependency(tmp_path: Path) -> None:
    """A ForeignKey to settings.AUTH_USER_MODEL is written as the setting, with a swappable dependency."""
    proj = TempProject(tmp_path / "proj", ["accounts", "books"], f"sqlite:///{tmp_path / 'db.sqlite3'}",
                       extra_toml='[tool.shoal.swappable]\nAUTH_USER_MODEL = "accounts.User"\n')
    proj.write("accounts/models.py", """
        from shoal import models


        class User(models.Model):
            email = models.EmailField(unique=True)

            class Meta:
                swappable = "AUTH_USER_MODEL"
    """)
    proj.write("books/models.py", """
        from shoal import models
        from shoal.conf import settings


        class Book(models.Model):
            owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    """)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    text = proj.read("books/migrations/0001_initial.py")
    assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)" in text
    assert "to=settings.AUTH_USER_MODEL" in text
    assert '"swappable": "AUTH_USER_MODEL"' in proj.read("accounts/migrations/0001_initial.py")
    assert proj.shoal("migrate").code == 0
    assert proj.shoal("makemigrations").out.strip() == "No changes detected"
