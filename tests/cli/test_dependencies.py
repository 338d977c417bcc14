"""Dependencies between migrations, through the real `shoal` command on every backend.

Across apps (a ForeignKey into another app), ``__first__``/``__latest__``,
``run_before``, ``swappable_dependency(settings.AUTH_USER_MODEL)``, an app's
own chain, and circular foreign keys split by makemigrations.
"""

from __future__ import annotations

import re

import pytest

from shoal.db.connections import create_connection
from tests.cli.projects import TempProject

MIGRATION = """
from shoal import migrations, models


class Migration(migrations.Migration):
    dependencies = {deps}
    {extra}
    operations = [
        migrations.CreateModel("{model}", [
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
        ]),
    ]
"""


def write_migration(proj: TempProject, app: str, name: str, model: str, deps: str = "[]", extra: str = "") -> None:
    """A hand-written migration creating one table, with the given dependencies."""
    proj.write(f"{app}/migrations/__init__.py", "")
    proj.write(f"{app}/migrations/{name}.py", MIGRATION.format(deps=deps, extra=extra, model=model))


def applying_order(output: str) -> list[str]:
    """``["app.name", ...]`` in the order migrate printed "Applying ..."."""
    return re.findall(r"^  Applying (\S+?)\.\.\. (?:OK|FAKED)$", output, re.MULTILINE)


def foreign_keys(db_url: str, table: str) -> dict[str, tuple[str, str]]:
    """column -> (referenced table, column) for the FK constraints read back from the database."""
    conn = create_connection("fkcheck", db_url)
    try:
        return {
            info.columns[0]: tuple(info.foreign_key)  # type: ignore[misc]
            for info in conn.introspection.get_constraints(table).values()
            if info.foreign_key
        }
    finally:
        conn.close()


def table_names(db_url: str) -> set[str]:
    conn = create_connection("tables", db_url)
    try:
        return set(conn.introspection.table_names())
    finally:
        conn.close()


def recorded(db_url: str) -> list[tuple[str, str]]:
    conn = create_connection("rec", db_url)
    try:
        return [tuple(r) for r in conn.fetchall("SELECT app, name FROM shoal_migrations ORDER BY id")]  # type: ignore[misc]
    finally:
        conn.close()


def test_cross_app_foreign_key_depends_on_other_app(tmp_path, db_url):
    """A FK into another app makes the migration depend on that app's; migrating the
    dependent app alone creates the referenced table first and adds the FK constraint."""
    # "books" sorts before "people", so only the dependency puts people first.
    proj = TempProject(tmp_path / "p", ["books", "people"], db_url)
    proj.write("people/models.py", """
        from shoal import models

        class Person(models.Model):
            name = models.CharField(max_length=50)
    """)
    proj.write("books/models.py", """
        from shoal import models

        class Book(models.Model):
            title = models.CharField(max_length=50)
            author = models.ForeignKey("people.Person", on_delete=models.CASCADE)
    """)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    source = proj.read("books/migrations/0001_initial.py")
    assert '("people", "0001_initial")' in source, source
    result = proj.shoal("migrate", "books")
    assert result.code == 0, result.err
    assert applying_order(result.out) == ["people.0001_initial", "books.0001_initial"]
    assert foreign_keys(db_url, "books_book") == {"author_id": ("people_person", "id")}


def test_own_chain_is_followed_in_order(tmp_path, db_url):
    """An app's migrations depend on their predecessor; migrating to the last applies the chain in order."""
    proj = TempProject(tmp_path / "p", ["shop"], db_url)
    proj.write("shop/models.py", "from shoal import models\n")
    write_migration(proj, "shop", "0001_initial", "A")
    write_migration(proj, "shop", "0002_b", "B", '[("shop", "0001_initial")]')
    write_migration(proj, "shop", "0003_c", "C", '[("shop", "0002_b")]')
    result = proj.shoal("migrate", "shop", "0003")
    assert result.code == 0, result.err
    assert applying_order(result.out) == ["shop.0001_initial", "shop.0002_b", "shop.0003_c"]
    assert recorded(db_url) == [("shop", "0001_initial"), ("shop", "0002_b"), ("shop", "0003_c")]
    back = proj.shoal("migrate", "shop", "0001")
    assert back.code == 0, back.err
    assert re.findall(r"Unapplying (\S+?)\.\.\.", back.out) == ["shop.0003_c", "shop.0002_b"]
    assert {"shop_a"} <= table_names(db_url) and not {"shop_b", "shop_c"} & table_names(db_url)


