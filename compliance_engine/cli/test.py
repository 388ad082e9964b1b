"""`compliance test PATH...`: run the tests written beside the rules."""

from __future__ import annotations

import json
import sys

import click

from ..api import load_rulebooks
from ..errors import RulebookError
from ..testing import run_tests
from .output import ExitCode, show_diagnostics


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def test_command(paths: tuple[str, ...], fmt: str) -> None:
    """Run every rule's tests. Exit 0 when all pass, 1 when any fails."""
    try:
        rulebooks = load_rulebooks(paths)
    except RulebookError as err:
        show_diagnostics(err.diagnostics, err.sources, fmt)
        sys.exit(ExitCode.FINDINGS)
    results = run_tests(rulebooks)
    failed = [r for r in results if not r.passed]
    if fmt == "json":
        click.echo(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2))
    else:
        for r in failed:
            click.echo(f"{r.location}: FAIL {r.rule} 「{r.test}」: {r.message}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(ExitCode.FINDINGS if failed else ExitCode.OK)
