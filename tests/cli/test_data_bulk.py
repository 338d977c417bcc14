"""A data migration over 100,000 rows through ``shoal migrate``: one transaction,
and nothing half-done when it raises part-way."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli.projects import TempProject
from tests.cli.test_data_migrations import columns, ok, sql

ROWS = 100_000

MODELS = """
from shoal import models


class Item(models.Model):
    n = models.IntegerField()
    label = models.CharField(max_length=20, default="")
"""

DIGITS = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " \
         "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
SEED = (
    "INSERT INTO people_item (n, label) SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1, '' "
    f"FROM {DIGITS} a CROSS JOIN {DIGITS} b CROSS JOIN {DIGITS} c CROSS JOIN {DIGITS} e CROSS JOIN {DIGITS} f"
)

TXID = {
    "postgresql": "SELECT txid_current()",
    "sqlite": None,
    "mysql": "SELECT trx_id FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()",
}

DATA = """
import json
import os
from pathlib import Path

from shoal import migrations, models

TXID = {txid!r}


def txid(schema_editor):
    if TXID is None:
        return schema_editor.connection.in_atomic_block
    row = schema_editor.connection.fetchone(TXID)
    return str(row[0]) if row else None


def label_and_double(apps, schema_editor):
    fail_at = int(os.environ.get("FAIL_AT", "0"))
    Item = apps.get_model("people", "Item")
    first = None
    batch, done = [], 0
    for item in Item.objects.order_by("id").iterator(chunk_size=5000):
        item.label = "item %d" % item.n
        item.doubled = item.n * 2
        batch.append(item)
        if len(batch) == 5000:
            Item.objects.bulk_update(batch, ["label", "doubled"])
            done += len(batch)
            batch = []
            if first is None:
                first = txid(schema_editor)  # after a write: MySQL names a transaction only then
            if fail_at and done >= fail_at:
                raise RuntimeError("failed part-way after %d rows" % done)
    Item.objects.bulk_update(batch, ["label", "doubled"])
    Path(__file__).resolve().parents[2].joinpath("seen.json").write_text(json.dumps({{
        "first": first, "last": txid(schema_editor), "count": Item.objects.count(),
        "pending": Item.objects.filter(doubled__isnull=True).count(),
    }}))


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [
        migrations.AddField("item", "doubled", models.IntegerField(null=True)),
        migrations.RunPython(label_and_double, migrations.RunPython.noop),
        migrations.AlterField("item", "doubled", models.IntegerField()),
    ]
"""


@pytest.fixture
def proj(tmp_path, db_url, vendor):
    p = TempProject(tmp_path / "proj", ["people"], db_url)
    p.write("people/models.py", MODELS)
    ok(p.shoal("makemigrations"))
    ok(p.shoal("migrate"))
    sql(db_url, SEED)
    assert sql(db_url, "SELECT count(*), min(n), max(n) FROM people_item") == [(ROWS, 1, ROWS)]
    p.write("people/migrations/0002_double.py", DATA.format(txid=TXID[vendor]))
    return p


def test_100k_rows_in_one_transaction(proj, db_url, vendor):
    """All 100,000 rows are rewritten through historical models in the migration's single transaction."""
    started = time.monotonic()
    out = ok(proj.shoal("migrate"))
    elapsed = time.monotonic() - started
    assert "  Applying people.0002_double... OK" in out
    seen = json.loads(proj.read("seen.json"))
    assert seen["count"] == ROWS and seen["pending"] == 0
    # One transaction from the first batch to the last (on MySQL: the RunPython's own).
    assert seen["first"] == seen["last"] and seen["first"] not in (None, False)
    assert sql(db_url, "SELECT count(*) FROM people_item WHERE doubled = 2 * n AND label <> ''") == [(ROWS,)]
    assert sql(db_url, "SELECT label, doubled FROM people_item WHERE n = 99999") == [("item 99999", 199998)]
    assert elapsed < 240, f"100k-row data migration took {elapsed:.0f}s"


def test_failure_part_way_leaves_nothing_half_done(proj, db_url, vendor):
    """Raising after 50,000 of 100,000 rows: no row changed, (where DDL is transactional) no column, not recorded."""
    result = proj.shoal("migrate", env={"FAIL_AT": "50000"})
    assert result.code != 0
    assert "RuntimeError: failed part-way after 50000 rows" in result.err
    assert 'raise RuntimeError("failed part-way after %d rows" % done)' in result.err
    assert sql(db_url, "SELECT count(*) FROM people_item WHERE label <> ''") == [(0,)]
    assert sql(db_url, "SELECT count(*) FROM people_item") == [(ROWS,)]
    assert " [ ] 0002_double" in ok(proj.shoal("showmigrations"))
    if vendor == "mysql":
        # The RunPython's own transaction rolled back; the ADD COLUMN before it could not be.
        assert "Add field doubled to item" in result.err and "had already run" in result.err
        assert "doubled" in columns(db_url, "people_item")
    else:
        assert "rolled back" in result.err
        assert "doubled" not in columns(db_url, "people_item")
        # Fixed, it then applies cleanly.
        out = ok(proj.shoal("migrate"))
        assert "  Applying people.0002_double... OK" in out
        assert sql(db_url, "SELECT count(*) FROM people_item WHERE doubled = 2 * n") == [(ROWS,)]