def test_first_and_latest(tmp_path, db_url):
    """``__first__`` needs only the other app's first migration; ``__latest__`` needs its last."""
    proj = TempProject(tmp_path / "p", ["alpha", "beta", "gamma"], db_url)
    for app in ("alpha", "beta", "gamma"):
        proj.write(f"{app}/models.py", "from shoal import models\n")
    write_migration(proj, "gamma", "0001_initial", "G1")
    write_migration(proj, "gamma", "0002_more", "G2", '[("gamma", "0001_initial")]')
    write_migration(proj, "alpha", "0001_initial", "A", '[("gamma", "__first__")]')
    write_migration(proj, "beta", "0001_initial", "B", '[("gamma", "__latest__")]')
    first = proj.shoal("migrate", "alpha")
    assert first.code == 0, first.err
    assert applying_order(first.out) == ["gamma.0001_initial", "alpha.0001_initial"]
    latest = proj.shoal("migrate", "beta")
    assert latest.code == 0, latest.err
    assert applying_order(latest.out) == ["gamma.0002_more", "beta.0001_initial"]
    shown = proj.shoal("showmigrations", "--plan", "-v", "2")
    assert "[X]  alpha.0001_initial ... (gamma.0001_initial)" in shown.out, shown.out
    assert "[X]  beta.0001_initial ... (gamma.0002_more)" in shown.out, shown.out


def test_run_before(tmp_path, db_url):
    """``run_before`` makes another app's migration wait for this one."""
    proj = TempProject(tmp_path / "p", ["alpha", "zeta"], db_url)
    for app in ("alpha", "zeta"):
        proj.write(f"{app}/models.py", "from shoal import models\n")
    write_migration(proj, "alpha", "0001_initial", "A")
    write_migration(proj, "zeta", "0001_initial", "Z", extra='run_before = [("alpha", "0001_initial")]')
    plan = proj.shoal("migrate", "--plan")
    assert plan.code == 0, plan.err
    assert plan.out.index("zeta.0001_initial") < plan.out.index("alpha.0001_initial")
    only_alpha = proj.shoal("migrate", "alpha")
    assert only_alpha.code == 0, only_alpha.err
    assert applying_order(only_alpha.out) == ["zeta.0001_initial", "alpha.0001_initial"]
    # Unapplying zeta first unapplies alpha, which depends on it now.
    zero = proj.shoal("migrate", "zeta", "zero")
    assert zero.code == 0, zero.err
    assert re.findall(r"Unapplying (\S+?)\.\.\.", zero.out) == ["alpha.0001_initial", "zeta.0001_initial"]


SWAP_TOML = '[tool.shoal.swappable]\nAUTH_USER_MODEL = "accounts.User"\n'


def test_swappable_dependency(tmp_path, db_url):
    """A FK to settings.AUTH_USER_MODEL is written as the setting (dependency and ``to=``)
    and migrates with the user table created first and the FK pointing at it."""
    proj = TempProject(tmp_path / "p", ["blog", "accounts"], db_url, extra_toml=SWAP_TOML)
    proj.write("accounts/models.py", """
        from shoal import models

        class User(models.Model):
            username = models.CharField(max_length=30, unique=True)

            class Meta:
                swappable = "AUTH_USER_MODEL"
    """)
    proj.write("blog/models.py", """
        from shoal import models
        from shoal.conf import settings

        class Post(models.Model):
            title = models.CharField(max_length=50)
            owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            # The swappable model named directly is written as the setting too (as Django does).
            editor = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    """)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    source = proj.read("blog/migrations/0001_initial.py")
    assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)" in source, source
    assert source.count("to=settings.AUTH_USER_MODEL") == 2, source
    assert "from shoal.conf import settings" in source, source
    assert "accounts.user" not in source.lower(), source
    accounts = proj.read("accounts/migrations/0001_initial.py")
    assert '"swappable": "AUTH_USER_MODEL"' in accounts, accounts
    assert proj.shoal("makemigrations", "--check").code == 0
    result = proj.shoal("migrate", "blog")
    assert result.code == 0, result.err
    assert applying_order(result.out) == ["accounts.0001_initial", "blog.0001_initial"]
    assert foreign_keys(db_url, "blog_post") == {
        "owner_id": ("accounts_user", "id"), "editor_id": ("accounts_user", "id")}


def test_swappable_dependency_follows_the_setting(tmp_path, db_url):
    """With AUTH_USER_MODEL pointing at another app's model, the migration depends on that
    app and references its table; the swapped-out model gets no table."""
    toml = '[tool.shoal.swappable]\nAUTH_USER_MODEL = "members.Member"\n'
    proj = TempProject(tmp_path / "p", ["accounts", "blog", "members"], db_url, extra_toml=toml)
    proj.write("accounts/models.py", """
        from shoal import models

        class User(models.Model):
            username = models.CharField(max_length=30, unique=True)

            class Meta:
                swappable = "AUTH_USER_MODEL"
    """)
    proj.write("members/models.py", """
        from shoal import models

        class Member(models.Model):
            handle = models.CharField(max_length=30)
    """)
    proj.write("blog/models.py", """
        from shoal import models
        from shoal.conf import settings

        class Post(models.Model):
            owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    """)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)" in proj.read("blog/migrations/0001_initial.py")
    result = proj.shoal("migrate", "blog")
    assert result.code == 0, result.err
    assert applying_order(result.out) == ["members.0001_initial", "blog.0001_initial"]
    assert foreign_keys(db_url, "blog_post") == {"owner_id": ("members_member", "id")}
    everything = proj.shoal("migrate")
    assert everything.code == 0, everything.err
    assert "  Applying accounts.0001_initial... OK" in everything.out


