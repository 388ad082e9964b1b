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
