"""Exit codes and presenters shared by the commands."""

from __future__ import annotations

from enum import IntEnum

import click

from ..diagnostics import Diagnostic, render_all, render_json
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
