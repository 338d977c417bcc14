"""Parity histories about models, indexes, constraints and raw SQL: CreateModel,
DeleteModel, RenameModel, AlterModelTable, AlterModelTableComment,
AlterUniqueTogether, AlterModelOptions, AlterModelManagers, AddIndex,
RemoveIndex, RenameIndex, AddConstraint, RemoveConstraint, RunSQL,
SeparateDatabaseAndState, AlterOrderWithRespectTo.
"""

from __future__ import annotations

from .harness import SQLITE_COLUMN_ORDER, History

ID = '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))'


MODEL_OPERATIONS = History(
    name="model_operations",
    app="modelops",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Author", fields=[{ID}, ("name", models.CharField(max_length=40, db_index=True))]),
                    migrations.CreateModel("Publisher", fields=[{ID}, ("name", models.CharField(max_length=40))]),
                    migrations.CreateModel(
                        "Book",
                        fields=[
                            {ID},
                            ("title", models.CharField(max_length=80)),
                            ("author", models.ForeignKey(on_delete=models.CASCADE, to="modelops.author")),
                            ("publisher", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="modelops.publisher")),
                            ("coauthors", models.ManyToManyField(related_name="coauthored", to="modelops.author")),
                        ],
                        options={{"ordering": ["title"], "unique_together": {{("title", "author")}}}},
                    ),
                    migrations.AddField("author", "friends", models.ManyToManyField(to="modelops.author")),
                    migrations.AddField("author", "mentor", models.ForeignKey(null=True, on_delete=models.SET_NULL, to="modelops.author")),
                    migrations.AddField("author", "houses", models.ManyToManyField(related_name="authors", to="modelops.publisher")),
                    migrations.CreateModel("Scrap", fields=[{ID}, ("tags", models.ManyToManyField(to="modelops.publisher"))]),
                ]
        """,
        "0002_rename": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("modelops", "0001_initial")]
                operations = [
                    migrations.RenameModel("Author", "Writer"),
                    migrations.AlterModelOptions("book", {"ordering": ["-title"], "verbose_name": "volume"}),
                    migrations.AlterModelManagers("book", []),
                ]
        """,
        "0003_tables": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("modelops", "0002_rename")]
                operations = [
                    migrations.AlterModelTable("publisher", "pubs"),
                    migrations.AlterModelTable("book", "library_books"),
                    migrations.AlterModelTableComment("book", "All the books"),
                    migrations.AlterModelTableComment("writer", "People who write"),
                ]
        """,
        "0004_comments": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("modelops", "0003_tables")]
                operations = [
                    migrations.AlterModelTableComment("writer", None),
                    migrations.AlterModelTableComment("book", "Books, all of them"),
                    migrations.AlterModelTable("publisher", None),
                ]
        """,
        "0005_delete": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("modelops", "0004_comments")]
                operations = [
                    migrations.DeleteModel("Scrap"),
                    migrations.RemoveField("book", "publisher"),
                    migrations.RemoveField("writer", "houses"),
                    migrations.DeleteModel("Publisher"),
                ]
        """,
    },
    steps=[None, "0003_tables", "0002_rename", "0001_initial"],
)


RENAME_IN_SAME_MIGRATION = History(
    name="rename_model_in_creating_migration",
    app="samemig",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Author", fields=[{ID}, ("name", models.CharField(max_length=20))]),
                    migrations.CreateModel(
                        "Book",
                        fields=[
                            {ID},
                            ("author", models.ForeignKey(on_delete=models.CASCADE, to="samemig.author")),
                            ("helpers", models.ManyToManyField(related_name="+", to="samemig.author")),
                        ],
                    ),
                    migrations.AddField("author", "friends", models.ManyToManyField(to="samemig.author")),
                    migrations.RenameModel("Author", "Writer"),
                    migrations.RenameField("book", "author", "writer"),
                ]
        """,
    },
)


