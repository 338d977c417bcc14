"""What one field becomes in the database: its column definition, the value
existing rows get, and the implicit table of a many-to-many field.

Split out of :mod:`.schema` to keep modules small; mixed into
:class:`~shoal.db.backends.base.schema.BaseDatabaseSchemaEditor`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shoal.db.ddl_references import truncate_name
from shoal.exceptions import ImproperlyConfigured
from shoal.models.fields import NOT_PROVIDED, BigAutoField, Field
from shoal.models.fields.related import CASCADE, ForeignKey

if TYPE_CHECKING:
    from shoal.migrations.state import ModelState, ProjectState

__all__ = ["ColumnParams", "ColumnsMixin"]


@dataclass(frozen=True)
class ColumnParams:
    """Everything about a field that reaches the database, resolved for one backend.

    Two fields with equal params need no DDL to go from one to the other.
    """

    column: str
    type: str
    internal_type: str
    null: bool
    primary_key: bool
    unique: bool  # unique and not primary key
    index: bool  # db_index as declared
    check: str | None
    suffix: str | None
    collation: str | None
    comment: str | None
    db_default: str | None  # the literal/expression SQL of db_default
    fk: tuple[str, str] | None  # (to_table, to_column) when a FK constraint is wanted
    rel_target: tuple[str, str] | None  # (to_table, to_column) of any relation


def _default_auto_field_class() -> type[Field]:
    """The configured ``default_auto_field`` class (BigAutoField when unset or not importable)."""
    import importlib

    from shoal.conf import DEFAULT_AUTO_FIELD, settings

    dotted = settings.get().default_auto_field if settings.configured else DEFAULT_AUTO_FIELD
    module, _, name = str(dotted).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return BigAutoField
    return cls if isinstance(cls, type) and issubclass(cls, Field) else BigAutoField


class ColumnsMixin:
    """Column SQL shared by every backend; hooks are overridden per backend."""

    connection: Any
    sql_check_constraint: str
    sql_create_inline_fk: str | None

    def quote_name(self, name: str) -> str:  # pragma: no cover - provided by the editor
        raise NotImplementedError

    def quote_value(self, value: Any) -> str:  # pragma: no cover - provided by the editor
        raise NotImplementedError

    def _fk_deferrable(self) -> str:  # pragma: no cover - provided by the editor
        raise NotImplementedError

    @property
    def max_name_length(self) -> int | None:
        limit = self.connection.ops.max_name_length()
        return int(limit) if limit else None

    # -- fields ----------------------------------------------------------------

    @staticmethod
    def col(field: Field) -> str:
        """The column name of a field that is bound to a model state."""
        if field.column is None:
            raise ValueError(f"Field {field!r} has no column name; call set_attributes_from_name() first.")
        return field.column

    @staticmethod
    def concrete_fields(model: ModelState) -> list[Field]:
        """The fields that are columns of the model's table, in order."""
        return [f for f in model.fields.values() if not f.many_to_many]

    def column_type(self, state: ProjectState, model: ModelState, field: Field) -> str | None:
        """The column type; a foreign key takes its target's related type."""
        if field.many_to_many:
            return None
        if field.is_relation:
            target_model, target_field = state.related_target(model, field)
            if target_field.is_relation:
                return self.column_type(state, target_model, target_field)
            return target_field.rel_db_type(self.connection)
        return field.db_type(self.connection)

    def column_params(self, state: ProjectState, model: ModelState, field: Field) -> ColumnParams:
        """Resolve ``field`` of ``model`` (in ``state``) for this backend.

        A field that is no relation resolves the same wherever it appears, so
        its params are memoized per connection: replaying a history rebuilds
        tables tens of thousands of times, mostly from the same field objects.
        """
        if field.is_relation:
            return self._column_params(state, model, field)
        memo = self.connection.column_params_memo
        hit = memo.get(id(field))
        if hit is not None and hit[0] is field:
            return hit[1]  # type: ignore[no-any-return]
        params = self._column_params(state, model, field)
        if len(memo) > 200_000:
            memo.clear()
        memo[id(field)] = (field, params)  # the field is kept alive, so its id is not reused
        return params

    def _column_params(self, state: ProjectState, model: ModelState, field: Field) -> ColumnParams:
        col_type = self.column_type(state, model, field)
        if col_type is None:
            raise ValueError(
                f"Field {model.label_lower}.{field.name} ({type(field).__name__}) has no column type on "
                f"{self.connection.display_name}."
            )
        rel_target: tuple[str, str] | None = None
        fk: tuple[str, str] | None = None
        if field.is_relation:
            target_model, target_field = state.related_target(model, field)
            rel_target = (target_model.db_table, self.col(target_field))
            if getattr(field, "db_constraint", True):
                fk = rel_target
        db_default = None
        if field.db_default is not NOT_PROVIDED:
            db_default = self.db_default_sql(field)
        suffix = field.db_type_suffix(self.connection) if not field.is_relation else None
        check = field.db_check(self.connection) if not field.is_relation else None
        return ColumnParams(
            column=self.col(field),
            type=col_type,
            internal_type=field.get_internal_type(),
            null=bool(field.null),
            primary_key=bool(field.primary_key),
            unique=bool(field.unique) and not field.primary_key,
            index=bool(field.db_index),
            check=check,
            suffix=suffix,
            collation=getattr(field, "db_collation", None),
            comment=field.db_comment if self.connection.features.supports_comments else None,
            db_default=db_default,
            fk=fk,
            rel_target=rel_target,
        )

    # -- defaults --------------------------------------------------------------

    def db_default_sql(self, field: Field) -> str:
        """SQL for ``db_default``: a literal (``Value(x)`` is the literal ``x``),
        prepared by the field and quoted; or a database expression (``Now()``,
        ``Lower(...)``) as its SQL for this backend in parentheses, as Django
        writes it -- every backend accepts ``DEFAULT (expr)``, and MySQL needs
        the parentheses for anything but a literal.  The text has no
        placeholders: run it without a parameter list."""
        from shoal.models.expressions import Value, compile_expression, is_db_expression

        value = field.db_default
        if is_db_expression(value):
            try:
                return f"({compile_expression(value, self.connection)})"
            except ImproperlyConfigured as exc:
                raise ImproperlyConfigured(f"Field {field.name!r}: db_default {value!r}: {exc}") from exc
        if isinstance(value, Value):
            value = value.value
        return self.quote_value(field.get_db_prep_value(value, self.connection))

    def default_clause(self, params: ColumnParams, literal: str) -> str:
        """``DEFAULT <literal>`` (MySQL wraps text/blob defaults in parentheses)."""
        return f"DEFAULT {literal}"

    # -- SQL -------------------------------------------------------------------

    def collate_sql(self, collation: str) -> str:
        return f" COLLATE {self.quote_name(collation)}"

    def inline_comment_sql(self, comment: str) -> str:
        """Backends with inline comments (MySQL) return `` COMMENT '...'``."""
        return ""

    def column_sql(
        self,
        state: ProjectState,
        model: ModelState,
        field: Field,
        params: ColumnParams,
        include_default: bool = False,
        constraints: bool = True,
    ) -> str:
        """``type [COLLATE] [COMMENT] [DEFAULT] NULL|NOT NULL [PRIMARY KEY|UNIQUE]``.

        ``include_default`` adds the field's Python default as a DEFAULT (used
        to fill existing rows, then dropped); ``constraints=False`` leaves out
        PRIMARY KEY/UNIQUE (for MySQL's MODIFY).
        """
        parts = [params.type]
        if params.collation:
            parts.append(self.collate_sql(params.collation).strip())
        if params.comment and self.connection.features.supports_comments_inline:
            parts.append(self.inline_comment_sql(params.comment).strip())
        if params.db_default is not None:
            parts.append(self.default_clause(params, params.db_default))
        elif include_default:
            default = self.effective_default(field)
            if default is not None:
                parts.append(self.default_clause(params, self.quote_value(default)))
        if not params.null:
            parts.append("NOT NULL")
        elif not self.connection.features.implied_column_null:
            parts.append("NULL")
        if constraints:
            if params.primary_key:
                parts.append("PRIMARY KEY")
            elif params.unique:
                parts.append("UNIQUE")
        return " ".join(parts)

    def column_extras_sql(self, state: ProjectState, model: ModelState, field: Field, params: ColumnParams) -> str:
        """What follows the column definition in CREATE TABLE: CHECK, type suffix, inline FK."""
        out = ""
        if params.check and self.connection.features.supports_column_check_constraints:
            out += " " + self.sql_check_constraint.format(check=params.check)
        if params.suffix:
            out += f" {params.suffix}"
        inline_fk = self.sql_create_inline_fk
        if params.fk and inline_fk and self.connection.features.supports_foreign_keys:
            to_table, to_column = params.fk
            out += " " + inline_fk.format(
                to_table=self.quote_name(to_table),
                to_column=self.quote_name(to_column),
                deferrable=self._fk_deferrable(),
            )
        return out

    # -- auto M2M tables and relations ------------------------------------------

    def auto_through_model(self, state: ProjectState, model: ModelState, field: Field) -> ModelState | None:
        """The implicit table of a ManyToManyField without ``through=`` (None otherwise).

        ``<table>_<field>`` with an ``id`` of the project's ``default_auto_field``
        class (as Django gives an auto-created through model its app's default
        auto field, whatever the two sides' keys are), one FK to each side
        (``from_``/``to_`` prefixes when the relation is to the same model) and
        a unique pair.
        """
        if not field.many_to_many or getattr(field, "through", None) is not None:
            return None
        from shoal.migrations.state import ModelState

        target = state.resolve_relation(model, field)
        src, dst = model.name_lower, target.name_lower
        from_name, to_name = (f"from_{src}", f"to_{dst}") if src == dst else (src, dst)
        table = getattr(field, "db_table", None) or truncate_name(
            f"{model.db_table}_{field.name}", self.max_name_length
        )
        pk_class = _default_auto_field_class()
        constraint = bool(getattr(field, "db_constraint", True))
        fields = [
            ("id", pk_class(primary_key=True, auto_created=True, serialize=False, verbose_name="ID")),
            (from_name, ForeignKey(model.label_lower, on_delete=CASCADE, db_constraint=constraint)),
            (to_name, ForeignKey(target.label_lower, on_delete=CASCADE, db_constraint=constraint)),
        ]
        return ModelState(
            model.app_label,
            f"{model.name}_{field.name}",
            fields,
            {"db_table": table, "unique_together": {(from_name, to_name)}},
        )

    def incoming_relations(
        self, state: ProjectState, model: ModelState, field_name: str
    ) -> Iterator[tuple[ModelState, Field]]:
        """Every FK (auto M2M tables included) whose column points at ``model.field_name``."""
        seen: set[tuple[str, str]] = set()
        candidates: list[tuple[ModelState, Field]] = list(state.relations_to(model.app_label, model.name))
        candidates += [(model, f) for f in model.fields.values() if f.many_to_many]
        for rel_model, rel_field in candidates:
            if rel_field.many_to_many:
                through = self.auto_through_model(state, rel_model, rel_field)
                if through is None:
                    continue
                for fk in list(through.fields.values())[1:]:
                    if (
                        state.resolve_relation(through, fk).key == model.key
                        and model.pk is not None
                        and model.pk.name == field_name
                    ):
                        key = (through.db_table, self.col(fk))
                        if key not in seen:
                            seen.add(key)
                            yield through, fk
                continue
            _target, target_field = state.related_target(rel_model, rel_field)
            key = (rel_model.db_table, self.col(rel_field))
            if target_field.name == field_name and key not in seen:
                seen.add(key)
                yield rel_model, rel_field

    # -- defaults --------------------------------------------------------------

    @staticmethod
    def python_default(field: Field) -> Any:
        """The Python value existing rows get for ``field`` (None: none)."""
        if field.has_default():
            return field.get_default()
        if not field.null and field.blank and field.empty_strings_allowed:
            return b"" if field.get_internal_type() == "BinaryField" else ""
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            now = datetime.datetime.now(datetime.timezone.utc)
            kind = field.get_internal_type()
            if kind == "DateField":
                return now.date()
            if kind == "TimeField":
                return now.time().replace(tzinfo=None)
            return now
        return None

    def effective_default(self, field: Field) -> Any:
        """:meth:`python_default` prepared for the database (None: no default)."""
        return field.get_db_prep_value(self.python_default(field), self.connection)