def test_swapped_out_model_gets_no_table(tmp_path, db_url):
    """A model whose Meta.swappable setting names another model is recorded but gets no table."""
    toml = '[tool.shoal.swappable]\nAUTH_USER_MODEL = "members.Member"\n'
    proj = TempProject(tmp_path / "p", ["accounts", "members"], db_url, extra_toml=toml)
    proj.write("accounts/models.py", """
        from shoal import models

        class User(models.Model):
            username = models.CharField(max_length=30, unique=True)

            class Meta:
                swappable = "AUTH_USER_MODEL"
    """)
    proj.write("members/models.py", """
        from shoal import models

        class Member(models.Model):
            handle = models.CharField(max_length=30)
    """)
    assert proj.shoal("makemigrations").code == 0
    result = proj.shoal("migrate")
    assert result.code == 0, result.err
    assert "  Applying accounts.0001_initial... OK" in result.out
    assert ("accounts", "0001_initial") in recorded(db_url)
    assert "members_member" in table_names(db_url)
    assert "accounts_user" not in table_names(db_url)


CIRCULAR_A = """
from shoal import models


class Shelf(models.Model):
    label = models.CharField(max_length=20)
    favourite = models.ForeignKey("zoo.Animal", on_delete=models.SET_NULL, null=True, related_name="+")
"""

CIRCULAR_B = """
from shoal import models


class Animal(models.Model):
    name = models.CharField(max_length=20)
    shelf = models.ForeignKey("arch.Shelf", on_delete=models.CASCADE)
"""


def test_circular_foreign_keys_between_apps_are_split(tmp_path, db_url):
    """Two apps with FKs to each other: makemigrations splits one app's migration in two,
    migrate runs them all, and both FK constraints exist afterwards."""
    proj = TempProject(tmp_path / "p", ["arch", "zoo"], db_url)
    proj.write("arch/models.py", CIRCULAR_A)
    proj.write("zoo/models.py", CIRCULAR_B)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    files = sorted(p.relative_to(proj.path).as_posix() for p in proj.path.glob("*/migrations/0*.py"))
    assert len(files) == 3, files
    result = proj.shoal("migrate")
    assert result.code == 0, result.err
    assert len(applying_order(result.out)) == 3
    assert foreign_keys(db_url, "arch_shelf") == {"favourite_id": ("zoo_animal", "id")}
    assert foreign_keys(db_url, "zoo_animal") == {"shelf_id": ("arch_shelf", "id")}
    assert proj.shoal("makemigrations", "--check").code == 0
    # And everything can be unapplied again.
    for app in ("arch", "zoo"):
        back = proj.shoal("migrate", app, "zero")
        assert back.code == 0, back.err
    assert not {"arch_shelf", "zoo_animal"} & table_names(db_url)


def test_circular_split_shape(tmp_path):
    """The split: one app's initial creates its model without the FK, the other app's
    initial depends on it, and a second migration adds the FK depending on both."""
    proj = TempProject(tmp_path / "p", ["arch", "zoo"], f"sqlite:///{tmp_path}/db.sqlite3")
    proj.write("arch/models.py", CIRCULAR_A)
    proj.write("zoo/models.py", CIRCULAR_B)
    made = proj.shoal("makemigrations")
    assert made.code == 0, made.err
    split = [app for app in ("arch", "zoo") if (proj.path / app / "migrations" / "0002_initial.py").exists()]
    assert len(split) == 1, made.out
    app = split[0]
    other = "zoo" if app == "arch" else "arch"
    fk_name = "shelf" if app == "zoo" else "favourite"
    first = proj.read(f"{app}/migrations/0001_initial.py")
    assert "dependencies = []" in first and fk_name not in first, first
    other_first = proj.read(f"{other}/migrations/0001_initial.py")
    assert f'("{app}", "0001_initial")' in other_first, other_first
    second = proj.read(f"{app}/migrations/0002_initial.py")
    assert "migrations.AddField(" in second and f'name="{fk_name}"' in second, second
    assert f'("{other}", "0001_initial")' in second and f'("{app}", "0001_initial")' in second, second
