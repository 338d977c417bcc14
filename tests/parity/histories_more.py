"""Parity histories for the corners: names long enough to be cut, PostgreSQL-only
index options, renames of fields that indexes and constraints mention, and the
``_like`` indexes PostgreSQL keeps beside indexed text columns.
"""

from __future__ import annotations

from .harness import SQLITE_COLUMN_ORDER, History

ID = '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))'

LONG_MODEL = "ModelWithAVeryLongNameThatGoesOnAndOnPastTheCut"
LONG_FIELD = "a_field_name_that_is_also_rather_long_for_an_index"

LONG_NAMES = History(
    name="long_names",
    app="longnames",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Target",
                        fields=[{ID}, ("{LONG_FIELD}", models.CharField(max_length=10, unique=True))],
                        options={{"db_table": "a_table_name_that_is_long_enough_to_need_cutting_when_suffixed"}},
                    ),
                    migrations.CreateModel(
                        "{LONG_MODEL}",
                        fields=[
                            {ID},
                            ("{LONG_FIELD}", models.IntegerField(db_index=True)),
                            ("another_quite_long_field_name_for_the_unique_pair", models.IntegerField()),
                            ("pointer_to_the_target_model_with_long_name", models.ForeignKey(on_delete=models.CASCADE, to="longnames.target")),
                            ("by_code", models.ForeignKey(null=True, on_delete=models.CASCADE, related_name="+", to="longnames.target", to_field="{LONG_FIELD}")),
                            ("many_targets_with_a_long_field_name", models.ManyToManyField(related_name="+", to="longnames.target")),
                        ],
                        options={{
                            "unique_together": {{("{LONG_FIELD}", "another_quite_long_field_name_for_the_unique_pair")}},
                        }},
                    ),
                ]
        """,
        "0002_alter": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                dependencies = [("longnames", "0001_initial")]
                operations = [
                    migrations.AlterField("{LONG_MODEL.lower()}", "another_quite_long_field_name_for_the_unique_pair", models.IntegerField(unique=True)),
                    migrations.AlterField("target", "{LONG_FIELD}", models.CharField(max_length=20, unique=True)),
                    migrations.AddField("{LONG_MODEL.lower()}", "yet_another_positive_number_with_a_long_name", models.PositiveIntegerField(default=1)),
                ]
        """,
    },
    steps=[None, "0001_initial"],
    accept=(SQLITE_COLUMN_ORDER,),
)


LONG_TABLE = History(
    name="long_default_table_name",
    app="longtable",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "AModelNameSoLongThatItsDefaultTableNameIsCutByTheDatabase",
                        fields=[{ID}, ("label", models.CharField(max_length=10, db_index=True))],
                    ),
                ]
        """,
    },
)


POSTGRES_INDEXES = History(
    name="postgresql_index_options",
    app="pgidx",
    vendors=("postgresql",),
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Doc",
                        fields=[
                            {ID},
                            ("title", models.CharField(max_length=100)),
                            ("body", models.TextField()),
                            ("rank", models.IntegerField()),
                            ("owner", models.IntegerField(null=True)),
                        ],
                        options={{
                            "indexes": [
                                models.Index(fields=["title"], name="doc_title_ops", opclasses=["varchar_pattern_ops"]),
                                models.Index(fields=["rank"], include=["title"], name="doc_rank_incl"),
                            ],
                            "constraints": [
                                models.UniqueConstraint(fields=["title"], include=["rank"], name="doc_title_uniq_incl"),
                                models.UniqueConstraint(fields=["owner"], nulls_distinct=False, name="doc_owner_nnd"),
                            ],
                        }},
                    ),
                ]
        """,
        "0002_change": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("pgidx", "0001_initial")]
                operations = [
                    migrations.RemoveConstraint("doc", "doc_owner_nnd"),
                    migrations.AlterField("doc", "title", models.TextField(db_index=True)),
                    migrations.AlterField("doc", "body", models.CharField(max_length=200, unique=True)),
                    migrations.AddIndex("doc", models.Index(condition=models.Q(owner__isnull=False), fields=["-rank", "owner"], include=["body"], name="doc_partial_incl")),
                    migrations.RenameIndex("doc", new_name="doc_title_pattern", old_name="doc_title_ops"),
                ]
        """,
    },
    steps=[None, "0001_initial"],
)


POSTGRES_DEFERRABLE = History(
    name="postgresql_deferrable_unique",
    app="pgdefer",
    vendors=("postgresql",),
    requires=("models.Deferrable",),
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Slot",
                        fields=[{ID}, ("pos", models.IntegerField()), ("alt", models.IntegerField())],
                        options={{
                            "constraints": [
                                models.UniqueConstraint(fields=["pos"], deferrable=models.Deferrable.DEFERRED, name="slot_pos_deferred"),
                            ],
                        }},
                    ),
                    migrations.AddConstraint(
                        "slot",
                        models.UniqueConstraint(fields=["alt"], deferrable=models.Deferrable.IMMEDIATE, name="slot_alt_immediate"),
                    ),
                ]
        """,
    },
)


