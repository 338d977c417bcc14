"""Run one migration history through Django and through shoal; read both schemas back.

Django is only an oracle here, and it never runs in the test process: its
settings are process-global, so a throw-away Django project (``manage.py``,
``settings.py``, the history's app) is written to a temporary directory and
``python manage.py migrate`` runs in a subprocess.  shoal runs the same
migration files (only the import line differs) through ``python -m shoal
migrate``, also in a subprocess, on another fresh database of the same
backend.  Both databases are then read with shoal's own introspection and
reduced to plain, comparable values (:func:`read_schema`), and
:func:`compare` lists every difference as one line of text.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoal.db.connections import create_connection
from shoal.db.url import parse_url
from tests.cli.projects import TempProject

__all__ = [
    "DJANGO_AVAILABLE",
    "DJANGO_MISSING_REASON",
    "Accept",
    "SQLITE_COLUMN_ORDER",
    "sqlite_fk_declared_type",
    "History",
    "ParityRun",
    "read_schema",
    "compare",
]



def _django_available() -> bool:
    """Whether Django can be imported (checked without importing it here)."""
    try:
        return importlib.util.find_spec("django") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        return False


DJANGO_AVAILABLE = _django_available()
DJANGO_MISSING_REASON = (
    "Django is not importable in this environment; the parity suite uses it as a test-only oracle. "
    "Install the test extra (pip install -e '.[test]', or pip install 'django>=5.2,<6') to run it."
)

DJANGO_IMPORT = "from django.db import migrations, models"
SHOAL_IMPORT = "from shoal import migrations, models"
IMPORT_PLACEHOLDER = "{IMPORT}"

#: Bookkeeping tables of either tool, left out of every comparison.
IGNORED_TABLES = {"django_migrations", "shoal_migrations", "sqlite_sequence"}

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Accept:
    """A difference accepted on purpose: ``pattern`` (a regex) is matched against
    the difference lines of :func:`compare` on ``vendors``; ``reason`` says why
    the difference is harmless.  Keep each pattern as narrow as the case."""

    vendors: tuple[str, ...]
    pattern: str
    reason: str

    def matches(self, vendor: str, line: str) -> bool:
        return vendor in self.vendors and re.search(self.pattern, line) is not None


#: Django's SQLite table rebuild may put the altered column last (and its
#: RenameField moves the field to the end of the model state, which later
#: rebuilds follow); shoal's rebuild keeps each column where the model declares
#: it.  Column order has no effect on what the ORM or SQL by column name does,
#: so on SQLite, and only there, the order of columns is not compared.
SQLITE_COLUMN_ORDER = Accept(("sqlite",), r"^table [^ ]+: column order django ", "column order after a SQLite rebuild")


def sqlite_fk_declared_type(column: str) -> Accept:
    """On SQLite, Django leaves the declared type of a foreign key column alone when
    the key it points at changes class but keeps the column type "integer"
    (AutoField / SmallAutoField / BigAutoField); shoal rebuilds the referencing
    table so that the declared type follows (guarded by
    tests/backends/test_schema_editor.py).  All are INTEGER affinity in SQLite."""
    return Accept(
        ("sqlite",),
        rf"^column {re.escape(column)}: type django '(integer|smallint|bigint)' / shoal '(integer|smallint|bigint)'$",
        "declared type of an FK column after its target's auto-field class changed (SQLite)",
    )


@dataclass
class History:
    """A small app's migration files, written once for both tools.

    ``migrations`` maps a migration name to its source, where ``{IMPORT}``
    stands for the import line.  ``steps`` are the targets migrated to in
    order (``None``: all the way); the schemas are compared after each.
    ``requires`` names shoal attributes (``"migrations.AlterOrderWithRespectTo"``)
    without which the history is expected to fail; ``accept`` lists accepted
    differences.
    """

    name: str
    app: str
    migrations: dict[str, str]
    steps: list[str | None] = field(default_factory=lambda: [None])
    requires: tuple[str, ...] = ()
    accept: tuple[Accept, ...] = ()
    vendors: tuple[str, ...] = ("sqlite", "postgresql", "mysql")
    #: Differences not fixed yet, per backend: the test runs and must fail (strict
    #: xfail), so it reports when the gap closes.
    known_gaps: dict[str, str] = field(default_factory=dict)
    #: ``{NAME}`` placeholders whose text differs per backend: NAME -> {vendor or "*": text}
    substitutions: dict[str, dict[str, str]] = field(default_factory=dict)

    def source(self, name: str, import_line: str, vendor: str) -> str:
        """The text of migration ``name`` for one tool on one backend."""
        text = textwrap.dedent(self.migrations[name]).lstrip().replace(IMPORT_PLACEHOLDER, import_line)
        for key, texts in self.substitutions.items():
            text = text.replace("{" + key + "}", texts.get(vendor, texts.get("*", "")))
        return text

    def missing(self) -> list[str]:
        """The ``requires`` entries shoal does not have yet."""
        import shoal

        out = []
        for dotted in self.requires:
            obj: Any = shoal
            for part in dotted.split("."):
                obj = getattr(obj, part, None)
                if obj is None:
                    out.append(dotted)
                    break
        return out


# ---------------------------------------------------------------- projects


def _write_app(root: Path, history: History, import_line: str, vendor: str) -> None:
    app = root / history.app
    (app / "migrations").mkdir(parents=True, exist_ok=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    for name in history.migrations:
        (app / "migrations" / f"{name}.py").write_text(history.source(name, import_line, vendor))


def _django_database(url: str) -> dict[str, Any]:
    parsed = parse_url(url)
    if parsed.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parsed.name}
    engine = {"postgresql": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}[parsed.scheme]
    out: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": parsed.name,
        "USER": parsed.user or "",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.host or "",
        "PORT": str(parsed.port or ""),
    }
    if parsed.scheme == "mysql":
        out["OPTIONS"] = {"charset": "utf8mb4"}
    return out


_SETTINGS = '''\
"""Settings of a throw-away Django project used as the parity oracle."""
{mysql}
SECRET_KEY = "parity-oracle"
INSTALLED_APPS = [{app!r}]
DATABASES = {{"default": {database!r}}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
'''

_PYMYSQL = """
import pymysql

