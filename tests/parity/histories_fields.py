"""Parity histories about fields: every field type, every schema-reaching option,
and the field operations (AddField, RemoveField, AlterField, RenameField).

Each migration is written once; ``{IMPORT}`` becomes Django's or shoal's import.
"""

from __future__ import annotations

from .harness import SQLITE_COLUMN_ORDER, Accept, History, sqlite_fk_declared_type

ID = '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))'

# name -> field expression, one per scalar type of SPEC section 2
SCALARS = {
    "int": "models.IntegerField({})",
    "bigint": "models.BigIntegerField({})",
    "smallint": "models.SmallIntegerField({})",
    "posint": "models.PositiveIntegerField({})",
    "possmall": "models.PositiveSmallIntegerField({})",
    "posbig": "models.PositiveBigIntegerField({})",
    "float": "models.FloatField({})",
    "decimal": "models.DecimalField(max_digits=10, decimal_places=2{})",
    "bool": "models.BooleanField({})",
    "char": "models.CharField(max_length=40{})",
    "text": "models.TextField({})",
    "slug": "models.SlugField({})",
    "email": "models.EmailField(max_length=254{})",
    "url": "models.URLField({})",
    "uuid": "models.UUIDField({})",
    "date": "models.DateField({})",
    "datetime": "models.DateTimeField({})",
    "time": "models.TimeField({})",
    "duration": "models.DurationField({})",
    "binary": "models.BinaryField({})",
    "json": "models.JSONField({})",
    "ip": "models.GenericIPAddressField({})",
}

# A Python default per type (never kept in the database) ...
DEFAULTS = {
    "int": "default=1",
    "bigint": "default=2",
    "smallint": "default=3",
    "posint": "default=4",
    "possmall": "default=5",
    "posbig": "default=6",
    "float": "default=1.5",
    "decimal": 'default=decimal.Decimal("2.50")',
    "bool": "default=True",
    "char": 'default="abc"',
    "text": 'default="long text"',
    "slug": 'default="a-slug"',
    "email": 'default="a@example.com"',
    "url": 'default="https://example.com"',
    "uuid": "default=uuid.uuid4",
    "date": "default=datetime.date(2020, 1, 2)",
    "datetime": "default=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)",
    "time": "default=datetime.time(3, 4, 5)",
    "duration": "default=datetime.timedelta(days=1, seconds=5)",
    "binary": 'default=b"xyz"',
    "json": "default=dict",
    "ip": 'default="127.0.0.1"',
}

# ... and a literal db_default per type (a real database default).
DB_DEFAULTS = {
    "int": "db_default=7",
    "bigint": "db_default=8",
    "smallint": "db_default=-9",
    "posint": "db_default=10",
    "possmall": "db_default=11",
    "posbig": "db_default=12",
    "float": "db_default=2.25",
    "decimal": 'db_default=decimal.Decimal("3.75")',
    "bool": "db_default=False",
    "char": 'db_default="dflt"',
    "text": 'db_default="some text"',
    "slug": 'db_default="s-l-u-g"',
    "email": 'db_default="b@example.com"',
    "url": 'db_default="https://example.org"',
    "date": "db_default=datetime.date(2021, 3, 4)",
    "time": "db_default=datetime.time(5, 6, 7)",
    "uuid": 'db_default=uuid.UUID("12345678-1234-5678-1234-567812345678")',
    "datetime": "db_default=datetime.datetime(2022, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)",
    "duration": "db_default=datetime.timedelta(hours=2)",
    "binary": 'db_default=b"raw"',
    "ip": 'db_default="10.0.0.1"',
}


def _fields(prefix: str, options: dict[str, str]) -> str:
    lines = []
    for name, template in SCALARS.items():
        if name not in options:
            continue
        opt = options[name]
        if opt and not template.endswith("({})"):
            opt = ", " + opt
        lines.append(f'                            ("{prefix}_{name}", {template.format(opt)}),')
    return "\n".join(lines)


def _add_fields(model: str, prefix: str, options: dict[str, str]) -> str:
    lines = []
    for name, template in SCALARS.items():
        if name not in options:
            continue
        opt = options[name]
        if opt and not template.endswith("({})"):
            opt = ", " + opt
        lines.append(f'                    migrations.AddField("{model}", "{prefix}_{name}", {template.format(opt)}),')
    return "\n".join(lines)


