"""`compliance test PATH...`: run the tests beside the rules and in test files; coverage."""

from __future__ import annotations

import json
import sys

import click

from ..api import load_rulebooks
from ..coverage import Coverage, measure
from ..errors import RulebookError
from ..junit import to_junit
from ..test_files import discover, load_test_files
from ..testing import TestResult, embedded_tests, execute
from .output import ExitCode, show_diagnostics


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--tests", "test_paths", multiple=True, type=click.Path(exists=True),
              help="Test files (*.test.yaml) or directories of them, besides those found beside/below PATHS.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--coverage", "with_coverage", is_flag=True, help="Report rules without tests and branches never taken.")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help="Exit 1 when branch coverage is below PERCENT (implies --coverage).")
def test_command(paths: tuple[str, ...], test_paths: tuple[str, ...], fmt: str, with_coverage: bool,
                 fail_under: float | None) -> None:
    """Run every rule's tests. Exit 0 when all pass (and coverage is not below --fail-under), 1 otherwise."""
    try:
        rulebooks = load_rulebooks(paths)
    except RulebookError as err:
        show_diagnostics(err.diagnostics, err.sources, "json" if fmt == "json" else "text")
        sys.exit(ExitCode.FINDINGS)
    program = rulebooks.program
    tests = [*embedded_tests(program), *load_test_files(discover(paths, test_paths), program)]
    executions = execute(rulebooks, tests)
    results = [e.result for e in executions]
    coverage = measure(rulebooks, executions) if with_coverage or fail_under is not None else None
    _PRESENT[fmt](results, coverage)
    below = coverage is not None and fail_under is not None and coverage.percent < fail_under
    if below:
        click.echo(f"branch coverage {coverage.percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
    failed = any(not r.passed for r in results)
    sys.exit(ExitCode.FINDINGS if failed or below else ExitCode.OK)


def _text(results: list[TestResult], coverage: Coverage | None) -> None:
    for r in results:
        if not r.passed:
            click.echo("\n".join(_failure(r)))
    if coverage is not None:
        click.echo("\n".join(coverage_lines(coverage)))
    failed = sum(1 for r in results if not r.passed)
    click.echo(f"{len(results) - failed} passed, {failed} failed")


def _failure(r: TestResult) -> list[str]:
    case = f" case 「{r.case}」" if r.case else ""
    if r.error:
        return [f"{r.location}: ERROR {r.rule or '-'} 「{r.test}」{case}: {r.error}"]
    return [f"{r.location}: FAIL {r.rule} 「{r.test}」{case}", *(f"    {line}" for line in r.diff)]


def coverage_lines(coverage: Coverage) -> list[str]:
    lines = []
    for rc in coverage.rules:
        if not rc.tests:
            lines.append(f"{rc.rule.id} {rc.rule.title}: {rc.covered}/{rc.total} (0.0%), no tests")
        elif rc.covered < rc.total:
            lines.append(f"{rc.rule.id} {rc.rule.title}: {rc.covered}/{rc.total} ({rc.percent:.1f}%)")
            lines += [f"    {m.location}  {m.clause}  {m.message}" for m in coverage.misses[rc.rule.id]]
    untested = coverage.untested
    lines.append(f"branch coverage {coverage.percent:.1f}% ({coverage.covered}/{coverage.total} branches); "
                 f"{len(untested)} of {len(coverage.rules)} rules without tests")
    return lines


def _json(results: list[TestResult], coverage: Coverage | None) -> None:
    failed = sum(1 for r in results if not r.passed)
    out: dict = {"passed": len(results) - failed, "failed": failed, "results": [_result_json(r) for r in results]}
    if coverage is not None:
        out["coverage"] = coverage.as_dict()
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _result_json(r: TestResult) -> dict:
    d = {k: v for k, v in r.__dict__.items() if k != "mismatches"}
    d["mismatches"] = [m.__dict__ for m in r.mismatches]
    d["seconds"] = round(r.seconds, 6)
    return d


def _junit(results: list[TestResult], coverage: Coverage | None) -> None:
    click.echo(to_junit(results), nl=False)
    if coverage is not None:  # the XML goes to stdout for the CI; the coverage report beside it
        click.echo("\n".join(coverage_lines(coverage)), err=True)


_PRESENT = {"text": _text, "json": _json, "junit": _junit}
