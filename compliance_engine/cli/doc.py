"""`compliance doc PATH...`: the catalog page for officers, generated from the rulebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..api import load_rulebooks
from ..catalog_page import render_catalog
from ..errors import RulebookError
from .output import ExitCode, show_diagnostics


@click.command("doc")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--notes", "notes_dir", type=click.Path(exists=True, file_okay=False), help="Folder of notes (*.md) to append.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def doc_command(paths: tuple[str, ...], notes_dir: str | None, out_file: str | None) -> None:
    """Write the catalog page (Markdown) of the rulebooks."""
    try:
        program = load_rulebooks(paths).program
    except RulebookError as err:
        show_diagnostics(err.diagnostics, err.sources, "text")
        sys.exit(ExitCode.FINDINGS)
    notes = sorted(Path(notes_dir).glob("*.md")) if notes_dir else []
    page = render_catalog(program, notes)
    if out_file:
        Path(out_file).write_text(page, encoding="utf-8")
    else:
        click.echo(page, nl=False)