FIELD_TYPES = History(
    name="field_types",
    app="ftypes",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        name="Author",
                        fields=[
                            ("id", models.AutoField(primary_key=True, serialize=False)),
                            ("name", models.CharField(max_length=100)),
                        ],
                    ),
                    migrations.CreateModel(
                        name="Tag",
                        fields=[
                            ("id", models.SmallAutoField(primary_key=True, serialize=False)),
                            ("label", models.SlugField()),
                        ],
                    ),
                    migrations.CreateModel(
                        name="Everything",
                        fields=[
                            {ID},
{_fields("f", {k: "" for k in SCALARS})}
                            ("author", models.ForeignKey(on_delete=models.CASCADE, to="ftypes.author")),
                            ("buddy", models.OneToOneField(on_delete=models.CASCADE, related_name="+", to="ftypes.author")),
                            ("tags", models.ManyToManyField(to="ftypes.tag")),
                        ],
                    ),
                    migrations.CreateModel(
                        name="Membership",
                        fields=[
                            {ID},
                            ("since", models.DateField(null=True)),
                            ("everything", models.ForeignKey(on_delete=models.CASCADE, to="ftypes.everything")),
                            ("tag", models.ForeignKey(on_delete=models.PROTECT, to="ftypes.tag")),
                        ],
                    ),
                    migrations.AddField(
                        model_name="everything",
                        name="members",
                        field=models.ManyToManyField(related_name="+", through="ftypes.Membership", to="ftypes.tag"),
                    ),
                    migrations.CreateModel(
                        name="Nullable",
                        fields=[
                            {ID},
{_fields("n", {k: "null=True" for k in SCALARS})}
                            ("author", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="ftypes.author")),
                            ("buddy", models.OneToOneField(null=True, on_delete=models.SET_NULL, related_name="+", to="ftypes.author")),
                        ],
                    ),
                ]
        """,
        "0002_add_nullable": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                dependencies = [("ftypes", "0001_initial")]
                operations = [
{_add_fields("author", "n", {k: "null=True" for k in SCALARS})}
                    migrations.AddField("author", "n_fk", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="ftypes.tag")),
                    migrations.AddField("author", "n_o2o", models.OneToOneField(null=True, on_delete=models.CASCADE, related_name="+", to="ftypes.tag")),
                    migrations.AddField("author", "n_m2m", models.ManyToManyField(related_name="+", to="ftypes.tag")),
                ]
        """,
        "0003_add_defaults": f"""
            {{IMPORT}}
            import datetime
            import decimal
            import uuid


            class Migration(migrations.Migration):
                dependencies = [("ftypes", "0002_add_nullable")]
                operations = [
{_add_fields("tag", "d", DEFAULTS)}
                ]
        """,
        "0004_add_db_defaults": f"""
            {{IMPORT}}
            import datetime
            import decimal
            import uuid


            class Migration(migrations.Migration):
                dependencies = [("ftypes", "0003_add_defaults")]
                operations = [
{_add_fields("tag", "db", DB_DEFAULTS)}
                ]
        """,
    },
    steps=[None, "0002_add_nullable", "0001_initial"],
)


