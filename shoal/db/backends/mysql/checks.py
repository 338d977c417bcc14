"""System checks for a MySQL/MariaDB database (``shoal check --database NAME``)."""

from __future__ import annotations

from typing import Any

from shoal.checks import CheckMessage, Warning


def check(connection: Any) -> list[CheckMessage]:
    """Strict mode should be on: without it, data too long for a column is cut silently."""
    row = connection.fetchone("SELECT @@sql_mode")
    modes = set(str(row[0] if row else "").upper().split(","))
    if modes & {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"}:
        return []
    name = "MariaDB" if getattr(connection, "is_mariadb", False) else "MySQL"
    return [Warning(
        f"{name} Strict Mode is not set for database connection '{connection.alias}'",
        hint=f"{name}'s Strict Mode fixes many data integrity problems in {name}, such as data truncation "
             "upon insertion, by escalating warnings into errors. It is strongly recommended you activate it.",
        obj=connection.alias, id="mysql.W002",
    )]
