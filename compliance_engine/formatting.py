"""Format rulebook files: the library side of `compliance fmt` (syntax/printer.py prints).

A file with syntax errors is never formatted: its diagnostics come back instead. Every text
handed out has been checked first: it parses to the same syntax tree as the original (spans
and layout aside, so the checked rules are the same), keeps every comment in order, and
formats to itself. A result failing that is a bug of ours and raises `FormatError`; the
file is then left alone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from . import ast
from .diagnostics import Diagnostic, Diagnostics
from .source import Source
from .syntax.parser import parse
from .syntax.printer import FormatError, format_module

__all__ = ["FormatError", "Formatted", "format_file", "format_text", "unified_diff"]


@dataclass(frozen=True)
class Formatted:
    """One file's outcome: the canonical `text`, or None and the `diagnostics` saying why not.
    `original_module` and `module` are the syntax trees of the original and of the canonical
    text (the same tree but for spans and layout; None when not formatted)."""

    path: str
    original: str
    text: str | None
    diagnostics: tuple[Diagnostic, ...] = ()
    original_module: ast.Module | None = None
    module: ast.Module | None = None

    @property
    def changed(self) -> bool:
        return self.text is not None and self.text != self.original


def format_text(text: str, path: str = "<string>") -> Formatted:
    diags = Diagnostics()
    module = parse(Source(text, path), diags)
    if module is None:
        return Formatted(path, text, None, tuple(diags))
    out = format_module(module)
    # Text that is already canonical needs no second look: it is what was parsed.
    again = module if out == text else _verified(module, out, path)
    return Formatted(path, text, out, original_module=module, module=again)


def format_file(path: str | Path) -> Formatted:
    try:
        source = Source.from_path(path)
    except (OSError, UnicodeDecodeError) as err:
        diag = Diagnostic("E0105", f"无法读取规则文件 `{path}`: {err.__class__.__name__}", None,
                          "规则文件必须是可读的 UTF-8 文本")
        return Formatted(str(path), "", None, (diag,))
    return format_text(source.text, source.path)


def unified_diff(result: Formatted) -> str:
    """What formatting changes, as a unified diff ('' when nothing changes)."""
    if not result.changed:
        return ""
    lines = difflib.unified_diff(result.original.splitlines(keepends=True), result.text.splitlines(keepends=True),
                                 f"{result.path}", f"{result.path} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _verified(module: ast.Module, out: str, path: str) -> ast.Module:
    again = parse(Source(out, path), Diagnostics())
    if again is None or again != module:
        raise FormatError(f"{path}: 格式化后的文本与原文含义不同，未写入")
    if _comment_words(again) != _comment_words(module):
        raise FormatError(f"{path}: 格式化后注释丢失或次序改变，未写入")
    if format_module(again) != out:
        raise FormatError(f"{path}: 格式化结果不稳定（再次格式化会改变），未写入")
    return again


def _comment_words(module: ast.Module) -> list[str]:
    # Two comments ending up on one line read back as one: compare their words, in order.
    return " ".join(c.text for c in module.comments).split()
