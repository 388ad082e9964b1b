"""`compliance fmt PATH... [--check] [--diff]`: put rulebook files in the canonical style.

Without flags the files are rewritten in place. `--check` and `--diff` change nothing: they
exit 1 when a file would change (for CI and pre-commit), listing the files or showing the
changes as a unified diff. Directories are searched for *.rules. A file with syntax errors is
left alone and its errors are shown (exit 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..formatting import FormatError, Formatted, format_file, unified_diff
from ..loader import expand
from ..source import Source
from .output import ExitCode, show_diagnostics


@click.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; list the files that would change, exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; print the changes as a unified diff, exit 1 if any.")
def fmt_command(paths: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format rulebook files (directories are searched for *.rules). See docs/fmt.md."""
    files = expand(list(paths))
    if not files:
        click.echo("没有找到规则文件 (*.rules)", err=True)
        sys.exit(ExitCode.USAGE)
    results, broken = [], []
    for path in files:
        try:
            results.append(format_file(path))
        except FormatError as err:  # our bug: say so, leave the file as it is
            broken.append(str(path))
            click.echo(f"内部错误 (internal error): {err}", err=True)
    write = not (check_only or show_diff)
    changed = [r for r in results if r.changed]
    for r in results:
        _present(r, write, check_only, show_diff)
    _summary(len(changed), len(results), write)
    sys.exit(_exit_code(results, changed, broken, write))


def _present(r: Formatted, write: bool, check_only: bool, show_diff: bool) -> None:
    if r.text is None:
        show_diagnostics(list(r.diagnostics), {r.path: Source(r.original, r.path)}, "text")
        click.echo(f"未格式化 (not formatted): {r.path}", err=True)
    elif not r.changed:
        return
    elif write:
        Path(r.path).write_text(r.text, encoding="utf-8")
        click.echo(f"已格式化 (reformatted): {r.path}", err=True)
    else:
        if check_only:
            click.echo(f"需要格式化 (would reformat): {r.path}")
        if show_diff:
            click.echo(unified_diff(r), nl=False)


def _summary(changed: int, total: int, write: bool) -> None:
    verb = "reformatted" if write else "would reformat"
    click.echo(f"{changed} of {total} files {verb}", err=True)


def _exit_code(results: list[Formatted], changed: list[Formatted], broken: list[str], write: bool) -> ExitCode:
    if broken:
        return ExitCode.INTERNAL
    if any(r.text is None for r in results) or (changed and not write):
        return ExitCode.FINDINGS
    return ExitCode.OK
