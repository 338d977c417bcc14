"""``AlterOrderWithRespectTo``: set or clear ``Meta.order_with_respect_to``.

The option brings the implicit ``_order`` column (see
:mod:`shoal.models.order_wrt`): setting it adds the column (existing rows get
0), clearing it drops the column, and pointing it at another relation keeps
the column as it is.
"""

from __future__ import annotations

from typing import Any

from shoal.migrations.operations.models import _ModelOptionOperation
from shoal.migrations.state import ModelState, ProjectState, order_field
from shoal.models.order_wrt import ORDER_FIELD, OrderWrt


class AlterOrderWithRespectTo(_ModelOptionOperation):
    """Change ``order_with_respect_to`` (adds or drops the ``_order`` column)."""

    option_name = "order_with_respect_to"

    def __init__(self, name: str, order_with_respect_to: str | None) -> None:
        self.order_with_respect_to = order_with_respect_to
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        kwargs = {"name": self.name, "order_with_respect_to": self.order_with_respect_to}
        return "AlterOrderWithRespectTo", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        def change(model: ModelState) -> None:
            if self.order_with_respect_to:
                model.options[self.option_name] = self.order_with_respect_to
                if ORDER_FIELD not in model.fields:
                    model.fields[ORDER_FIELD] = order_field()
            else:
                model.options.pop(self.option_name, None)
                model.fields.pop(ORDER_FIELD, None)

        state.update_model(app_label, self.name_lower, change)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: ProjectState,
                          to_state: ProjectState) -> None:
        old = from_state.get_model(app_label, self.name)
        new = to_state.get_model(app_label, self.name)
        if not self.allow_migrate_model(schema_editor, app_label, new):
            return
        had, has = bool(old.options.get(self.option_name)), bool(new.options.get(self.option_name))
        if had and not has:
            schema_editor.remove_field(from_state, old, old.get_field(ORDER_FIELD))
        elif has and not had:
            field = OrderWrt(default=0)  # existing rows start at position 0
            field.set_attributes_from_name(ORDER_FIELD)
            schema_editor.add_field(to_state, new, field)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: ProjectState,
                           to_state: ProjectState) -> None:
        self.database_forwards(app_label, schema_editor, from_state, to_state)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and (
            self.order_with_respect_to is None or name.lower() == self.order_with_respect_to.lower()
        )

    def describe(self) -> str:
        return f"Set order_with_respect_to on {self.name} to {self.order_with_respect_to}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.name_lower}_order_with_respect_to"