INHERITANCE = History(
    name="inheritance_and_unmanaged",
    app="inh",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Place", fields=[{ID}, ("name", models.CharField(max_length=50))]),
                    migrations.CreateModel(
                        "Restaurant",
                        fields=[
                            (
                                "place_ptr",
                                models.OneToOneField(
                                    auto_created=True, on_delete=models.CASCADE, parent_link=True,
                                    primary_key=True, serialize=False, to="inh.place",
                                ),
                            ),
                            ("serves_pizza", models.BooleanField(default=False)),
                        ],
                        bases=("inh.place",),
                    ),
                    migrations.CreateModel(
                        "PlaceProxy",
                        fields=[],
                        options={{"proxy": True, "indexes": [], "constraints": []}},
                        bases=("inh.place",),
                    ),
                    migrations.CreateModel(
                        "Legacy",
                        fields=[("id", models.IntegerField(primary_key=True, serialize=False)), ("x", models.IntegerField())],
                        options={{"managed": False, "db_table": "legacy_table"}},
                    ),
                    migrations.CreateModel(
                        "Menu",
                        fields=[
                            {ID},
                            ("restaurant", models.ForeignKey(on_delete=models.CASCADE, to="inh.restaurant")),
                            ("dishes", models.ManyToManyField(to="inh.place")),
                        ],
                    ),
                ]
        """,
        "0002_change": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("inh", "0001_initial")]
                operations = [
                    migrations.AddField("restaurant", "seats", models.PositiveSmallIntegerField(null=True)),
                    migrations.AlterModelOptions("legacy", {"managed": False, "ordering": ["x"]}),
                    migrations.DeleteModel("PlaceProxy"),
                    migrations.DeleteModel("Legacy"),
                ]
        """,
    },
    steps=[None, "0001_initial"],
    accept=(SQLITE_COLUMN_ORDER,),
)


