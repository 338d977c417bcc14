"""SQLite backend (the standard library's sqlite3 driver, imported lazily)."""
