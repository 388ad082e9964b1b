"""Find and parse rulebook files: directories, files, and the files they import."""

from __future__ import annotations

from pathlib import Path

from . import ast
from .diagnostics import Diagnostics
from .source import Source, Span
from .syntax.parser import parse

SUFFIX = ".rules"


def expand(paths: list[str | Path]) -> list[Path]:
    """Files named, plus every `*.rules` file below each directory named (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        found = sorted(p.rglob(f"*{SUFFIX}")) if p.is_dir() else [p]
        out.extend(f for f in found if f not in out)
    return out


def load(paths: list[str | Path], diags: Diagnostics) -> tuple[list[ast.Module], dict[str, Source]]:
    """Parse every file and, transitively, what it imports (each file once)."""
    modules: list[ast.Module] = []
    sources: dict[str, Source] = {}
    queue: list[tuple[Path, Span | None]] = [(p, None) for p in expand(paths)]
    seen: set[Path] = set()
    while queue:
        path, imported_at = queue.pop(0)
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        source = _read(path, imported_at, diags)
        if source is None:
            continue
        sources[source.path] = source
        module = parse(source, diags)
        if module is None:
            continue
        modules.append(module)
        for decl in module.decls:
            if isinstance(decl, ast.Import):
                queue.append((path.parent / decl.path, decl.span))
    return modules, sources


def _read(path: Path, imported_at: Span | None, diags: Diagnostics) -> Source | None:
    try:
        return Source.from_path(path)
    except FileNotFoundError:
        where = " import 的文件" if imported_at else "规则文件"
        diags.add("E0105", f"找不到{where} `{path}`", imported_at, "检查路径；import 的路径相对于写 import 的文件")
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as err:
        diags.add("E0105", f"无法读取规则文件 `{path}`: {err.__class__.__name__}", imported_at, "规则文件必须是 UTF-8 文本")
    return None
