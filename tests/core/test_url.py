"""Database URL parsing, masking and errors (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.db.url import DatabaseURL, mask_password, parse_url
from shoal.exceptions import ConfigError


def test_sqlite_relative_path_is_relative_to_base_dir(tmp_path: Path) -> None:
    """sqlite:///name resolves against the project directory, not the cwd."""
    url = parse_url("sqlite:///db.sqlite3", base_dir=tmp_path)
    assert url.scheme == "sqlite"
    assert url.name == str(tmp_path / "db.sqlite3")
    assert not url.is_memory


def test_sqlite_relative_subdirectory(tmp_path: Path) -> None:
    """Relative paths may have directories."""
    assert parse_url("sqlite:///var/app.db", tmp_path).name == str(tmp_path / "var" / "app.db")


def test_sqlite_relative_without_base_dir_uses_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without base_dir a relative path is taken from the current directory."""
    monkeypatch.chdir(tmp_path)
    assert parse_url("sqlite:///x.db").name == str(Path.cwd() / "x.db")


def test_sqlite_absolute_path(tmp_path: Path) -> None:
    """Four slashes mean an absolute path; base_dir is ignored."""
    url = parse_url("sqlite:////srv/data/app.db", base_dir=tmp_path)
    assert url.name == "/srv/data/app.db"


@pytest.mark.parametrize("text", ["sqlite://", "sqlite:///:memory:", "sqlite:///", "SQLITE://"])
def test_sqlite_memory_forms(text: str) -> None:
    """Every in-memory spelling gives name ':memory:'."""
    url = parse_url(text)
    assert url.name == ":memory:"
    assert url.is_memory


def test_sqlite_options_and_percent_path(tmp_path: Path) -> None:
    """Query options are decoded; a percent-encoded path is decoded."""
    url = parse_url("sqlite:///my%20db.sqlite3?timeout=20&journal_mode=wal", tmp_path)
    assert url.name == str(tmp_path / "my db.sqlite3")
    assert url.options == {"timeout": "20", "journal_mode": "wal"}


def test_sqlite_url_with_host_is_rejected() -> None:
    """sqlite://host/path is a common mistake; the error shows the right forms."""
    with pytest.raises(ConfigError, match="no host") as info:
        parse_url("sqlite://db.sqlite3")
    assert "sqlite:////" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://bob:s3cret@db.example.com:5433/app",
        "postgres://bob:s3cret@db.example.com:5433/app",
        "postgresql+psycopg://bob:s3cret@db.example.com:5433/app",
    ],
)
def test_postgresql_aliases(text: str) -> None:
    """All PostgreSQL schemes parse to the canonical one with every part."""
    url = parse_url(text)
    assert url == DatabaseURL("postgresql", "app", "bob", "s3cret", "db.example.com", 5433, {})


@pytest.mark.parametrize("scheme", ["mysql", "mariadb", "mysql+pymysql"])
def test_mysql_aliases(scheme: str) -> None:
    """MySQL and MariaDB schemes map to 'mysql'."""
    url = parse_url(f"{scheme}://root@127.0.0.1:3306/test")
    assert (url.scheme, url.name, url.user, url.password, url.host, url.port) == (
        "mysql",
        "test",
        "root",
        None,
        "127.0.0.1",
        3306,
    )


def test_percent_decoding_of_user_and_password() -> None:
    """Reserved characters in credentials arrive decoded."""
    url = parse_url("postgresql://us%40er:p%40ss%3Aw%2Fd%23@h/db")
    assert url.user == "us@er"
    assert url.password == "p@ss:w/d#"


def test_query_options_parsed() -> None:
    """?key=value pairs become options."""
    url = parse_url("postgresql://u@h/db?sslmode=require&application_name=shoal%20x")
    assert url.options == {"sslmode": "require", "application_name": "shoal x"}


def test_no_port_no_host() -> None:
    """Host and port are optional (Unix socket / defaults)."""
    url = parse_url("postgresql:///db")
    assert (url.host, url.port, url.user) == (None, None, None)


def test_socket_directory_host() -> None:
    """A percent-encoded socket directory keeps its case."""
    url = parse_url("postgresql://u@%2FVar%2Frun%2Fpostgresql/db")
    assert url.host == "/Var/run/postgresql"


def test_ipv6_host() -> None:
    """Bracketed IPv6 hosts parse and render back."""
    url = parse_url("postgresql://u@[::1]:5432/db")
    assert url.host == "::1"
    assert url.masked() == "postgresql://u@[::1]:5432/db"


def test_masked_and_repr_hide_password() -> None:
    """masked(), str() and repr() show *** in place of the password."""
    url = parse_url("mysql://admin:hunter2@db:3306/shop?charset=utf8mb4")
    assert url.masked() == "mysql://admin:***@db:3306/shop?charset=utf8mb4"
    assert str(url) == url.masked()
    assert "hunter2" not in repr(url)
    assert "***" in repr(url)


def test_render_unmasked_round_trips() -> None:
    """render(mask_password=False) gives a URL that parses back to the same value."""
    original = parse_url("postgresql://us%40er:p%40ss%2F@h:1/d%20b?x=1%262")
    again = parse_url(original.render(mask_password=False))
    assert again == original


def test_sqlite_render_round_trips(tmp_path: Path) -> None:
    """A SQLite URL renders to an absolute form that parses back identically."""
    url = parse_url("sqlite:///a b/db.sqlite3?timeout=3", tmp_path)
    assert parse_url(url.render()) == url
    assert parse_url(parse_url("sqlite://").render()).is_memory


def test_unknown_scheme_names_scheme_and_supported_and_masks_password() -> None:
    """An unsupported scheme error names it, lists the supported ones and hides the password."""
    with pytest.raises(ConfigError) as info:
        parse_url("oracle://scott:tiger@host/orcl")
    message = str(info.value)
    assert "'oracle'" in message
    assert "postgresql://" in message and "mysql://" in message and "sqlite://" in message
    assert "tiger" not in message
    assert "scott:***@" in message


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "Empty"),
        ("just-a-path.db", "not a database URL"),
        ("postgresql://u:pw@host:notaport/db", "Malformed"),
        ("postgresql://u:pw@host:5432", "does not name a database"),
        ("mysql://u:pw@host/", "does not name a database"),
    ],
)
def test_malformed_urls(text: str, fragment: str) -> None:
    """Malformed URLs raise ConfigError saying what is wrong, never showing the password."""
    with pytest.raises(ConfigError, match=fragment) as info:
        parse_url(text)
    assert ":pw@" not in str(info.value)


def test_mask_password_on_unparseable_text() -> None:
    """mask_password works on text that is not a valid URL."""
    assert mask_password("weird://u:p@ss@@x/db") == "weird://u:***@x/db"
    assert mask_password("postgresql://u@h/db") == "postgresql://u@h/db"


def test_url_is_hashable_and_frozen() -> None:
    """DatabaseURL is an immutable value usable as a dict key."""
    url = parse_url("postgresql://u@h/db?a=1")
    with pytest.raises(AttributeError):
        url.name = "other"  # type: ignore[misc]
    assert {url: 1}[parse_url("postgresql://u@h/db?a=1")] == 1


@pytest.mark.parametrize("url, limit", [("sqlite:///db.sqlite3", None), ("postgres://u@h/d", 63),
                                        ("postgresql+psycopg://u@h/d", 63), ("mariadb://u@h/d", 64),
                                        ("MySQL://u@h/d", 64), ("oracle://u@h/d", None)])
def test_name_limit_known_from_the_scheme_alone(url: str, limit: int | None) -> None:
    from shoal.db.url import name_limit

    assert name_limit(url) == limit
