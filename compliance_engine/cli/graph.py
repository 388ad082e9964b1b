"""`compliance graph PATH...`: the dependency graph of rulebooks, drawn for review.

`--format dot` (Graphviz), `mermaid` (renders in GitHub Markdown) or `json`; `--rule ID` keeps
what the rule uses and what depends on it. Exit 0, 1 when the rulebooks have errors, 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..api import check
from ..check.names import did_you_mean
from ..diagnostics import Severity
from ..graph_formats import RENDERERS, focus
from .output import ExitCode, show_diagnostics


@click.command("graph")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(tuple(RENDERERS)), default="dot", show_default=True)
@click.option("--rule", "rule_id", metavar="ID", help="Only what this rule uses and what depends on it.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def graph_command(paths: tuple[str, ...], fmt: str, rule_id: str | None, out_file: str | None) -> None:
    """Draw the dependency graph: record kinds, facts, rules and risk links."""
    result = check(paths)
    if not result.ok:
        show_diagnostics([d for d in result.diagnostics if d.severity is Severity.ERROR], result.sources, "text")
        sys.exit(ExitCode.FINDINGS)
    graph = result.graph.graph
    if rule_id is not None:
        _require_rule(rule_id, [r.id for r in result.program.rules])
        graph = focus(result.graph, rule_id)
    text = RENDERERS[fmt](graph)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def _require_rule(rule_id: str, known: list[str]) -> None:
    if rule_id not in known:
        raise click.BadParameter(f"没有编号为 {rule_id} 的规则。" + did_you_mean(rule_id, known), param_hint="--rule")
