"""`compliance lint PATH...`: warnings an expert reviewer would raise (docs/lint.md)."""

from __future__ import annotations

import sys

import click

from ..api import check
from ..check.lints import run_lints
from .output import ExitCode, show_diagnostics


@click.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def lint_command(paths: tuple[str, ...], fmt: str) -> None:
    """Lint rulebooks that check clean. Exit 0 when nothing is found, 1 when anything is (or on errors)."""
    result = check(paths)
    if not result.ok:  # lints read the checked model: errors first (what `compliance check` says)
        show_diagnostics([d for d in result.diagnostics if d.severity.value == "error"], result.sources, fmt)
        sys.exit(ExitCode.FINDINGS)
    found = run_lints(result.program)
    show_diagnostics(found, result.sources, fmt)
    sys.exit(ExitCode.FINDINGS if found else ExitCode.OK)