FIELD_OPTIONS = History(
    name="field_options",
    app="fopts",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}
            import decimal


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        name="Item",
                        fields=[
                            {ID},
                            ("name", models.CharField(max_length=50, unique=True)),
                            ("code", models.CharField(max_length=20, db_index=True)),
                            ("qty", models.IntegerField(db_index=True)),
                            ("body", models.TextField(db_index=True)),
                            ("note", models.TextField(null=True, db_comment="free text")),
                            ("legacy", models.IntegerField(db_column="LegacyCol", null=True)),
                            ("status", models.CharField(max_length=10, default="new")),
                            ("level", models.IntegerField(db_default=3)),
                            ("flag", models.BooleanField(db_default=False)),
                            ("label", models.CharField(max_length=20, db_default="x")),
                            ("ratio", models.DecimalField(max_digits=5, decimal_places=2, db_default=decimal.Decimal("1.50"))),
                            ("uid", models.UUIDField(unique=True)),
                            ("email", models.EmailField(max_length=254, null=True, unique=True)),
                            ("slug", models.SlugField(unique=True)),
                            ("plain_slug", models.SlugField(db_index=False)),
                            ("num", models.PositiveIntegerField(unique=True, db_comment="a number")),
                        ],
                        options={{"db_table_comment": "Items table"}},
                    ),
                    migrations.CreateModel(
                        name="Custom",
                        fields=[
                            ("code", models.CharField(max_length=12, primary_key=True, serialize=False)),
                            ("item", models.ForeignKey(db_column="item_ref", on_delete=models.CASCADE, to="fopts.item")),
                            ("by_name", models.ForeignKey(on_delete=models.CASCADE, related_name="+", to="fopts.item", to_field="name")),
                            ("loose", models.ForeignKey(db_constraint=False, null=True, on_delete=models.DO_NOTHING, related_name="+", to="fopts.item")),
                            ("unindexed", models.ForeignKey(db_index=False, null=True, on_delete=models.SET_NULL, related_name="+", to="fopts.item")),
                            ("parent", models.ForeignKey(null=True, on_delete=models.CASCADE, to="fopts.custom")),
                        ],
                        options={{"db_table": "custom_table"}},
                    ),
                ]
        """,
    },
)


FIELD_OPERATIONS = History(
    name="field_operations",
    app="fieldops",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        name="Parent",
                        fields=[{ID}, ("name", models.CharField(max_length=30))],
                    ),
                    migrations.CreateModel(
                        name="Child",
                        fields=[
                            {ID},
                            ("name", models.CharField(max_length=30)),
                            ("parent", models.ForeignKey(on_delete=models.CASCADE, to="fieldops.parent")),
                        ],
                    ),
                ]
        """,
        "0002_add": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                dependencies = [("fieldops", "0001_initial")]
                operations = [
                    migrations.AddField("child", "age", models.IntegerField(null=True)),
                    migrations.AddField("child", "nick", models.CharField(default="kid", max_length=20)),
                    migrations.AddField("child", "rank", models.IntegerField(db_default=5)),
                    migrations.AddField("child", "serial", models.CharField(max_length=20, null=True, unique=True)),
                    migrations.AddField("child", "code", models.CharField(default="c", max_length=10, unique=True)),
                    migrations.AddField("child", "score", models.IntegerField(db_index=True, default=0)),
                    migrations.AddField("child", "memo", models.TextField(db_comment="a memo", null=True)),
                    migrations.AddField("child", "other", models.ForeignKey(null=True, on_delete=models.SET_NULL, related_name="+", to="fieldops.parent")),
                    migrations.AddField("child", "twin", models.OneToOneField(null=True, on_delete=models.CASCADE, related_name="+", to="fieldops.parent")),
                    migrations.AddField("child", "friends", models.ManyToManyField(related_name="+", to="fieldops.parent")),
                    migrations.AddField("child", "peers", models.ManyToManyField(to="fieldops.child")),
                    migrations.AddField("parent", "since", models.DateField(null=True)),
                ]
        """,
        "0003_remove": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("fieldops", "0002_add")]
                operations = [
                    migrations.RemoveField("child", "age"),
                    migrations.RemoveField("child", "other"),
                    migrations.RemoveField("child", "friends"),
                    migrations.RemoveField("child", "score"),
                    migrations.RemoveField("child", "serial"),
                ]
        """,
        "0004_rename": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("fieldops", "0003_remove")]
                operations = [
                    migrations.RenameField("child", "nick", "nickname"),
                    migrations.RenameField("child", "parent", "mother"),
                    migrations.RenameField("child", "code", "ident"),
                    migrations.RenameField("child", "twin", "double"),
                    migrations.RenameField("child", "peers", "mates"),
                    migrations.RenameField("parent", "since", "born"),
                ]
        """,
    },
    steps=[None, "0003_remove", "0002_add", "0001_initial"],
    accept=(SQLITE_COLUMN_ORDER,),
)


ALTER_FIELD = History(
    name="alter_field",
    app="alterops",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Target", fields=[{ID}, ("name", models.CharField(max_length=30))]),
                    migrations.CreateModel("Other", fields=[{ID}, ("label", models.CharField(max_length=30))]),
                    migrations.CreateModel(
                        name="Thing",
                        fields=[
                            {ID},
                            ("count", models.IntegerField()),
                            ("title", models.CharField(max_length=20)),
                            ("summary", models.CharField(max_length=50)),
                            ("opt", models.IntegerField(null=True)),
                            ("req", models.CharField(max_length=10)),
                            ("ident", models.CharField(max_length=10)),
                            ("was_unique", models.CharField(max_length=10, unique=True)),
                            ("lookup", models.IntegerField()),
                            ("was_indexed", models.IntegerField(db_index=True)),
                            ("pos", models.IntegerField()),
                            ("level", models.IntegerField(db_default=1)),
                            ("described", models.IntegerField(null=True)),
                            ("colname", models.IntegerField(null=True)),
                            ("flagged", models.PositiveIntegerField(null=True)),
                            ("target", models.ForeignKey(on_delete=models.CASCADE, to="alterops.target")),
                            ("weak", models.ForeignKey(db_constraint=False, null=True, on_delete=models.DO_NOTHING, related_name="+", to="alterops.target")),
                            ("solo", models.ForeignKey(null=True, on_delete=models.CASCADE, related_name="+", to="alterops.other")),
                        ],
                    ),
                ]
        """,
        "0002_types": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("alterops", "0001_initial")]
                operations = [
                    migrations.AlterField("thing", "count", models.BigIntegerField()),
                    migrations.AlterField("thing", "title", models.CharField(max_length=60)),
                    migrations.AlterField("thing", "summary", models.TextField()),
                    migrations.AlterField("thing", "pos", models.PositiveIntegerField()),
                ]
        """,
        "0003_null": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("alterops", "0002_types")]
                operations = [
                    migrations.AlterField("thing", "opt", models.IntegerField(default=0)),
                    migrations.AlterField("thing", "req", models.CharField(max_length=10, null=True)),
                    migrations.AlterField("thing", "flagged", models.PositiveIntegerField(default=0)),
                ]
        """,
        "0004_unique_index": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("alterops", "0003_null")]
                operations = [
                    migrations.AlterField("thing", "ident", models.CharField(max_length=10, unique=True)),
                    migrations.AlterField("thing", "was_unique", models.CharField(max_length=10)),
                    migrations.AlterField("thing", "lookup", models.IntegerField(db_index=True)),
                    migrations.AlterField("thing", "was_indexed", models.IntegerField(unique=True)),
                ]
        """,
        "0005_misc": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("alterops", "0004_unique_index")]
                operations = [
                    migrations.AlterField("thing", "target", models.ForeignKey(on_delete=models.CASCADE, to="alterops.other")),
                    migrations.AlterField("thing", "weak", models.ForeignKey(null=True, on_delete=models.SET_NULL, related_name="+", to="alterops.target")),
                    migrations.AlterField("thing", "solo", models.OneToOneField(null=True, on_delete=models.CASCADE, related_name="+", to="alterops.other")),
                    migrations.AlterField("thing", "level", models.IntegerField(db_default=2)),
                    migrations.AlterField("thing", "described", models.IntegerField(db_comment="now described", null=True)),
                    migrations.AlterField("thing", "colname", models.IntegerField(db_column="col_name", null=True)),
                ]
        """,
        "0006_pk": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("alterops", "0005_misc")]
                operations = [
                    migrations.AlterField("target", "id", models.SmallAutoField(primary_key=True, serialize=False)),
                    migrations.AlterField("target", "name", models.CharField(max_length=30, unique=True)),
                ]
        """,
    },
    steps=[None, "0004_unique_index", "0002_types", "0001_initial"],
    accept=(
        SQLITE_COLUMN_ORDER,
        sqlite_fk_declared_type("alterops_thing.weak_id"),
        Accept(
            ("mysql",),
            r"^constraint alterops_thing: check flagged on \(flagged\) check flagged>=0 only in shoal$",
            "MariaDB drops a CHECK written in a column's definition when the column is MODIFYed; Django's "
            "MODIFY (null -> not null) loses the >= 0 check of a PositiveIntegerField, shoal writes it again",
        ),
    ),
)


PRIMARY_KEYS = History(
    name="primary_keys",
    app="pks",
    migrations={
        "0001_initial": """
            {IMPORT}
            import uuid


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Country",
                        fields=[("code", models.CharField(max_length=2, primary_key=True, serialize=False)), ("name", models.TextField())],
                    ),
                    migrations.CreateModel(
                        "Token",
                        fields=[("key", models.UUIDField(default=uuid.uuid4, primary_key=True, serialize=False))],
                    ),
                    migrations.CreateModel(
                        "Small",
                        fields=[("id", models.SmallAutoField(primary_key=True, serialize=False))],
                    ),
                    migrations.CreateModel(
                        "City",
                        fields=[
                            ("id", models.AutoField(primary_key=True, serialize=False)),
                            ("country", models.ForeignKey(on_delete=models.CASCADE, to="pks.country")),
                            ("token", models.OneToOneField(on_delete=models.CASCADE, to="pks.token")),
                            ("small", models.ForeignKey(null=True, on_delete=models.CASCADE, to="pks.small")),
                            ("visited", models.ManyToManyField(related_name="visitors", to="pks.country")),
                        ],
                    ),
                ]
        """,
        "0002_alter_pk": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("pks", "0001_initial")]
                operations = [
                    migrations.AlterField("country", "code", models.CharField(max_length=3, primary_key=True, serialize=False)),
                    migrations.AlterField("small", "id", models.BigAutoField(primary_key=True, serialize=False)),
                    migrations.AlterField("city", "id", models.BigAutoField(primary_key=True, serialize=False)),
                ]
        """,
    },
    steps=[None, "0001_initial"],
    accept=(SQLITE_COLUMN_ORDER, sqlite_fk_declared_type("pks_city_visited.city_id")),
)

HISTORIES = [FIELD_TYPES, FIELD_OPTIONS, FIELD_OPERATIONS, ALTER_FIELD, PRIMARY_KEYS]
