"""`compliance check PATH...`: parse and check rulebooks, list every mistake.

Formats (report_formats.py): `text` for people, `json`, `sarif` for code scanning, `github`
for annotations in a GitHub Actions log. Exit 0 clean, 1 errors (or warnings with `--strict`),
2 usage.
"""

from __future__ import annotations

import sys

import click

from ..api import check
from ..report_formats import FORMATS, Report, omitted_line, render
from .output import ExitCode


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json, sarif (code scanning), github (workflow annotations).")
@click.option("--max-errors", type=click.IntRange(min=1), metavar="N",
              help="List at most N errors and say how many more there are.")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
def check_command(paths: tuple[str, ...], fmt: str, max_errors: int | None, strict: bool) -> None:
    """Check rulebook files (directories are searched for *.rules). Exit 0 clean, 1 errors."""
    result = check(paths)
    report = Report.limit(result.diagnostics, max_errors)
    # a clean text run prints only its summary, to stderr, as it always did
    click.echo(render(fmt, report, result.sources), err=fmt == "text" and not result.diagnostics)
    if report.omitted and fmt in ("json", "sarif"):  # keep stdout machine-readable
        click.echo(omitted_line(report), err=True)
    failed = not result.ok or (strict and result.diagnostics)
    sys.exit(ExitCode.FINDINGS if failed else ExitCode.OK)
