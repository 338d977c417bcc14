"""Exact SQL the schema editors collect per backend, with no database server.

``connection.schema_editor(collect_sql=True)`` is what ``sqlmigrate`` uses: it
must never connect (the SQLite path below does not even exist, the servers
are unreachable), and it must produce exactly these statements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shoal import models
from shoal.db.connections import create_connection
from shoal.migrations.state import ModelState, ProjectState

URLS = {
    "sqlite": "sqlite:////nonexistent/shoal/dir/db.sqlite3",
    "postgresql": "postgresql://nobody@192.0.2.1:5432/nowhere",
    "mysql": "mysql://nobody@192.0.2.1:3306/nowhere",
}
VENDORS = list(URLS)


def auto(cls: type = models.BigAutoField) -> Any:
    return cls(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")


def library(unique_together: bool = True) -> ProjectState:
    state = ProjectState()
    state.add_model(
        ModelState(
            "authors",
            "Author",
            [
                ("id", auto()),
                ("name", models.CharField(max_length=100, unique=True)),
                ("age", models.PositiveIntegerField(null=True)),
            ],
        )
    )
    options: dict[str, Any] = {"db_table_comment": "Books"}
    if unique_together:
        options["unique_together"] = {("title", "author")}
    state.add_model(
        ModelState(
            "books",
            "Book",
            [
                ("id", auto()),
                ("title", models.CharField(max_length=200, db_index=True, db_comment="Title")),
                ("author", models.ForeignKey("authors.author", on_delete=models.CASCADE)),
                ("readers", models.ManyToManyField("authors.author", related_name="+")),
            ],
            options,
        )
    )
    return state


def changed(state: ProjectState, app: str, model: str, **fields: Any) -> ProjectState:
    new = state.clone()

    def change(m: ModelState) -> None:
        for name, field in fields.items():
            if field is None:
                del m.fields[name]
            else:
                field.set_attributes_from_name(name)
                m.fields[name] = field

    new.update_model(app, model, change)
    return new


def collect(url: str, fn: Callable[[Any], None]) -> Any:
    conn = create_connection("default", url)
    with conn.schema_editor(collect_sql=True) as editor:
        fn(editor)
    assert not conn.connected
    return editor


def steps(*changes: tuple[ProjectState, ProjectState, str, str, str, str]) -> Callable[[Any], None]:
    """Run alter_field for each (old state, new state, app, model, old name, new name)."""

    def run(ed: Any) -> None:
        for old, new, app, model, old_name, new_name in changes:
            om, nm = old.get_model(app, model), new.get_model(app, model)
            ed.alter_field(old, om, om.get_field(old_name), new, nm, nm.get_field(new_name))

    return run


def sc_create(ed: Any) -> None:
    state = library()
    ed.create_model(state, state.get_model("authors", "author"))
    ed.create_model(state, state.get_model("books", "book"))


def sc_add(ed: Any) -> None:
    s0 = library()
    s1 = changed(s0, "books", "book", isbn=models.CharField(max_length=13, null=True))
    s2 = changed(s1, "books", "book", pages=models.IntegerField(default=0))
    s3 = changed(
        s2, "books", "book", editor=models.ForeignKey("authors.author", models.SET_NULL, null=True, related_name="+")
    )
    for state, name in ((s1, "isbn"), (s2, "pages"), (s3, "editor")):
        model = state.get_model("books", "book")
        ed.add_field(state, model, model.get_field(name))


def sc_remove(ed: Any) -> None:
    s0 = library(unique_together=False)
    s1 = changed(s0, "books", "book", author=None)
    s2 = changed(s1, "books", "book", readers=None)
    for state, name in ((s0, "author"), (s1, "readers"), (s2, "title")):
        model = state.get_model("books", "book")
        ed.remove_field(state, model, model.get_field(name))


def sc_alter(ed: Any) -> None:
    s0 = library()
    s1 = changed(s0, "authors", "author", age=models.PositiveIntegerField(default=18))
    s2 = changed(s1, "authors", "author", name=models.CharField(max_length=150, unique=True))
    steps((s0, s1, "authors", "author", "age", "age"), (s1, s2, "authors", "author", "name", "name"))(ed)


def sc_rename(ed: Any) -> None:
    s0 = library()
    s1 = changed(s0, "books", "book", title=None)
    s1 = changed(s1, "books", "book", heading=models.CharField(max_length=200, db_index=True, db_comment="Title"))
    s1.update_model("books", "book", lambda m: m.options.__setitem__("unique_together", {("heading", "author")}))
    steps((s0, s1, "books", "book", "title", "heading"))(ed)


def sc_retarget(ed: Any) -> None:
    s0 = library(unique_together=False)
    s1 = changed(s0, "books", "book", title=models.TextField())
    s2 = changed(
        s1,
        "books",
        "book",
        author=models.ForeignKey("books.book", models.CASCADE, related_name="+", db_column="author_id"),
    )
    steps((s0, s1, "books", "book", "title", "title"), (s1, s2, "books", "book", "author", "author"))(ed)


def sc_drop_check_and_identity(ed: Any) -> None:
    s0 = library()
    s1 = changed(s0, "authors", "author", age=models.IntegerField(null=True))
    s2 = changed(s1, "authors", "author", id=models.BigIntegerField(primary_key=True))
    steps((s0, s1, "authors", "author", "age", "age"), (s1, s2, "authors", "author", "id", "id"))(ed)


def sc_tables(ed: Any) -> None:
    s0 = library()
    s1 = s0.clone()
    s1.rename_model("authors", "Author", "Writer")
    ed.rename_model(s0, s0.get_model("authors", "author"), s1, s1.get_model("authors", "writer"))
    book = s1.get_model("books", "book")
    ed.alter_unique_together(s1, book, {("title", "author")}, {("author", "title")})
    ed.delete_model(s1, book)


def sc_meta(ed: Any) -> None:
    state = ProjectState()
    unique = models.UniqueConstraint(fields=["code", "shelf"], name="item_code_shelf_uniq")
    shelved = models.UniqueConstraint(fields=["code"], name="item_code_shelved_uniq", condition=models.Q(shelf__gt=0))
    check = models.CheckConstraint(condition=models.Q(qty__gte=0) | models.Q(code="x'y"), name="item_qty_gte_0")
    stocked = models.UniqueConstraint(fields=["code"], name="item_code_stocked_uniq", condition=models.Q(qty__gt=0))
    state.add_model(
        ModelState(
            "shop",
            "Item",
            [
                ("id", auto()),
                ("code", models.CharField(max_length=20)),
                ("qty", models.IntegerField()),
                ("shelf", models.IntegerField(null=True)),
            ],
            {
                "indexes": [models.Index(fields=["-qty", "code"], name="item_qty_code_idx")],
                "constraints": [unique, shelved, check, stocked],
            },
        )
    )
    item = state.get_model("shop", "item")
    ed.create_model(state, item)
    old = models.Index(fields=["shelf"], name="item_shelf_idx", opclasses=["int4_ops"])
    ed.add_index(state, item, old)
    ed.rename_index(state, item, old, models.Index(fields=["shelf"], name="item_shelf_2_idx", opclasses=["int4_ops"]))
    ed.remove_constraint(state, item, shelved)


SCENARIOS = {
    "create": sc_create,
    "add": sc_add,
    "remove": sc_remove,
    "alter": sc_alter,
    "rename": sc_rename,
    "retarget": sc_retarget,
    "drop_check_and_identity": sc_drop_check_and_identity,
    "tables": sc_tables,
    "meta": sc_meta,
}

EXPECTED: dict[tuple[str, str], list[str]] = {
    ("meta", "sqlite"): [
        'CREATE TABLE "shop_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "code" varchar(20) NOT NULL, "qty" integer NOT NULL, "shelf" integer NULL, CONSTRAINT "item_code_shelf_uniq" UNIQUE ("code", "shelf"), CONSTRAINT "item_qty_gte_0" CHECK (("qty" >= 0 OR "code" = \'x\'\'y\')));',
        'CREATE INDEX "item_shelf_idx" ON "shop_item" ("shelf");',
        'DROP INDEX "item_shelf_idx";',
        'CREATE INDEX "item_shelf_2_idx" ON "shop_item" ("shelf");',
        'CREATE UNIQUE INDEX "item_code_stocked_uniq" ON "shop_item" ("code") WHERE "qty" > 0;',
        'CREATE INDEX "item_qty_code_idx" ON "shop_item" ("qty" DESC, "code");',
    ],
    ("meta", "postgresql"): [
        'CREATE TABLE "shop_item" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "code" varchar(20) NOT NULL, "qty" integer NOT NULL, "shelf" integer NULL, CONSTRAINT "item_code_shelf_uniq" UNIQUE ("code", "shelf"), CONSTRAINT "item_qty_gte_0" CHECK (("qty" >= 0 OR "code" = \'x\'\'y\')));',
        'CREATE INDEX "item_shelf_idx" ON "shop_item" ("shelf" int4_ops);',
        'ALTER INDEX "item_shelf_idx" RENAME TO "item_shelf_2_idx";',
        'CREATE UNIQUE INDEX "item_code_stocked_uniq" ON "shop_item" ("code") WHERE "qty" > 0;',
        'CREATE INDEX "item_qty_code_idx" ON "shop_item" ("qty" DESC, "code");',
    ],
    ("meta", "mysql"): [
        "CREATE TABLE `shop_item` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `code` varchar(20) NOT NULL, `qty` integer NOT NULL, `shelf` integer, CONSTRAINT `item_code_shelf_uniq` UNIQUE (`code`, `shelf`), CONSTRAINT `item_qty_gte_0` CHECK ((`qty` >= 0 OR `code` = 'x''y')));",
        "CREATE INDEX `item_shelf_idx` ON `shop_item` (`shelf`);",
        "ALTER TABLE `shop_item` RENAME INDEX `item_shelf_idx` TO `item_shelf_2_idx`;",
        "CREATE INDEX `item_qty_code_idx` ON `shop_item` (`qty` DESC, `code`);",
    ],
    ("create", "sqlite"): [
        'CREATE TABLE "authors_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL UNIQUE, "age" integer unsigned NULL CHECK ("age" >= 0));',
        'CREATE TABLE "books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "author_id" bigint NOT NULL REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED);',
        'CREATE TABLE "books_book_readers" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" bigint NOT NULL REFERENCES "books_book" ("id") DEFERRABLE INITIALLY DEFERRED, "author_id" bigint NOT NULL REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED);',
        'CREATE UNIQUE INDEX "books_book_title_author_id_9cf77801_uniq" ON "books_book" ("title", "author_id");',
        'CREATE INDEX "books_book_title_be31d1ef" ON "books_book" ("title");',
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
        'CREATE UNIQUE INDEX "books_book_readers_book_id_author_id_a280f415_uniq" ON "books_book_readers" ("book_id", "author_id");',
        'CREATE INDEX "books_book_readers_book_id_2c3eaf52" ON "books_book_readers" ("book_id");',
        'CREATE INDEX "books_book_readers_author_id_3def3d08" ON "books_book_readers" ("author_id");',
    ],
    ("create", "postgresql"): [
        'CREATE TABLE "authors_author" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "name" varchar(100) NOT NULL UNIQUE, "age" integer NULL CHECK ("age" >= 0));',
        'CREATE TABLE "books_book" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "title" varchar(200) NOT NULL, "author_id" bigint NOT NULL);',
        "COMMENT ON TABLE \"books_book\" IS 'Books';",
        'COMMENT ON COLUMN "books_book"."title" IS \'Title\';',
        'CREATE TABLE "books_book_readers" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "book_id" bigint NOT NULL, "author_id" bigint NOT NULL);',
        'CREATE INDEX "authors_author_name_9c4ae7b3_like" ON "authors_author" ("name" varchar_pattern_ops);',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_title_author_id_9cf77801_uniq" UNIQUE ("title", "author_id");',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_author_id_8b91747b_fk_authors_author_id" FOREIGN KEY ("author_id") REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'CREATE INDEX "books_book_title_be31d1ef" ON "books_book" ("title");',
        'CREATE INDEX "books_book_title_be31d1ef_like" ON "books_book" ("title" varchar_pattern_ops);',
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
        'ALTER TABLE "books_book_readers" ADD CONSTRAINT "books_book_readers_book_id_author_id_a280f415_uniq" UNIQUE ("book_id", "author_id");',
        'ALTER TABLE "books_book_readers" ADD CONSTRAINT "books_book_readers_book_id_2c3eaf52_fk_books_book_id" FOREIGN KEY ("book_id") REFERENCES "books_book" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'ALTER TABLE "books_book_readers" ADD CONSTRAINT "books_book_readers_author_id_3def3d08_fk_authors_author_id" FOREIGN KEY ("author_id") REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'CREATE INDEX "books_book_readers_book_id_2c3eaf52" ON "books_book_readers" ("book_id");',
        'CREATE INDEX "books_book_readers_author_id_3def3d08" ON "books_book_readers" ("author_id");',
    ],
    ("create", "mysql"): [
        "CREATE TABLE `authors_author` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` varchar(100) NOT NULL UNIQUE, `age` integer UNSIGNED CHECK (`age` >= 0));",
        "CREATE TABLE `books_book` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `title` varchar(200) COMMENT 'Title' NOT NULL, `author_id` bigint NOT NULL);",
        "ALTER TABLE `books_book` COMMENT = 'Books';",
        "CREATE TABLE `books_book_readers` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `book_id` bigint NOT NULL, `author_id` bigint NOT NULL);",
        "ALTER TABLE `books_book` ADD CONSTRAINT `books_book_title_author_id_9cf77801_uniq` UNIQUE (`title`, `author_id`);",
        "ALTER TABLE `books_book` ADD CONSTRAINT `books_book_author_id_8b91747b_fk_authors_author_id` FOREIGN KEY (`author_id`) REFERENCES `authors_author` (`id`);",
        "CREATE INDEX `books_book_title_be31d1ef` ON `books_book` (`title`);",
        "ALTER TABLE `books_book_readers` ADD CONSTRAINT `books_book_readers_book_id_author_id_a280f415_uniq` UNIQUE (`book_id`, `author_id`);",
        "ALTER TABLE `books_book_readers` ADD CONSTRAINT `books_book_readers_book_id_2c3eaf52_fk_books_book_id` FOREIGN KEY (`book_id`) REFERENCES `books_book` (`id`);",
        "ALTER TABLE `books_book_readers` ADD CONSTRAINT `books_book_readers_author_id_3def3d08_fk_authors_author_id` FOREIGN KEY (`author_id`) REFERENCES `authors_author` (`id`);",
    ],
    ("add", "sqlite"): [
        'ALTER TABLE "books_book" ADD COLUMN "isbn" varchar(13) NULL;',
        'CREATE TABLE "new__books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "author_id" bigint NOT NULL REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED, "isbn" varchar(13) NULL, "pages" integer NOT NULL);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book', seq FROM sqlite_sequence WHERE name = 'books_book';",
        'INSERT INTO "new__books_book" ("id", "title", "author_id", "isbn", "pages") SELECT "id", "title", "author_id", "isbn", 0 FROM "books_book";',
        'DROP TABLE "books_book";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__books_book" RENAME TO "books_book";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE UNIQUE INDEX "books_book_title_author_id_9cf77801_uniq" ON "books_book" ("title", "author_id");',
        'CREATE INDEX "books_book_title_be31d1ef" ON "books_book" ("title");',
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
        'ALTER TABLE "books_book" ADD COLUMN "editor_id" bigint NULL REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'CREATE INDEX "books_book_editor_id_fcb63802" ON "books_book" ("editor_id");',
    ],
    ("add", "postgresql"): [
        'ALTER TABLE "books_book" ADD COLUMN "isbn" varchar(13) NULL;',
        'ALTER TABLE "books_book" ADD COLUMN "pages" integer DEFAULT 0 NOT NULL;',
        'ALTER TABLE "books_book" ALTER COLUMN "pages" DROP DEFAULT;',
        'ALTER TABLE "books_book" ADD COLUMN "editor_id" bigint NULL;',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_editor_id_fcb63802_fk_authors_author_id" FOREIGN KEY ("editor_id") REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'CREATE INDEX "books_book_editor_id_fcb63802" ON "books_book" ("editor_id");',
    ],
    ("add", "mysql"): [
        "ALTER TABLE `books_book` ADD COLUMN `isbn` varchar(13);",
        "ALTER TABLE `books_book` ADD COLUMN `pages` integer DEFAULT 0 NOT NULL;",
        "ALTER TABLE `books_book` ALTER COLUMN `pages` DROP DEFAULT;",
        "ALTER TABLE `books_book` ADD COLUMN `editor_id` bigint, ADD CONSTRAINT `books_book_editor_id_fcb63802_fk_authors_author_id` FOREIGN KEY (`editor_id`) REFERENCES `authors_author` (`id`);",
    ],
    ("remove", "sqlite"): [
        'CREATE TABLE "new__books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book', seq FROM sqlite_sequence WHERE name = 'books_book';",
        'INSERT INTO "new__books_book" ("id", "title") SELECT "id", "title" FROM "books_book";',
        'DROP TABLE "books_book";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__books_book" RENAME TO "books_book";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE INDEX "books_book_title_be31d1ef" ON "books_book" ("title");',
        'DROP TABLE "books_book_readers";',
        'DROP INDEX "books_book_title_be31d1ef";',
        'ALTER TABLE "books_book" DROP COLUMN "title";',
    ],
    ("remove", "postgresql"): [
        'SET CONSTRAINTS "books_book_author_id_8b91747b_fk_authors_author_id" IMMEDIATE;',
        'ALTER TABLE "books_book" DROP CONSTRAINT "books_book_author_id_8b91747b_fk_authors_author_id";',
        'ALTER TABLE "books_book" DROP COLUMN "author_id" CASCADE;',
        'DROP TABLE "books_book_readers" CASCADE;',
        'ALTER TABLE "books_book" DROP COLUMN "title" CASCADE;',
    ],
    ("remove", "mysql"): [
        "ALTER TABLE `books_book` DROP FOREIGN KEY `books_book_author_id_8b91747b_fk_authors_author_id`;",
        "ALTER TABLE `books_book` DROP COLUMN `author_id`;",
        "DROP TABLE `books_book_readers` CASCADE;",
        "ALTER TABLE `books_book` DROP COLUMN `title`;",
    ],
    ("alter", "sqlite"): [
        'CREATE TABLE "new__authors_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL UNIQUE, "age" integer unsigned NOT NULL CHECK ("age" >= 0));',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__authors_author', seq FROM sqlite_sequence WHERE name = 'authors_author';",
        'INSERT INTO "new__authors_author" ("id", "name", "age") SELECT "id", "name", coalesce("age", 18) FROM "authors_author";',
        'DROP TABLE "authors_author";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__authors_author" RENAME TO "authors_author";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE TABLE "new__authors_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE, "age" integer unsigned NOT NULL CHECK ("age" >= 0));',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__authors_author', seq FROM sqlite_sequence WHERE name = 'authors_author';",
        'INSERT INTO "new__authors_author" ("id", "age", "name") SELECT "id", "age", "name" FROM "authors_author";',
        'DROP TABLE "authors_author";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__authors_author" RENAME TO "authors_author";',
        "PRAGMA legacy_alter_table = OFF;",
    ],
    ("alter", "postgresql"): [
        'UPDATE "authors_author" SET "age" = 18 WHERE "age" IS NULL;',
        'ALTER TABLE "authors_author" ALTER COLUMN "age" SET NOT NULL;',
        'ALTER TABLE "authors_author" ALTER COLUMN "name" TYPE varchar(150);',
    ],
    ("alter", "mysql"): [
        "UPDATE `authors_author` SET `age` = 18 WHERE `age` IS NULL;",
        "ALTER TABLE `authors_author` MODIFY `age` integer UNSIGNED NOT NULL CHECK (`age` >= 0);",
        "ALTER TABLE `authors_author` MODIFY `name` varchar(150) NOT NULL;",
    ],
    ("rename", "sqlite"): [
        'ALTER TABLE "books_book" RENAME COLUMN "title" TO "heading";',
    ],
    ("rename", "postgresql"): [
        'ALTER TABLE "books_book" RENAME COLUMN "title" TO "heading";',
    ],
    ("rename", "mysql"): [
        "ALTER TABLE `books_book` RENAME COLUMN `title` TO `heading`;",
    ],
    ("retarget", "sqlite"): [
        'CREATE TABLE "new__books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" text NOT NULL, "author_id" bigint NOT NULL REFERENCES "authors_author" ("id") DEFERRABLE INITIALLY DEFERRED);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book', seq FROM sqlite_sequence WHERE name = 'books_book';",
        'INSERT INTO "new__books_book" ("id", "author_id", "title") SELECT "id", "author_id", "title" FROM "books_book";',
        'DROP TABLE "books_book";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__books_book" RENAME TO "books_book";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
        'CREATE TABLE "new__books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" text NOT NULL, "author_id" bigint NOT NULL REFERENCES "books_book" ("id") DEFERRABLE INITIALLY DEFERRED);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book', seq FROM sqlite_sequence WHERE name = 'books_book';",
        'INSERT INTO "new__books_book" ("id", "title", "author_id") SELECT "id", "title", "author_id" FROM "books_book";',
        'DROP TABLE "books_book";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__books_book" RENAME TO "books_book";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
    ],
    ("retarget", "postgresql"): [
        'DROP INDEX IF EXISTS "books_book_title_be31d1ef";',
        'DROP INDEX IF EXISTS "books_book_title_be31d1ef_like";',
        'ALTER TABLE "books_book" ALTER COLUMN "title" TYPE text USING "title"::text;',
        'COMMENT ON COLUMN "books_book"."title" IS NULL;',
        'SET CONSTRAINTS "books_book_author_id_8b91747b_fk_authors_author_id" IMMEDIATE;',
        'ALTER TABLE "books_book" DROP CONSTRAINT "books_book_author_id_8b91747b_fk_authors_author_id";',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_author_id_8b91747b_fk_books_book_id" FOREIGN KEY ("author_id") REFERENCES "books_book" ("id") DEFERRABLE INITIALLY DEFERRED;',
    ],
    ("retarget", "mysql"): [
        "DROP INDEX `books_book_title_be31d1ef` ON `books_book`;",
        "ALTER TABLE `books_book` MODIFY `title` longtext NOT NULL;",
        "ALTER TABLE `books_book` DROP FOREIGN KEY `books_book_author_id_8b91747b_fk_authors_author_id`;",
        "ALTER TABLE `books_book` ADD CONSTRAINT `books_book_author_id_8b91747b_fk_books_book_id` FOREIGN KEY (`author_id`) REFERENCES `books_book` (`id`);",
    ],
    ("drop_check_and_identity", "sqlite"): [
        'CREATE TABLE "new__authors_author" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL UNIQUE, "age" integer NULL);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__authors_author', seq FROM sqlite_sequence WHERE name = 'authors_author';",
        'INSERT INTO "new__authors_author" ("id", "name", "age") SELECT "id", "name", "age" FROM "authors_author";',
        'DROP TABLE "authors_author";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__authors_author" RENAME TO "authors_author";',
        "PRAGMA legacy_alter_table = OFF;",
        'CREATE TABLE "new__authors_author" ("id" bigint NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL UNIQUE, "age" integer NULL);',
        'INSERT INTO "new__authors_author" ("name", "age", "id") SELECT "name", "age", "id" FROM "authors_author";',
        'DROP TABLE "authors_author";',
        "PRAGMA legacy_alter_table = ON;",
        'ALTER TABLE "new__authors_author" RENAME TO "authors_author";',
        "PRAGMA legacy_alter_table = OFF;",
    ],
    ("drop_check_and_identity", "postgresql"): [
        'ALTER TABLE "authors_author" DROP CONSTRAINT "authors_author_age_check";',
        'ALTER TABLE "authors_author" ALTER COLUMN "id" DROP IDENTITY IF EXISTS;',
    ],
    ("drop_check_and_identity", "mysql"): [
        'ALTER TABLE `authors_author` MODIFY `age` integer;',
        'ALTER TABLE `books_book` DROP FOREIGN KEY `books_book_author_id_8b91747b_fk_authors_author_id`;',
        'ALTER TABLE `books_book_readers` DROP FOREIGN KEY `books_book_readers_author_id_3def3d08_fk_authors_author_id`;',
        'ALTER TABLE `authors_author` MODIFY `id` bigint NOT NULL;',
        'ALTER TABLE `books_book` ADD CONSTRAINT `books_book_author_id_8b91747b_fk` FOREIGN KEY (`author_id`) REFERENCES `authors_author` (`id`);',
        'ALTER TABLE `books_book_readers` ADD CONSTRAINT `books_book_readers_author_id_3def3d08_fk` FOREIGN KEY (`author_id`) REFERENCES `authors_author` (`id`);',
    ],
    ("tables", "sqlite"): [
        'ALTER TABLE "authors_author" RENAME TO "authors_writer";',
        'CREATE TABLE "new__books_book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "title" varchar(200) NOT NULL, "author_id" bigint NOT NULL REFERENCES "authors_writer" ("id") DEFERRABLE INITIALLY DEFERRED);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book', seq FROM sqlite_sequence WHERE name = 'books_book';",
        'INSERT INTO "new__books_book" ("id", "title", "author_id") SELECT "id", "title", "author_id" FROM "books_book";',
        'DROP TABLE "books_book";',
        'PRAGMA legacy_alter_table = ON;',
        'ALTER TABLE "new__books_book" RENAME TO "books_book";',
        'PRAGMA legacy_alter_table = OFF;',
        'CREATE UNIQUE INDEX "books_book_title_author_id_9cf77801_uniq" ON "books_book" ("title", "author_id");',
        'CREATE INDEX "books_book_title_be31d1ef" ON "books_book" ("title");',
        'CREATE INDEX "books_book_author_id_8b91747b" ON "books_book" ("author_id");',
        'CREATE TABLE "new__books_book_readers" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "book_id" bigint NOT NULL REFERENCES "books_book" ("id") DEFERRABLE INITIALLY DEFERRED, "writer_id" bigint NOT NULL REFERENCES "authors_writer" ("id") DEFERRABLE INITIALLY DEFERRED);',
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__books_book_readers', seq FROM sqlite_sequence WHERE name = 'books_book_readers';",
        'INSERT INTO "new__books_book_readers" ("id", "book_id", "writer_id") SELECT "id", "book_id", "author_id" FROM "books_book_readers";',
        'DROP TABLE "books_book_readers";',
        'PRAGMA legacy_alter_table = ON;',
        'ALTER TABLE "new__books_book_readers" RENAME TO "books_book_readers";',
        'PRAGMA legacy_alter_table = OFF;',
        'CREATE UNIQUE INDEX "books_book_readers_book_id_writer_id_ec01cec8_uniq" ON "books_book_readers" ("book_id", "writer_id");',
        'CREATE INDEX "books_book_readers_book_id_2c3eaf52" ON "books_book_readers" ("book_id");',
        'CREATE INDEX "books_book_readers_writer_id_6a8a50ea" ON "books_book_readers" ("writer_id");',
        'DROP INDEX "books_book_title_author_id_9cf77801_uniq";',
        'CREATE UNIQUE INDEX "books_book_author_id_title_e2e8dbed_uniq" ON "books_book" ("author_id", "title");',
        'DROP TABLE "books_book_readers";',
        'DROP TABLE "books_book";',
    ],
    ("tables", "postgresql"): [
        'ALTER TABLE "authors_author" RENAME TO "authors_writer";',
        'SET CONSTRAINTS "books_book_author_id_8b91747b_fk_authors_author_id" IMMEDIATE;',
        'ALTER TABLE "books_book" DROP CONSTRAINT "books_book_author_id_8b91747b_fk_authors_author_id";',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_author_id_8b91747b_fk_authors_writer_id" FOREIGN KEY ("author_id") REFERENCES "authors_writer" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'SET CONSTRAINTS "books_book_readers_author_id_3def3d08_fk_authors_author_id" IMMEDIATE;',
        'ALTER TABLE "books_book_readers" DROP CONSTRAINT "books_book_readers_author_id_3def3d08_fk_authors_author_id";',
        'ALTER TABLE "books_book_readers" RENAME COLUMN "author_id" TO "writer_id";',
        'ALTER TABLE "books_book_readers" ADD CONSTRAINT "books_book_readers_writer_id_6a8a50ea_fk_authors_writer_id" FOREIGN KEY ("writer_id") REFERENCES "authors_writer" ("id") DEFERRABLE INITIALLY DEFERRED;',
        'ALTER TABLE "books_book" DROP CONSTRAINT "books_book_title_author_id_9cf77801_uniq";',
        'ALTER TABLE "books_book" ADD CONSTRAINT "books_book_author_id_title_e2e8dbed_uniq" UNIQUE ("author_id", "title");',
        'DROP TABLE "books_book_readers" CASCADE;',
        'DROP TABLE "books_book" CASCADE;',
    ],
    ("tables", "mysql"): [
        'RENAME TABLE `authors_author` TO `authors_writer`;',
        'ALTER TABLE `books_book` DROP FOREIGN KEY `books_book_author_id_8b91747b_fk_authors_author_id`;',
        'ALTER TABLE `books_book` ADD CONSTRAINT `books_book_author_id_8b91747b_fk_authors_writer_id` FOREIGN KEY (`author_id`) REFERENCES `authors_writer` (`id`);',
        'ALTER TABLE `books_book_readers` DROP FOREIGN KEY `books_book_readers_author_id_3def3d08_fk_authors_author_id`;',
        'ALTER TABLE `books_book_readers` RENAME COLUMN `author_id` TO `writer_id`;',
        'ALTER TABLE `books_book_readers` ADD CONSTRAINT `books_book_readers_writer_id_6a8a50ea_fk_authors_writer_id` FOREIGN KEY (`writer_id`) REFERENCES `authors_writer` (`id`);',
        'ALTER TABLE `books_book` DROP INDEX `books_book_title_author_id_9cf77801_uniq`;',
        'ALTER TABLE `books_book` ADD CONSTRAINT `books_book_author_id_title_e2e8dbed_uniq` UNIQUE (`author_id`, `title`);',
        'DROP TABLE `books_book_readers` CASCADE;',
        'DROP TABLE `books_book` CASCADE;',
    ],
}


@pytest.mark.parametrize("backend", VENDORS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_collected_sql(scenario: str, backend: str) -> None:
    """Each editor collects exactly the expected statements for the scenario, offline."""
    editor = collect(URLS[backend], SCENARIOS[scenario])
    assert editor.collected_sql == EXPECTED[scenario, backend]


def test_mysql_text_default_uses_expression_form() -> None:
    """MySQL (not MariaDB) takes a text default only as (expression), then drops it."""
    state = changed(library(), "books", "book", summary=models.TextField(default="n/a"))
    book = state.get_model("books", "book")
    url = "mysql://nobody@192.0.2.1:3306/nowhere?server_version=8.0.36-mysql"
    editor = collect(url, lambda ed: ed.add_field(state, book, book.get_field("summary")))
    assert editor.collected_sql == [
        "ALTER TABLE `books_book` ADD COLUMN `summary` longtext DEFAULT ('n/a') NOT NULL;",
        "ALTER TABLE `books_book` ALTER COLUMN `summary` DROP DEFAULT;",
    ]


def test_rewrites_are_noted_at_their_statement() -> None:
    """A SQLite rebuild and a PostgreSQL type change are recorded as notes on their statement."""
    sqlite = collect(URLS["sqlite"], sc_alter)
    assert [(n.kind, n.table, n.statement) for n in sqlite.notes] == [
        ("rebuild", "authors_author", 0),
        ("rebuild", "authors_author", 7),
    ]
    s0 = library()
    s1 = changed(s0, "authors", "author", age=models.BigIntegerField(null=True))
    pg = collect(URLS["postgresql"], steps((s0, s1, "authors", "author", "age", "age")))
    assert [(n.kind, n.statement) for n in pg.notes] == [("rewrite", 1)]
    assert pg.collected_sql[1] == 'ALTER TABLE "authors_author" ALTER COLUMN "age" TYPE bigint USING "age"::bigint;'
    assert "age" in str(pg.notes[0])


def test_queued_sql_follows_a_rename_in_the_same_migration() -> None:
    """An index queued by CreateModel is created on the column's new name after a rename."""
    s0 = library()
    s1 = changed(s0, "books", "book", title=None)
    s1 = changed(s1, "books", "book", heading=models.CharField(max_length=200, db_index=True, db_comment="Title"))
    s1.update_model("books", "book", lambda m: m.options.__setitem__("unique_together", {("heading", "author")}))

    def run(ed: Any) -> None:
        ed.create_model(s0, s0.get_model("authors", "author"))
        ed.create_model(s0, s0.get_model("books", "book"))
        steps((s0, s1, "books", "book", "title", "heading"))(ed)

    sql = collect(URLS["postgresql"], run).collected_sql
    assert 'CREATE INDEX "books_book_heading_bf47a0d2" ON "books_book" ("heading");' in sql
    assert not any('("title")' in s for s in sql)


def test_execute_inlines_params_and_leaves_raw_sql_alone() -> None:
    """Params become literals; SQL without params (RunSQL) is kept verbatim, % included."""

    def run(ed: Any) -> None:
        ed.execute("UPDATE t SET a = %s, b = %s WHERE c = %s", ["it's", None, True])
        ed.execute("UPDATE t SET pct = '50%'", None)
        ed.execute("SELECT 1;")

    assert collect(URLS["postgresql"], run).collected_sql == [
        "UPDATE t SET a = 'it''s', b = NULL WHERE c = true;",
        "UPDATE t SET pct = '50%';",
        "SELECT 1;",
    ]


def test_long_names_are_cut_to_the_backend_limit_keeping_the_hash() -> None:
    """Generated index names fit PostgreSQL's 63 and MySQL's 64 characters and stay distinct."""
    from shoal.db.ddl_references import index_name

    long_table = "reporting_" + "x" * 60
    a = index_name(long_table, ["customer_reference_number"], "_uniq", 63)
    b = index_name(long_table, ["customer_reference_code"], "_uniq", 63)
    assert len(a) <= 63 and len(b) <= 63 and a != b and a.endswith("_uniq")
    assert index_name("books_book", ["title"], "", 63) == "books_book_title_be31d1ef"