INDEXES = History(
    name="indexes",
    app="idx",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Article",
                        fields=[
                            {ID},
                            ("title", models.CharField(max_length=100)),
                            ("body", models.TextField()),
                            ("pub_date", models.DateTimeField()),
                            ("rank", models.IntegerField()),
                            ("status", models.CharField(max_length=10)),
                        ],
                        options={{
                            "indexes": [
                                models.Index(fields=["title"], name="art_title_idx"),
                                models.Index(fields=["-pub_date", "rank"], name="art_date_rank_idx"),
                            ],
                        }},
                    ),
                ]
        """,
        "0002_add": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("idx", "0001_initial")]
                operations = [
                    migrations.AddIndex("article", models.Index(condition=models.Q(rank__gt=0), fields=["status"], name="art_live_status_idx")),
                    migrations.AddIndex("article", models.Index(fields=["status", "-rank", "title"], name="art_srt_idx")),
                ]
        """,
        "0003_change": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("idx", "0002_add")]
                operations = [
                    migrations.RemoveIndex("article", "art_title_idx"),
                    migrations.RenameIndex("article", new_name="art_dr_idx", old_name="art_date_rank_idx"),
                    migrations.RenameIndex("article", new_name="art_live_idx", old_name="art_live_status_idx"),
                    migrations.AddField("article", "slug", models.SlugField(null=True)),
                ]
        """,
    },
    steps=[None, "0002_add", "0001_initial"],
)


CONSTRAINTS = History(
    name="constraints",
    app="cons",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel(
                        "Booking",
                        fields=[
                            {ID},
                            ("room", models.IntegerField()),
                            ("start", models.DateField()),
                            ("end", models.DateField()),
                            ("guests", models.IntegerField()),
                            ("active", models.BooleanField(default=True)),
                            ("code", models.CharField(max_length=8)),
                            ("kind", models.CharField(max_length=1)),
                            ("note", models.TextField(null=True)),
                        ],
                        options={{
                            "unique_together": {{("room", "code")}},
                            "constraints": [
                                models.UniqueConstraint(fields=("room", "start"), name="uniq_room_start"),
                                models.CheckConstraint(condition=models.Q(guests__gte=1), name="guests_gte_1"),
                            ],
                        }},
                    ),
                ]
        """,
        "0002_add": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("cons", "0001_initial")]
                operations = [
                    migrations.AddConstraint("booking", models.UniqueConstraint(condition=models.Q(active=True), fields=("code",), name="uniq_active_code")),
                    migrations.AddConstraint("booking", models.CheckConstraint(condition=models.Q(start__lte=models.F("end")), name="start_before_end")),
                    migrations.AddConstraint(
                        "booking",
                        models.CheckConstraint(
                            condition=models.Q(kind__in=["a", "b"]) | models.Q(guests__lt=10, room__gt=0),
                            name="kind_or_small",
                        ),
                    ),
                    migrations.AddConstraint("booking", models.UniqueConstraint(fields=("room", "guests", "code"), name="uniq_rgc")),
                    migrations.AddConstraint(
                        "booking",
                        models.CheckConstraint(
                            condition=models.Q(room__range=(1, 500)) & ~models.Q(code="") & models.Q(guests__lte=models.F("room") * 4),
                            name="assorted_lookups",
                        ),
                    ),
                    migrations.AddConstraint(
                        "booking",
                        models.CheckConstraint(condition=models.Q(note__isnull=True) | models.Q(active=False), name="note_only_inactive"),
                    ),
                    migrations.AlterUniqueTogether("booking", {("room", "guests"), ("start", "end")}),
                ]
        """,
        "0003_remove": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("cons", "0002_add")]
                operations = [
                    migrations.RemoveConstraint("booking", "uniq_room_start"),
                    migrations.RemoveConstraint("booking", "guests_gte_1"),
                    migrations.RemoveConstraint("booking", "uniq_active_code"),
                    migrations.AlterUniqueTogether("booking", {("start", "end")}),
                ]
        """,
        "0004_none": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("cons", "0003_remove")]
                operations = [
                    migrations.AlterUniqueTogether("booking", set()),
                ]
        """,
    },
    steps=[None, "0002_add", "0001_initial"],
)


RAW_SQL = History(
    name="run_sql",
    app="rawsql",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Note", fields=[{ID}, ("text", models.CharField(max_length=50))]),
                    migrations.RunSQL(
                        "CREATE TABLE rawsql_extra (id integer NOT NULL PRIMARY KEY, note varchar(20) NULL)",
                        reverse_sql="DROP TABLE rawsql_extra",
                    ),
                    migrations.RunSQL(
                        ["CREATE INDEX rawsql_note_text_manual ON rawsql_note (text)"],
                        reverse_sql=["DROP INDEX rawsql_note_text_manual{{ON_NOTE}}"],
                        hints={{"note": "index"}},
                    ),
                    migrations.RunSQL(
                        sql="CREATE TABLE rawsql_handmade (id integer NOT NULL PRIMARY KEY, label varchar(30) NOT NULL)",
                        reverse_sql="DROP TABLE rawsql_handmade",
                        state_operations=[
                            migrations.CreateModel(
                                "Handmade",
                                fields=[
                                    ("id", models.IntegerField(primary_key=True, serialize=False)),
                                    ("label", models.CharField(max_length=30)),
                                ],
                            ),
                        ],
                    ),
                    migrations.SeparateDatabaseAndState(
                        database_operations=[
                            migrations.RunSQL("CREATE TABLE rawsql_other (id integer NOT NULL PRIMARY KEY)", "DROP TABLE rawsql_other"),
                        ],
                        state_operations=[
                            migrations.CreateModel("Other", fields=[("id", models.IntegerField(primary_key=True, serialize=False))]),
                        ],
                    ),
                ]
        """,
        "0002_build_on": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("rawsql", "0001_initial")]
                operations = [
                    migrations.AddField("handmade", "note", models.ForeignKey(null=True, on_delete=models.CASCADE, to="rawsql.note")),
                    migrations.AddField("other", "size", models.IntegerField(null=True)),
                    migrations.RunSQL(migrations.RunSQL.noop, migrations.RunSQL.noop),
                ]
        """,
    },
    steps=[None, "0001_initial", "zero"],
    substitutions={"ON_NOTE": {"mysql": " ON rawsql_note", "*": ""}},
)


ORDER_WITH_RESPECT_TO = History(
    name="order_with_respect_to",
    app="owrt",
    migrations={
        "0001_initial": f"""
            {{IMPORT}}


            class Migration(migrations.Migration):
                initial = True
                dependencies = []
                operations = [
                    migrations.CreateModel("Question", fields=[{ID}, ("text", models.CharField(max_length=50))]),
                    migrations.CreateModel(
                        "Answer",
                        fields=[
                            {ID},
                            ("question", models.ForeignKey(on_delete=models.CASCADE, to="owrt.question")),
                        ],
                        options={{"order_with_respect_to": "question"}},
                    ),
                    migrations.CreateModel(
                        "Choice",
                        fields=[
                            {ID},
                            ("question", models.ForeignKey(on_delete=models.CASCADE, to="owrt.question")),
                        ],
                    ),
                ]
        """,
        "0002_order": """
            {IMPORT}


            class Migration(migrations.Migration):
                dependencies = [("owrt", "0001_initial")]
                operations = [
                    migrations.AlterOrderWithRespectTo("choice", "question"),
                    migrations.AlterOrderWithRespectTo("answer", None),
                ]
        """,
    },
    steps=[None, "0001_initial"],
    requires=("migrations.AlterOrderWithRespectTo",),
    accept=(SQLITE_COLUMN_ORDER,),
)

HISTORIES = [MODEL_OPERATIONS, RENAME_IN_SAME_MIGRATION, INHERITANCE, INDEXES, CONSTRAINTS, RAW_SQL, ORDER_WITH_RESPECT_TO]
