"""``python -m shoal``."""

from shoal.cli import run

run()
