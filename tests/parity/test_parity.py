"""Parity with Django: the same migration files give the same schema.

Every history (tests/parity/histories_*.py) is migrated, step by step
(forwards, then back to earlier migrations), by Django and by shoal on two
fresh databases of the same backend; after each step both schemas are read
back and must be equal: tables, columns (order, type, nullability, default,
comment), and every index and constraint by name and by shape.  Differences
accepted on purpose are listed on the history with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .harness import DJANGO_AVAILABLE, DJANGO_MISSING_REASON, History, ParityRun, compare, read_schema
from .histories_fields import HISTORIES as FIELD_HISTORIES
from .histories_models import HISTORIES as MODEL_HISTORIES
from .histories_more import HISTORIES as MORE_HISTORIES
from .histories_db_default import HISTORIES as DB_DEFAULT_HISTORIES

pytestmark = pytest.mark.skipif(not DJANGO_AVAILABLE, reason=DJANGO_MISSING_REASON)

HISTORIES: list[History] = FIELD_HISTORIES + MODEL_HISTORIES + MORE_HISTORIES + DB_DEFAULT_HISTORIES


@pytest.mark.parametrize("history", HISTORIES, ids=[h.name for h in HISTORIES])
def test_same_schema_as_django(
    history: History,
    vendor: str,
    database_factory: Callable[[str], str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """Migrating a history with shoal leaves the schema Django leaves, after every step."""
    if vendor not in history.vendors:
        pytest.skip(f"history {history.name} does not apply to {vendor}")
    missing = history.missing()
    if missing:
        pytest.xfail(f"shoal has no {', '.join(missing)} yet (being written by the model-language engineer)")
    if vendor in history.known_gaps:
        request.applymarker(pytest.mark.xfail(reason=history.known_gaps[vendor], strict=True))
    run = ParityRun(history, vendor, tmp_path, database_factory(vendor), database_factory(vendor))
    failures: list[str] = []
    for step in history.steps:
        run.migrate(step)
        where = "all migrations" if step is None else f"migrate {history.app} {step}"
        diffs = compare(read_schema(run.django_url), read_schema(run.shoal_url))
        kept = [d for d in diffs if not any(a.matches(vendor, d) for a in history.accept)]
        failures.extend(f"[{where}] {d}" for d in kept)
        if failures:
            break
    assert not failures, f"{history.name} on {vendor}: shoal's schema differs from Django's:\n" + "\n".join(
        failures
    )
