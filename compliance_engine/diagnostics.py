"""Diagnostics: errors and warnings as values, with a stable code, a location and a hint.

Every stage reports into a `Diagnostics` bag instead of raising; the API edge raises one
`RulebookError` carrying them all. Codes are stable: E01xx syntax, E02xx names and types,
E03xx rules and metadata, E04xx graph, E05xx tests; W-codes are warnings.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Iterator

from .source import Source, Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str = ""
    notes: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code.startswith(("W", "L")) else Severity.ERROR  # L: lints

    def sort_key(self) -> tuple:
        s = self.span
        return (s.path, s.line, s.column, self.code) if s else ("", 0, 0, self.code)

    def to_dict(self) -> dict:
        s = self.span
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint or None,
            "notes": list(self.notes),
            "file": s.path if s else None,
            "line": s.line if s else None,
            "column": s.column if s else None,
            "end_line": s.end_line if s else None,
            "end_column": s.end_column if s else None,
        }


@dataclass
class Diagnostics:
    """An ordered bag of diagnostics; duplicates (same code, place and message) are dropped."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, span: Span | None, hint: str = "", notes: Iterable[str] = ()) -> None:
        diag = Diagnostic(code, message, span, hint, tuple(notes))
        if diag not in self.items:
            self.items.append(diag)

    def extend(self, other: Iterable[Diagnostic]) -> None:
        for d in other:
            if d not in self.items:
                self.items.append(d)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(sorted(self.items, key=Diagnostic.sort_key))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity is Severity.WARNING]

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)


def _display_width(text: str) -> int:
    """Terminal columns of `text`: CJK characters take two (so the caret lines up)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text(diag: Diagnostic, sources: dict[str, Source] | None = None) -> str:
    """`file:line:col: error[E0203]: message`, the source line, a caret, then the hint."""
    s = diag.span
    where = f"{s.path}:{s.line}:{s.column}: " if s else ""
    lines = [f"{where}{diag.severity.value}[{diag.code}]: {diag.message}"]
    source = sources.get(s.path) if (sources and s) else None
    if source is not None:
        text = source.line(s.line)
        gutter = f"{s.line:>4} | "
        lines.append(gutter + text)
        start = _display_width(text[: s.column - 1])
        end_col = s.end_column if s.end_line == s.line else len(text) + 1
        width = max(1, _display_width(text[s.column - 1 : end_col - 1]))
        lines.append(" " * (len(gutter) - 2) + "| " + " " * start + "^" * width)
    for note in diag.notes:
        lines.append(f"  = note: {note}")
    if diag.hint:
        lines.append(f"  = hint: {diag.hint}")
    return "\n".join(lines)


def render_all(diags: Iterable[Diagnostic], sources: dict[str, Source] | None = None) -> str:
    items = list(diags)
    body = "\n\n".join(render_text(d, sources) for d in items)
    n_err = sum(1 for d in items if d.severity is Severity.ERROR)
    n_warn = len(items) - n_err
    summary = f"{n_err} 个错误, {n_warn} 个警告 ({n_err} error(s), {n_warn} warning(s))"
    return f"{body}\n\n{summary}" if body else summary


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], ensure_ascii=False, indent=2)