RENAMES = History(
    name="renames",
    app="ren",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Shelf",
                        fields=[{ID}, ("label", models.CharField(max_length=20, unique=True))],
                        options={{"db_table": "fixed_shelf"}},
                    ),
                    migrations.CreateModel(
                        "Tag",
                        fields=[{ID}, ("word", models.SlugField())],
                    ),
                    migrations.CreateModel(
                        "Item",
                        fields=[
                            {ID},
                            ("code", models.CharField(max_length=20, db_index=True)),
                            ("serial", models.CharField(max_length=20, unique=True)),
                            ("size", models.IntegerField()),
                            ("colour", models.CharField(max_length=10)),
                            ("shelf", models.ForeignKey(on_delete=models.CASCADE, to="ren.shelf", to_field="label")),
                        ],
                        options={{
                            "unique_together": {{("size", "colour")}},
                            "indexes": [models.Index(fields=["colour", "-id"], name="item_colour_id")],
                            "constraints": [models.CheckConstraint(condition=~models.Q(colour=""), name="item_colour_set")],
                        }},
                    ),
                    migrations.CreateModel(
                        "Tagging",
                        fields=[
                            {ID},
                            ("item", models.ForeignKey(on_delete=models.CASCADE, to="ren.item")),
                            ("tag", models.ForeignKey(on_delete=models.CASCADE, to="ren.tag")),
                        ],
                    ),
                    migrations.AddField("item", "tags", models.ManyToManyField(through="ren.Tagging", to="ren.tag")),
                ]
        """,
        "0002_rename": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("ren", "0001_initial")]
                operations = [
                    migrations.RenameField("item", "size", "dimension"),
                    migrations.RenameField("item", "code", "ref"),
                    migrations.RenameField("item", "serial", "serial_no"),
                    migrations.RenameModel("Shelf", "Rack"),
                    migrations.RenameModel("Tag", "Label"),
                    migrations.RenameField("rack", "label", "name"),
                ]
        """,
        "0003_like_indexes": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("ren", "0002_rename")]
                operations = [
                    migrations.AlterField("item", "ref", models.CharField(db_index=True, max_length=40)),
                    migrations.AlterField("item", "serial_no", models.CharField(max_length=60, unique=True)),
                    migrations.AlterField("item", "colour", models.CharField(max_length=10, unique=True)),
                    migrations.AlterField("label", "word", models.SlugField(db_index=False)),
                ]
        """,
    },
    steps=[None, "0002_rename", "0001_initial"],
    accept=(SQLITE_COLUMN_ORDER,),
)

HISTORIES = [LONG_NAMES, LONG_TABLE, POSTGRES_INDEXES, POSTGRES_DEFERRABLE, RENAMES]