# Django checks mysqlclient's version; PyMySQL stands in for it here.
pymysql.version_info = (2, 2, 1, "final", 0)
pymysql.__version__ = "2.2.1"
pymysql.install_as_MySQLdb()
"""

_MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


class ParityRun:
    """The Django project and the shoal project of one history on one backend."""

    def __init__(self, history: History, vendor: str, tmp_path: Path, django_url: str, shoal_url: str) -> None:
        self.history, self.vendor = history, vendor
        self.django_url, self.shoal_url = django_url, shoal_url
        self.django_dir = tmp_path / "django_project"
        self.django_dir.mkdir(parents=True)
        _write_app(self.django_dir, history, DJANGO_IMPORT, vendor)
        database = _django_database(django_url)
        mysql = _PYMYSQL if database["ENGINE"].endswith("mysql") else ""
        (self.django_dir / "settings.py").write_text(
            _SETTINGS.format(mysql=mysql, app=history.app, database=database)
        )
        (self.django_dir / "manage.py").write_text(_MANAGE)
        self.shoal_project = TempProject(tmp_path / "shoal_project", [history.app], shoal_url)
        _write_app(self.shoal_project.path, history, SHOAL_IMPORT, vendor)

    def migrate(self, target: str | None) -> None:
        """Migrate both databases to ``target`` (None: everything); fail loudly on error."""
        args = ["migrate"] if target is None else ["migrate", self.history.app, target]
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
        env["PYTHONPATH"] = str(self.django_dir)
        proc = subprocess.run(
            [sys.executable, "manage.py", *args, "--noinput"],
            cwd=self.django_dir,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if proc.returncode != 0:
            raise AssertionError(f"Django migrate {args[1:]} failed (the oracle!):\n{proc.stdout}\n{proc.stderr}")
        result = self.shoal_project.shoal(*args, "--noinput")
        if result.code != 0:
            raise AssertionError(f"shoal migrate {args[1:]} failed:\n{result.out}\n{result.err}")


# ---------------------------------------------------------------- schemas


def _norm_sql(text: str | None) -> str | None:
    """An SQL fragment without quotes, case or spacing, for comparing expressions."""
    if text is None:
        return None
    text = re.sub(r'[`"]', "", text).lower()
    text = re.sub(r"\s+", "", text)
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def read_schema(url: str) -> dict[str, Any]:
    """Every user table of the database at ``url`` as plain values.

    ``{table: {"comment": str|None, "columns": [(name, {...}), ...],
    "constraints": {name: {...}}}}``; column attributes are type, null,
    default, primary_key, autoincrement, comment; constraint attributes are
    the kind, columns, orders, foreign-key target and on_delete, the
    normalised check expression and partial-index condition.
    """
    conn = create_connection("parity", url)
    conn.ensure_connection()
    try:
        intro = conn.introspection
        out: dict[str, Any] = {}
        for table in intro.table_names():
            if table in IGNORED_TABLES:
                continue
            columns = [
                (
                    c.name,
                    {
                        "type": c.type,
                        "null": c.null,
                        "default": c.default,
                        "primary_key": c.primary_key,
                        "autoincrement": c.autoincrement,
                        "comment": c.comment or None,
                        "collation": c.collation,
                    },
                )
                for c in intro.get_columns(table)
            ]
            constraints = {}
            for name, info in intro.get_constraints(table).items():
                kind = (
                    "primary key"
                    if info.primary_key
                    else "foreign key"
                    if info.foreign_key
                    else "check"
                    if info.check
                    else "unique index"
                    if info.unique and info.index
                    else "unique"
                    if info.unique
                    else "index"
                )
                constraints[name] = {
                    "kind": kind,
                    "columns": list(info.columns),
                    "orders": [o.upper() for o in info.orders] if info.index else [],
                    "references": tuple(info.foreign_key) if info.foreign_key else None,
                    "on_delete": (info.on_delete or "").upper() or None if info.foreign_key else None,
                    "check": _norm_sql(info.definition) if info.check else None,
                    "condition": _norm_sql(info.condition),
                }
            out[table] = {
                "comment": intro.get_table_comment(table) or None,
                "columns": columns,
                "constraints": constraints,
            }
        return out
    finally:
        conn.close()


def _shape(info: dict[str, Any]) -> tuple[Any, ...]:
    return (
        info["kind"],
        tuple(info["columns"]),
        tuple(info["orders"]),
        info["references"],
        info["on_delete"],
        info["check"],
        info["condition"],
    )


def _describe(name: str, info: dict[str, Any]) -> str:
    text = f"{info['kind']} {name} on ({', '.join(info['columns'])})"
    if info["references"]:
        text += f" -> {info['references'][0]}.{info['references'][1]}"
        if info["on_delete"]:
            text += f" on delete {info['on_delete']}"
    if info["check"]:
        text += f" check {info['check']}"
    if info["condition"]:
        text += f" where {info['condition']}"
    if info["orders"] and any(o != "ASC" for o in info["orders"]):
        text += f" orders {info['orders']}"
    return text


def compare(django: dict[str, Any], shoal: dict[str, Any]) -> list[str]:
    """Every difference between two :func:`read_schema` results, one line each,
    worded "<where>: django ... / shoal ..."."""
    out: list[str] = []
    for table in sorted(set(django) - set(shoal)):
        out.append(f"table {table}: only Django created it")
    for table in sorted(set(shoal) - set(django)):
        out.append(f"table {table}: only shoal created it")
    for table in sorted(set(django) & set(shoal)):
        out.extend(_compare_table(table, django[table], shoal[table]))
    return out


def _compare_table(table: str, d: dict[str, Any], s: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if d["comment"] != s["comment"]:
        out.append(f"table {table}: comment django {d['comment']!r} / shoal {s['comment']!r}")
    d_names = [c[0] for c in d["columns"]]
    s_names = [c[0] for c in s["columns"]]
    for name in d_names:
        if name not in s_names:
            out.append(f"column {table}.{name}: only Django has it")
    for name in s_names:
        if name not in d_names:
            out.append(f"column {table}.{name}: only shoal has it")
    if [n for n in d_names if n in s_names] != [n for n in s_names if n in d_names]:
        out.append(f"table {table}: column order django {d_names} / shoal {s_names}")
    d_cols, s_cols = dict(d["columns"]), dict(s["columns"])
    for name in d_names:
        if name not in s_cols:
            continue
        for key, value in d_cols[name].items():
            if s_cols[name][key] != value:
                out.append(f"column {table}.{name}: {key} django {value!r} / shoal {s_cols[name][key]!r}")
    dc, sc = d["constraints"], s["constraints"]
    d_shapes = sorted(_shape(v) for v in dc.values())
    s_shapes = sorted(_shape(v) for v in sc.values())
    for name in sorted(set(dc) | set(sc)):
        if name not in sc:
            twin = [n for n, v in sc.items() if _shape(v) == _shape(dc[name]) and n not in dc]
            extra = f" (shoal has it as {twin[0]})" if twin else ""
            out.append(f"constraint {table}: {_describe(name, dc[name])} only in Django{extra}")
        elif name not in dc:
            twin = [n for n, v in dc.items() if _shape(v) == _shape(sc[name]) and n not in sc]
            if twin:
                continue  # reported from the Django side with the name shoal used
            out.append(f"constraint {table}: {_describe(name, sc[name])} only in shoal")
        elif _shape(dc[name]) != _shape(sc[name]):
            out.append(
                f"constraint {table}.{name}: django {_describe(name, dc[name])} / shoal {_describe(name, sc[name])}"
            )
    if d_shapes != s_shapes and not out:
        out.append(f"table {table}: constraint shapes differ: django {d_shapes} / shoal {s_shapes}")
    return out
