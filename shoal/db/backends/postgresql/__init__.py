"""PostgreSQL backend (psycopg 3, imported only when connecting)."""
