"""Everything the CLI prints goes through here: streams, verbosity, colour."""

from __future__ import annotations

import os
import sys
from typing import TextIO


class Output:
    """Writes to stdout/stderr; colour only on a terminal and without NO_COLOR."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None, verbosity: int = 1,
                 color: bool | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.verbosity = verbosity
        if color is None:
            color = hasattr(self.stdout, "isatty") and self.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.color = color

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def heading(self, text: str) -> str:
        return self._paint(text, "1;36")

    def success(self, text: str) -> str:
        return self._paint(text, "1;32")

    def notice(self, text: str) -> str:
        return self._paint(text, "33")

    def label(self, text: str) -> str:
        return self._paint(text, "1")

    def write(self, text: str = "", level: int = 1, end: str = "\n") -> None:
        if self.verbosity >= level:
            self.stdout.write(text + end)
            self.stdout.flush()

    def error(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()
