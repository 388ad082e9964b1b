"""Exit codes and presenters shared by the commands."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

import click

from ..diagnostics import Diagnostic, render_all, render_json
from ..records import infer_kind
from ..source import Source


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # errors in rulebooks, failed tests, or (with --fail-on-fired) fired findings
    USAGE = 2
    INTERNAL = 3


def show_diagnostics(diags: list[Diagnostic], sources: dict[str, Source], fmt: str) -> None:
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        click.echo(render_all(diags, sources), err=not diags)


def kind_of(rulebooks, path: Path, kind: str | None):
    if kind:
        if kind not in rulebooks.kinds:
            raise click.BadParameter(f"未知记录类型 {kind}；可选: {', '.join(rulebooks.kinds)}", param_hint="--kind")
        return rulebooks.kinds[kind]
    found = infer_kind(path, rulebooks.kinds)
    if found is None:
        raise click.UsageError(f"无法从文件名 {path.name} 判断记录类型；请用 --kind 指定（可选: {', '.join(rulebooks.kinds)}）")
    return found


CASE_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".csv.gz", ".jsonl.gz")


def case_files(rulebooks, paths, kind: str | None) -> list[tuple[Path, object]]:
    """Case files with their record kinds. A folder contributes every case file in it whose name
    says its kind; other files there are listed as skipped (a named file must have a kind)."""
    out = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append((p, kind_of(rulebooks, p, kind)))
            continue
        for f in sorted(x for x in p.iterdir() if x.is_file() and x.name.endswith(CASE_SUFFIXES)):
            found = rulebooks.kinds.get(kind) if kind else infer_kind(f, rulebooks.kinds)
            if found is None:
                click.echo(f"跳过 (skipped) {f}: 文件名不是记录类型", err=True)
            else:
                out.append((f, found))
    return out
