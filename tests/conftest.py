"""Shared fixtures: run a test once per database backend against a real, fresh database.

Use in a test module::

    def test_something(connection):          # a connected wrapper, new empty db
        connection.execute("CREATE TABLE ...")

    def test_sql_only(vendor):               # just the name; needs no server
        ...

    @pytest.mark.backends("postgresql", "mysql")
    def test_server_only(db_url): ...        # restrict to some backends

Fixtures: ``vendor`` (parametrised over the selected backends), ``db_url``
(URL of a fresh empty database, dropped afterwards), ``connection`` (a
connected ``DatabaseWrapper`` on it, alias "default", closed afterwards),
``database_factory`` (``make(vendor) -> url`` for tests that need several
databases).

Selecting backends: ``pytest --backend sqlite --backend postgresql`` or
``SHOAL_TEST_BACKENDS=sqlite,postgresql``.  An unreachable server skips its
tests with the reason, except when ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shoal.db.backends.base.connection import BaseDatabaseWrapper
from shoal.db.connections import create_connection
from tests import dbutil


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=dbutil.BACKENDS,
        default=None,
        help="run database tests only on this backend (repeatable); default: SHOAL_TEST_BACKENDS or all",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run a vendor-parametrised test only on these backends")
    try:
        dbutil.selected_backends()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def selected_backends(config: pytest.Config) -> list[str]:
    """--backend options if given, else SHOAL_TEST_BACKENDS, else all backends."""
    chosen = config.getoption("--backend")
    if chosen:
        return [b for b in dbutil.BACKENDS if b in chosen]
    return dbutil.selected_backends()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "vendor" not in metafunc.fixturenames:
        return
    vendors = selected_backends(metafunc.config)
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        vendors = [v for v in vendors if v in marker.args]
    metafunc.parametrize("vendor", vendors, ids=vendors)


def require_server(vendor: str) -> None:
    """Skip (or, under CI=true, fail) the current test if ``vendor``'s server is unreachable."""
    ok, reason = dbutil.server_available(vendor)
    if ok:
        return
    ci = os.environ.get("CI", "").lower() == "true"
    message = dbutil.unavailable_message(vendor, reason, ci)
    if ci:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def db_url(vendor: str, tmp_path: Path) -> Iterator[str]:
    """URL of a brand-new empty database for ``vendor`` (dropped after the test)."""
    require_server(vendor)
    url = dbutil.fresh_database_url(vendor, tmp_path)
    try:
        yield url
    finally:
        dbutil.drop_database(url)


@pytest.fixture
def connection(db_url: str) -> Iterator[BaseDatabaseWrapper]:
    """A connected wrapper (alias "default") on the test's fresh database."""
    conn = create_connection("default", db_url)
    conn.ensure_connection()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def database_factory(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``make(vendor) -> url``: more fresh databases, all dropped after the test."""
    made: list[str] = []

    def make(vendor: str) -> str:
        require_server(vendor)
        url = dbutil.fresh_database_url(vendor, tmp_path)
        made.append(url)
        return url

    try:
        yield make
    finally:
        for url in made:
            dbutil.drop_database(url)
