"""`compliance explain`: why a rule fired, passed or was undetermined for one case."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from ..api import load_rulebooks
from ..errors import RulebookError
from ..explain import ExplainError, explain, render_text
from ..org import OrgError, load_directory
from ..records import RecordFileError
from ..runner import read_cases
from .output import ExitCode, kind_of, show_diagnostics

_TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


@click.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.option("--case", "case", required=True, help="Record key (key fields joined by |), or a group rule's group key.")
@click.option("--rulebook", "rulebook_paths", multiple=True, required=True, type=click.Path(exists=True),
              help="Rulebook file or directory (repeatable).")
@click.option("--cases", "case_paths", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False),
              help="Case file: .csv, .jsonl or .parquet (repeatable); windows and root causes see all of them.")
@click.option("--kind", help="Record kind of every case file (default: from each file's name).")
@click.option("--as-of", "as_of", type=click.DateTime(_TIME_FORMATS), help="The evaluation's as-of time (local). Default: now.")
@click.option("--org", "org_file", type=click.Path(exists=True, dir_okay=False),
              help="Org directory (org.yaml): adds the responsibility chain.")
@click.option("--calendar", "calendar_file", type=click.Path(exists=True, dir_okay=False), help="Working-day calendar override (YAML).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--unmask", is_flag=True, help="Show names and phone numbers unmasked (authorised use only).")
def explain_command(rule_id, case, rulebook_paths, case_paths, kind, as_of, org_file, calendar_file, fmt, unmask) -> None:
    """Explain RULE for one case: clause by clause, with values, margins, the chain and the root cause."""
    try:
        rulebooks = load_rulebooks(rulebook_paths, calendar=calendar_file)
    except RulebookError as err:
        show_diagnostics(err.diagnostics, err.sources, "text")
        sys.exit(ExitCode.FINDINGS)
    try:
        directory = load_directory(org_file) if org_file else None
        run = read_cases(rulebooks, [(Path(p), kind_of(rulebooks, Path(p), kind)) for p in case_paths])
        explanation = explain(rulebooks, rule_id, case, run.records, as_of or datetime.now().replace(microsecond=0),
                              directory)
    except (OrgError, RecordFileError, ExplainError) as err:
        raise click.UsageError(str(err)) from None
    if fmt == "json":
        click.echo((explanation if unmask else explanation.masked()).model_dump_json(indent=2))
    else:
        click.echo(render_text(explanation, unmask), nl=False)
