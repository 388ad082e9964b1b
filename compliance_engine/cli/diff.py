"""`compliance diff OLD NEW`: what a rulebook change means, and with `--cases` whom it affects.

Exit 0 when the two versions mean the same (formatting and comments ignored), 1 when they
differ (like `git diff --exit-code`) or a version has errors, 2 for usage mistakes.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click

from ..api import check, load_rulebooks
from ..diff import diff
from ..diff_render import render
from ..impact import ImpactError, impact
from ..records import RecordFileError
from .output import ExitCode, show_diagnostics

_TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


@click.command("diff")
@click.argument("old", type=click.Path(exists=True))
@click.argument("new", type=click.Path(exists=True))
@click.option("--cases", "case_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Case file (.csv, .jsonl, .parquet) to evaluate both versions on (repeatable).")
@click.option("--kind", help="Record kind of every case file (default: from each file's name).")
@click.option("--as-of", "as_of", type=click.DateTime(_TIME_FORMATS),
              help="The as-of time both versions are evaluated at (default: now; fix it in CI).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def diff_command(old: str, new: str, case_paths: tuple[str, ...], kind: str | None, as_of: datetime | None,
                 fmt: str) -> None:
    """Semantic diff of two rulebook versions (files or directories). Exit 0 same, 1 changed."""
    programs = [_program(path, name) for path, name in ((old, "旧版本 OLD"), (new, "新版本 NEW"))]
    result = diff(*programs)
    found = None
    if case_paths and result.has_changes:
        as_of = as_of or datetime.now().replace(second=0, microsecond=0)
        try:
            found = impact(load_rulebooks([old]), load_rulebooks([new]), case_paths, as_of,
                           kind=kind, renamed=result.id_map)
        except (ImpactError, RecordFileError) as err:
            raise click.UsageError(str(err)) from None
    click.echo(render(fmt, result, found, old, new), nl=False)
    sys.exit(ExitCode.FINDINGS if result.has_changes else ExitCode.OK)


def _program(path: str, name: str):
    checked = check([path])
    if not checked.ok:
        click.echo(f"{name} {path} 有错误，无法比较：", err=True)
        show_diagnostics([d for d in checked.diagnostics if d.severity.value == "error"], checked.sources, "text")
        sys.exit(ExitCode.FINDINGS)
    return checked.program
