"""MySQL / MariaDB backend (PyMySQL, imported only when connecting)."""
