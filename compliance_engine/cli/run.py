"""`compliance run`: evaluate rulebooks over case files and write findings."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from ..api import load_rulebooks
from ..errors import RulebookError
from ..notices import GROUPINGS, notices_for_run
from ..org import OrgError, load_directory
from ..records import RecordFileError
from ..render import FORMATS, write_notices
from ..findings_io import FINDINGS_FORMATS, ParquetFindingsWriter
from ..runner import evaluate, read_cases, stream_cases
from .engines import ENGINES, EngineSettings, choose_engine, evaluate_with
from .output import ExitCode, case_files, show_diagnostics


@click.command("run")
@click.option("--rulebook", "rulebook_paths", multiple=True, required=True, type=click.Path(exists=True),
              help="Rulebook file or directory (repeatable).")
@click.option("--cases", "case_paths", multiple=True, required=True, type=click.Path(exists=True),
              help="Case file (.csv, .jsonl, .parquet) or a folder of them named after their record kind (repeatable).")
@click.option("--kind", help="Record kind of every case file (default: from each file's name).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]),
              help="The evaluation's as-of time (local). Default: now.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write findings.jsonl, rejections.jsonl, summary.json here.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "table"]), default="jsonl", show_default=True)
@click.option("--all", "include_passed", is_flag=True, help="Also write passed findings.")
@click.option("--calendar", "calendar_file", type=click.Path(exists=True, dir_okay=False), help="Working-day calendar override (YAML).")
@click.option("--fail-on-fired", is_flag=True, help="Exit 1 when any rule fired.")
@click.option("--org", "org_file", type=click.Path(exists=True, dir_okay=False), help="Org directory (org.yaml), for --notices.")
@click.option("--notices", "notices_dir", type=click.Path(file_okay=False), help="Write warning notices here (needs --org).")
@click.option("--notice-format", "notice_formats", default="md,html,docx,json", show_default=True,
              help="Comma-separated notice formats: md, html, docx, json.")
@click.option("--notice-group", "notice_group", type=click.Choice(GROUPINGS), default="unit-department", show_default=True,
              help="One notice per unit + department, per owner, or per unit.")
@click.option("--unmask", is_flag=True, help="Show personal data in notices unmasked (authorised use only).")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="Evaluation backend; auto: duckdb for large inputs, else python (docs/batch.md).")
@click.option("--findings-format", "findings_formats", default="jsonl", show_default=True,
              help="With --out: comma-separated findings files to write: jsonl, parquet.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--memory-limit", default="1GB", show_default=True, help="DuckDB engine: memory before spilling to disk.")
@click.option("--workdir", type=click.Path(file_okay=False), help="DuckDB engine: folder for its database and spill files (default: a temporary folder).")
@click.option("--spark-master", default="local[2]", show_default=True, help="Spark engine: the cluster's master URL.")
def run_command(rulebook_paths, case_paths, kind, as_of, out_dir, fmt, include_passed, calendar_file, fail_on_fired,
                org_file, notices_dir, notice_formats, notice_group, unmask, engine, findings_formats, progress,
                memory_limit, workdir, spark_master) -> None:
    """Run rulebooks over case records. The summary line reconciles read = evaluated + rejected."""
    formats = _formats("--notice-format", notice_formats, FORMATS) if notices_dir else ()
    if notices_dir and not org_file:
        raise click.UsageError("--notices 需要 --org（组织目录）")
    try:
        directory = load_directory(org_file) if org_file else None
    except OrgError as err:
        raise click.UsageError(str(err)) from None
    try:
        rulebooks = load_rulebooks(rulebook_paths, calendar=calendar_file)
    except RulebookError as err:
        show_diagnostics(err.diagnostics, err.sources, "text")
        sys.exit(ExitCode.FINDINGS)
    files = case_files(rulebooks, case_paths, kind)
    as_of = as_of or datetime.now().replace(microsecond=0)
    outputs = _formats("--findings-format", findings_formats, FINDINGS_FORMATS)
    if "parquet" in outputs and not out_dir:
        raise click.UsageError("--findings-format parquet 需要 --out（Parquet 文件写入该目录）")
    engine = choose_engine(engine, rulebooks, files)
    settings = EngineSettings(progress, memory_limit, workdir, spark_master)
    try:
        run, findings = _evaluate(engine, rulebooks, files, as_of, include_passed, settings, keep_records=bool(notices_dir))
    except RecordFileError as err:
        raise click.UsageError(str(err)) from None
    if notices_dir:
        findings = list(findings)  # notices need them again; otherwise stream
    fired = _write(findings, run, out_dir, fmt, outputs)
    click.echo(run.summary.line(), err=True)
    _print_breakdown(run.summary)
    if notices_dir:
        notices = notices_for_run(rulebooks, findings, directory, as_of, run.records, notice_group,
                                  run.summary.to_dict(), unmask)
        write_notices(notices, notices_dir, formats)
        click.echo(f"通知单 {len(notices.notices)} 份、路由缺口 {len(notices.routing_gaps)} 项 → {notices_dir}", err=True)
    if out_dir:
        Path(out_dir, "summary.json").write_text(json.dumps(run.summary.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    sys.exit(ExitCode.FINDINGS if (fail_on_fired and fired) else ExitCode.OK)


def _formats(option: str, text: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of formats, each one of `known`, in order, without repeats."""
    formats = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in known]
    if unknown or not formats:
        raise click.UsageError(f"{option}: 未知格式 {', '.join(unknown) or '(空)'}（可选：{', '.join(known)}）")
    return formats


