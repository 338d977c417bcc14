"""Database URLs: the one way a project names a database.

``parse_url("postgresql://user:secret@host:5432/app?sslmode=require")`` gives a
:class:`DatabaseURL`, a plain frozen value that backends turn into driver
arguments.  Passwords never leak: ``repr()``, ``str()`` and every error message
show ``***`` in their place; only :meth:`DatabaseURL.render` with
``mask_password=False`` (for handing a URL to another process) shows them.

Accepted forms::

    sqlite://                      in-memory database
    sqlite:///:memory:             in-memory database
    sqlite:///relative/db.sqlite3  relative to ``base_dir`` (the project dir)
    sqlite:////abs/path/db.sqlite3 absolute path
    postgresql://  postgres://  postgresql+psycopg://
    mysql://  mariadb://  mysql+pymysql://

Query-string parameters become :attr:`DatabaseURL.options`; each backend
documents the ones it understands (e.g. ``sslmode`` for PostgreSQL,
``server_version`` for MySQL, ``timeout`` for SQLite).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from shoal.exceptions import ConfigError

__all__ = ["DatabaseURL", "parse_url", "mask_password", "name_limit", "SCHEMES", "NAME_LIMITS", "MEMORY"]

#: The ``name`` of an in-memory SQLite database.
MEMORY = ":memory:"

#: URL scheme -> canonical backend scheme.
SCHEMES: dict[str, str] = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
    "postgresql+psycopg3": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+pymysql": "mysql",
    "mariadb+pymysql": "mysql",
}

#: Canonical scheme -> longest identifier the backend keeps (None: no practical
#: limit). Known here, without a driver, because default table names depend on it.
NAME_LIMITS: dict[str, int | None] = {"sqlite": None, "postgresql": 63, "mysql": 64}


def name_limit(url: str) -> int | None:
    """The identifier limit of the backend ``url`` names (None if unknown or unlimited)."""
    return NAME_LIMITS.get(SCHEMES.get(url.partition("://")[0].lower(), ""))


_SUPPORTED_TEXT = (
    "sqlite:// (sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:), "
    "postgresql:// (also postgres://, postgresql+psycopg://), "
    "mysql:// (also mariadb://, mysql+pymysql://)"
)

# user:password@ in the authority part of a URL, however malformed the rest is;
# the password runs to the last '@' (an unencoded '@' in it is still hidden).
_PASSWORD_RE = re.compile(r"(?P<head>^[^:/?#]*://[^:/?#@]*:)(?P<pw>[^/?#]*)(?P<tail>@)")


def mask_password(url: str) -> str:
    """Return ``url`` with any ``user:password@`` password replaced by ``***``.

    Works on strings that do not parse, so error messages about a bad URL can
    quote it safely.
    """
    return _PASSWORD_RE.sub(lambda m: f"{m['head']}***{m['tail']}", url, count=1)


_NO_OPTIONS: dict[str, str] = {}


class DatabaseURL(NamedTuple):
    """A parsed database URL; the value every backend is configured from.

    ``name`` is the database name, or for SQLite the absolute file path or
    ``":memory:"``.  ``options`` are the query-string parameters, decoded.
    """

    scheme: str
    name: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    options: dict[str, str] = _NO_OPTIONS  # shared and never mutated: parse_url gives each its own

    @property
    def is_memory(self) -> bool:
        """True for an in-memory SQLite database (nothing on disk)."""
        return self.scheme == "sqlite" and self.name == MEMORY

    def render(self, *, mask_password: bool = True) -> str:
        """Build the URL text back; the password is ``***`` unless asked otherwise."""
        query = ""
        if self.options:
            query = "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.options.items())
        if self.scheme == "sqlite":
            return "sqlite:///" + quote(self.name, safe="/:\\") + query
        auth = ""
        if self.user is not None:
            auth = quote(self.user, safe="")
            if self.password is not None:
                pw = "***" if mask_password else quote(self.password, safe="")
                auth += f":{pw}"
            auth += "@"
        elif self.password is not None:
            auth = (":***" if mask_password else ":" + quote(self.password, safe="")) + "@"
        host = self.host or ""
        if host.startswith("/"):
            host = quote(host, safe="")
        elif ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{auth}{host}{port}/{quote(self.name, safe='')}{query}"

    def masked(self) -> str:
        """The URL as text with the password shown as ``***`` (safe to print)."""
        return self.render(mask_password=True)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"DatabaseURL({self.masked()!r})"

    def __hash__(self) -> int:
        return hash(self[:-1])  # options (a dict) take part in ==, not in the hash


def _options(query: str, raw: str) -> dict[str, str]:
    try:
        return dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError as exc:
        raise ConfigError(
            f"Malformed query string in database URL {mask_password(raw)!r}: {exc}. "
            "Write options as ?key=value&other=value."
        ) from None


def _sqlite(raw: str, rest: str, base_dir: Path | None) -> DatabaseURL:
    # ``rest`` is what follows "sqlite:"; split off the query by hand because
    # paths may legitimately contain characters urlsplit treats specially.
    path_part, _, query = rest.partition("?")
    options = _options(query, raw)
    if path_part in ("", "//"):
        return DatabaseURL("sqlite", MEMORY, options=options)
    if not path_part.startswith("//"):
        raise ConfigError(
            f"Malformed SQLite URL {raw!r}: expected sqlite:///relative.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:."
        )
    after = path_part[2:]
    host, slash, path = after.partition("/")
    if host:
        raise ConfigError(
            f"Malformed SQLite URL {raw!r}: a SQLite URL has no host ({host!r}). Use three "
            "slashes for a relative path (sqlite:///db.sqlite3) or four for an absolute one "
            "(sqlite:////var/lib/app/db.sqlite3)."
        )
    path = unquote(path)
    if not slash or path == "":
        return DatabaseURL("sqlite", MEMORY, options=options)
    if path == MEMORY:
        return DatabaseURL("sqlite", MEMORY, options=options)
    p = Path(path)
    if not p.is_absolute():
        p = (base_dir if base_dir is not None else Path.cwd()) / p
    return DatabaseURL("sqlite", str(p), options=options)


def _server(raw: str, scheme: str) -> DatabaseURL:
    safe = mask_password(raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Malformed database URL {safe!r}: {exc}.") from None
    if parts.fragment:
        raise ConfigError(f"Malformed database URL {safe!r}: unexpected '#' fragment.")
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        example = (
            "postgresql://user@127.0.0.1:5432/mydb" if scheme == "postgresql" else "mysql://user@127.0.0.1:3306/mydb"
        )
        raise ConfigError(
            f"Database URL {safe!r} does not name a database: put the database name after the host, e.g. {example}."
        )
    host = parts.hostname
    if host is not None:
        host = unquote(host)
        # hostname lower-cases; keep a socket directory's case from the raw netloc.
        netloc_host = parts.netloc.rpartition("@")[2]
        if netloc_host.startswith("%2F") or netloc_host.startswith("%2f"):
            host = unquote(netloc_host.split(":")[0])
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if user == "":
        user = None
    return DatabaseURL(
        scheme=scheme,
        name=name,
        user=user,
        password=password,
        host=host or None,
        port=port,
        options=_options(parts.query, safe),
    )


def parse_url(url: str, base_dir: Path | None = None) -> DatabaseURL:
    """Parse a database URL; raise :class:`ConfigError` saying what is wrong.

    ``base_dir`` anchors relative SQLite paths (the project directory); without
    it they are relative to the current directory.  The password is decoded
    from percent-encoding and never appears in an error message.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"Empty database URL. Supported URL forms: {_SUPPORTED_TEXT}.")
    raw = url.strip()
    scheme_text, sep, rest = raw.partition(":")
    if not sep or not rest.startswith("//"):
        raise ConfigError(
            f"{mask_password(raw)!r} is not a database URL (expected SCHEME://...). "
            f"Supported URL forms: {_SUPPORTED_TEXT}."
        )
    scheme = SCHEMES.get(scheme_text.lower())
    if scheme is None:
        raise ConfigError(
            f"Unsupported database URL scheme {scheme_text!r} in {mask_password(raw)!r}. Supported: {_SUPPORTED_TEXT}."
        )
    if scheme == "sqlite":
        return _sqlite(raw, rest, base_dir)
    return _server(raw, scheme)
