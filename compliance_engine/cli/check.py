"""`compliance check PATH...`: parse and check rulebooks, list every mistake."""

from __future__ import annotations

import sys

import click

from ..api import check
from .output import ExitCode, show_diagnostics


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
def check_command(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check rulebook files (directories are searched for *.rules). Exit 0 clean, 1 errors."""
    result = check(paths)
    show_diagnostics(result.diagnostics, result.sources, fmt)
    failed = not result.ok or (strict and result.diagnostics)
    sys.exit(ExitCode.FINDINGS if failed else ExitCode.OK)