def _evaluate(engine: str, rulebooks, files, as_of, include_passed: bool, settings: EngineSettings,
              keep_records: bool):
    """(run, findings) by the chosen engine; untranslatable rules stop the SQL engines (E0601).
    The Python engine holds one kind at a time unless the records are wanted afterwards (notices)."""
    if engine == "python" and not keep_records:
        return stream_cases(rulebooks, files, as_of, include_passed)
    if engine == "python":
        run = read_cases(rulebooks, files)
        return run, evaluate(rulebooks, run, as_of, include_passed)
    try:
        return evaluate_with(engine, rulebooks, files, as_of, include_passed, settings)
    except RulebookError as err:  # refuse the whole run rather than fall back rule by rule
        show_diagnostics(err.diagnostics, err.sources, "text")
        sys.exit(ExitCode.FINDINGS)


def _write(findings, run, out_dir: str | None, fmt: str, outputs: tuple[str, ...] = ("jsonl",)) -> int:
    fired = 0
    out = _open(out_dir, "findings." + ("json" if fmt == "json" else "jsonl")) if "jsonl" in outputs or not out_dir else None
    parquet = ParquetFindingsWriter(Path(out_dir, "findings.parquet")) if out_dir and "parquet" in outputs else None
    rows = []
    for f in findings:
        fired += f.outcome == "fired"
        if parquet is not None:
            parquet.write(f)
        if out is None:
            continue
        if fmt == "jsonl" or out_dir:
            out.write(f.model_dump_json() + "\n") if fmt != "json" else rows.append(f.model_dump(mode="json"))
        else:
            rows.append(f)
    if parquet is not None:
        parquet.close()
    if out is not None and fmt == "json":
        out.write(json.dumps([r if isinstance(r, dict) else r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2) + "\n")
    elif fmt == "table" and not out_dir:
        _table(rows)
    if out_dir:
        if out is not None:
            out.close()
        with _open(out_dir, "rejections.jsonl") as rej:
            for r in run.rejections:
                rej.write(r.model_dump_json() + "\n")
    elif run.rejections:
        for r in run.rejections:
            click.echo(f"拒收 {r.source}:{r.line}: {r.reason}", err=True)
    return fired


def _open(out_dir: str | None, name: str):
    if out_dir is None:
        return sys.stdout
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return open(Path(out_dir, name), "w", encoding="utf-8")


def _table(findings) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("rule", "level", "record", "outcome", "missing", "title")
    for f in findings:
        table.add_row(f.rule, f.level, f.record_key, f.outcome, ", ".join(f.missing), f.title)
    Console().print(table)


def _print_breakdown(summary) -> None:
    for title, counter in (("规则集", summary.by_rulebook), ("风险环节", summary.by_link), ("级别", summary.by_level)):
        names = sorted({name for name, _ in counter})
        parts = [f"{n}: fired {counter[(n, 'fired')]} / undetermined {counter[(n, 'undetermined')]}" for n in names]
        click.echo(f"按{title}: " + "; ".join(parts), err=True)
