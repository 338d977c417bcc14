"""Configuration as SPEC §1: discovery, --config, SHOAL_CONFIG, DATABASE_URL, labels, setup()."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shoal
from shoal.conf import settings_from_dict
from shoal.exceptions import ConfigError
from tests.cli.projects import ROOT, TempProject

MODELS = "from shoal import models\n\n\nclass Author(models.Model):\n    name = models.CharField(max_length=10)\n"


@pytest.fixture
def project(tmp_path):
    proj = TempProject(tmp_path / "proj", ["authors"], f"sqlite:///{tmp_path}/a.sqlite3")
    proj.write("authors/models.py", MODELS)
    return proj


def run(cwd, *args, env=None):
    import os

    environ = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
    environ.pop("DATABASE_URL", None) if not (env and "DATABASE_URL" in env) else None
    return subprocess.run([sys.executable, "-m", "shoal", *args], cwd=cwd, env=environ, capture_output=True, text=True)


def test_config_found_from_a_subdirectory(project):
    """The nearest parent pyproject.toml with [tool.shoal] is used."""
    sub = project.path / "authors"
    result = run(sub, "makemigrations")
    assert result.returncode == 0, result.stderr
    assert (project.path / "authors/migrations/0001_initial.py").exists()


def test_config_option_before_or_after_command_and_env(project, tmp_path):
    """--config works before or after the command, and SHOAL_CONFIG names the file too."""
    config = str(project.path / "pyproject.toml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run(elsewhere, "--config", config, "makemigrations").returncode == 0
    after = run(elsewhere, "showmigrations", "--config", config)
    assert after.returncode == 0 and " [ ] 0001_initial" in after.stdout
    by_env = run(elsewhere, "showmigrations", env={"SHOAL_CONFIG": config})
    assert by_env.returncode == 0 and " [ ] 0001_initial" in by_env.stdout


def test_database_url_overrides_default(project, tmp_path):
    """DATABASE_URL replaces databases.default."""
    assert project.shoal("makemigrations").code == 0
    other = tmp_path / "other.sqlite3"
    result = run(project.path, "migrate", env={"DATABASE_URL": f"sqlite:///{other}"})
    assert result.returncode == 0, result.stderr
    assert other.exists() and not (tmp_path / "a.sqlite3").exists()


def test_relative_sqlite_path_is_relative_to_the_config(project, tmp_path):
    """sqlite:///relative.db lives beside the config file, whatever the working directory."""
    (project.path / "pyproject.toml").write_text(
        '[tool.shoal]\napps = ["authors"]\n[tool.shoal.databases]\ndefault = "sqlite:///rel.sqlite3"\n'
    )
    assert project.shoal("makemigrations").code == 0
    assert run(project.path / "authors", "migrate").returncode == 0
    assert (project.path / "rel.sqlite3").exists()


def test_app_label_table_and_unknown_key(tmp_path):
    """{ module, label } apps; unknown keys and bad labels are clear errors."""
    settings = settings_from_dict({"apps": [{"module": "pkg.books", "label": "library"}]}, base_dir=tmp_path)
    assert settings.apps[0].label == "library" and settings.apps[0].migrations_module == "pkg.books.migrations"
    with pytest.raises(ConfigError, match="unknown .*key"):
        settings_from_dict({"appz": []}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="not a valid Python identifier"):
        settings_from_dict({"apps": [{"module": "x", "label": "no-dash"}]}, base_dir=tmp_path)


def test_setup_configures_apps_and_databases(tmp_path, monkeypatch):
    """shoal.setup(apps=..., databases=...) imports the apps and opens the databases lazily."""
    pkg = tmp_path / "setup_app_x"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(MODELS)
    settings = shoal.setup(apps=["setup_app_x"], databases={"default": "sqlite:///:memory:"}, base_dir=tmp_path)
    from shoal.apps import apps
    from shoal.db.connections import connections

    assert settings.apps[0].label == "setup_app_x"
    assert apps.get_model("setup_app_x", "Author")._meta.db_table == "setup_app_x_author"
    assert connections["default"].vendor == "sqlite"


def test_version_and_help():
    """shoal --version and --help work; python -m shoal too."""
    out = subprocess.run([sys.executable, "-m", "shoal", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"shoal {shoal.__version__}"
    helped = subprocess.run([sys.executable, "-m", "shoal", "--help"], cwd=ROOT, capture_output=True, text=True)
    for name in ("makemigrations", "migrate", "showmigrations", "sqlmigrate"):
        assert name in helped.stdout
