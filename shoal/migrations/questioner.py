"""Questions the autodetector asks, answered without a terminal.  [pure]

The autodetector takes a questioner object; the interactive one, which reads
from a terminal, lives in ``shoal.cli.questioner``.  This module holds the
contract and the answers used under ``--noinput`` and in library calls.
"""

from __future__ import annotations

from typing import Any

from shoal.exceptions import QuestionError


class MigrationQuestioner:
    """Answers with safe defaults: no renames assumed, no guessed values."""

    def __init__(self, specified_apps: set[str] | None = None, dry_run: bool = False) -> None:
        self.specified_apps = specified_apps or set()
        self.dry_run = dry_run

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        """Was field ``old_name`` of ``model_name`` renamed to ``new_name``?"""
        return False

    def ask_rename_model(self, old_model: Any, new_model: Any) -> bool:
        """Was model ``old_model`` renamed to ``new_model``?"""
        return False

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """A value to fill existing rows for a new NOT NULL field without default."""
        raise QuestionError(
            f"It is impossible to add a non-nullable field '{field_name}' to {model_name.lower()} without "
            "specifying a default. This is because the database needs something to populate existing "
            "rows. Give the field a default, make it null=True, or run makemigrations interactively "
            "(without --noinput) to provide a one-off default."
        )

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
        """A value for existing rows when an ``auto_now_add`` field is added."""
        raise QuestionError(
            f"It is impossible to add the field '{field_name}' with 'auto_now_add=True' to "
            f"{model_name.lower()} without providing a default. This is because the database needs "
            "something to populate existing rows. Run makemigrations interactively (without --noinput) "
            "to give a one-off default such as shoal.timezone.now, or add the field with null=True first."
        )

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """A value for existing NULLs when a field becomes NOT NULL (NOT_PROVIDED: leave as is)."""
        from shoal.models.fields import NOT_PROVIDED

        return NOT_PROVIDED

    def ask_merge(self, app_label: str) -> bool:
        """Write a merge migration for ``app_label``'s conflicting leaves?"""
        return True


class NonInteractiveQuestioner(MigrationQuestioner):
    """The questioner of ``--noinput``: never assumes, fails with a clear message."""
