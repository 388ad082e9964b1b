"""Source text and spans: where a piece of a rulebook came from. A leaf module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one rulebook file and the name it is reported under."""

    text: str
    path: str = "<string>"

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        p = Path(path)
        return cls(p.read_text(encoding="utf-8"), str(p))

    def line(self, number: int) -> str:
        """Line `number` (1-based) without its newline, or '' past the end."""
        lines = self.text.split("\n")  # like the parser: only \n ends a line (not U+2028, form feed …)
        return lines[number - 1].rstrip("\r") if 0 < number <= len(lines) else ""


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source: 1-based line/column of its start and end (end exclusive)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    # Spans never take part in equality of the nodes that carry them (see ast.py).
