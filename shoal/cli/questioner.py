"""The questioner that asks on a terminal (makemigrations without --noinput)."""

from __future__ import annotations

import datetime
import sys
from typing import Any, TextIO

from shoal import timezone
from shoal.exceptions import QuestionError
from shoal.migrations.questioner import MigrationQuestioner
from shoal.models.fields import NOT_PROVIDED


class InteractiveQuestioner(MigrationQuestioner):
    """Reads answers from ``stdin`` (a terminal, or a pipe in tests)."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def _input(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise QuestionError("No answer was given (end of input) to: " + prompt.strip())
        return line.rstrip("\n")

    def _boolean(self, question: str, default: bool = False) -> bool:
        while True:
            answer = self._input(f"{question} [y/N] ").strip().lower()
            if not answer:
                return default
            if answer[0] in "yn":
                return answer[0] == "y"
            self.stdout.write("Please answer yes or no: ")

    def _choice(self, message: str, choices: list[str]) -> int:
        self.stdout.write(message + "\n")
        for number, choice in enumerate(choices, 1):
            self.stdout.write(f" {number}) {choice}\n")
        while True:
            answer = self._input("Select an option: ").strip()
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return int(answer)
            self.stdout.write(f"Please select a valid option (1-{len(choices)}).\n")

    def _ask_default(self, default: str | None = None) -> Any:
        """A one-off default typed as Python; with ``default``, an empty line takes it."""
        self.stdout.write(
            "Please enter the default value as valid Python.\n"
            + (f"Accept the default '{default}' by pressing 'Enter' or provide another value.\n" if default else "")
            + "The datetime and shoal.timezone modules are available, so it is possible to provide e.g. "
            "timezone.now as a value.\nType 'exit' to exit this prompt\n"
        )
        while True:
            code = self._input(">>> ").strip()
            if not code and default:
                code = default
            if not code:
                self.stdout.write("Please enter some code, or 'exit' (without quotes) to exit.\n")
                continue
            if code == "exit":
                raise QuestionError("Cancelled: no one-off default was given.")
            try:
                return eval(code, {"datetime": datetime, "timezone": timezone}, {})  # the user's own expression
            except Exception as exc:
                self.stdout.write(f"Invalid input: {exc}\n")

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field: Any) -> bool:
        kind = type(field).__name__
        model = model_name.lower()
        return self._boolean(f"Did you rename {model}.{old_name} to {model}.{new_name} (a {kind})?")

    def ask_rename_model(self, old_model: Any, new_model: Any) -> bool:
        return self._boolean(f"Did you rename the {old_model.app_label}.{old_model.name} model to {new_model.name}?")

    def _one_off_or_quit(self, problem: str, provide: str, stopped: str, default: str | None = None) -> Any:
        """Django's two-choice menu: type a one-off default now, or quit and fix models.py."""
        choice = self._choice(
            f"{problem} This is because the database needs something to populate existing rows.\n"
            "Please select a fix:",
            [provide, "Quit and manually define a default value in models.py."],
        )
        if choice == 2:
            raise QuestionError(stopped)
        return self._ask_default(default)

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        return self._one_off_or_quit(
            f"It is impossible to add a non-nullable field '{field_name}' to {model_name.lower()} without "
            "specifying a default.",
            "Provide a one-off default now (will be set on all existing rows with a null value for this column)",
            f"Stopped: give '{field_name}' on {model_name} a default (or null=True) in models.py.",
        )

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
        return self._one_off_or_quit(
            f"It is impossible to add the field '{field_name}' with 'auto_now_add=True' to {model_name.lower()} "
            "without providing a default.",
            "Provide a one-off default now which will be set on all existing rows",
            f"Stopped: give '{field_name}' on {model_name} a default in models.py.",
            default="timezone.now",
        )

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        choice = self._choice(
            f"It is impossible to change a nullable field '{field_name}' on {model_name.lower()} to non-nullable "
            "without providing a default. This is because the database needs something to populate existing rows.\n"
            "Please select a fix:",
            [
                "Provide a one-off default now (will be set on all existing rows with a null value for this column)",
                "Ignore for now. Existing rows that contain NULL values will have to be handled manually, for example with a RunPython or RunSQL operation.",
                "Quit and manually define a default value in models.py.",
            ],
        )
        if choice == 2:
            return NOT_PROVIDED
        if choice == 3:
            raise QuestionError(f"Stopped: give '{field_name}' on {model_name} a default in models.py.")
        return self._ask_default()
