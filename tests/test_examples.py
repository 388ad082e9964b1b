"""The bundled examples: the rulebooks check clean, their tests pass, and README's main command
runs on the bundled case files with findings that follow the contract, a summary that
reconciles, exactly the planted rejections, and the same findings from CSV, JSONL and Parquet.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance_engine.api import check
from compliance_engine.cli import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RULEBOOKS = EXAMPLES / "rulebooks"
CASES = EXAMPLES / "cases"
AS_OF = "2026-03-31T18:00"

CONTRACT_KEYS = {"rule", "title", "rulebook", "rulebook_version", "record_kind", "record_key", "outcome",
                 "missing", "evidence", "level"}


def _make_cases():
    spec = importlib.util.spec_from_file_location("make_cases", EXAMPLES / "make_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_command() -> list[str]:
    """The arguments of README's main command (after `compliance`)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\.venv/bin/compliance (run [^\n`]*)", readme)
    assert found, "README no longer shows `.venv/bin/compliance run …`"
    return shlex.split(found.group(1))


def _invoke(args: list[str], monkeypatch) -> object:
    monkeypatch.chdir(ROOT)  # the README command uses paths relative to the repository root
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def _run(monkeypatch, out: Path, ticket: str = "ticket.csv", billing: str = "billing.csv", *extra: str):
    args = ["run", "--rulebook", "examples/rulebooks", "--cases", f"examples/cases/{ticket}",
            "--cases", f"examples/cases/{billing}", "--as-of", AS_OF, "--out", str(out), *extra]
    result = _invoke(args, monkeypatch)
    assert result.exit_code == 0, result.output
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rejections = [json.loads(line) for line in (out / "rejections.jsonl").read_text(encoding="utf-8").splitlines()]
    return findings, summary, rejections


def _multiset(findings: list[dict]) -> Counter:
    return Counter((f["rule"], f["record_key"], f["outcome"]) for f in findings)


# ---- the rulebooks ----------------------------------------------------------------------------
def test_examples_check_clean(monkeypatch):
    result = _invoke(["check", "--strict", "--format", "json", "examples/rulebooks"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []
    fresh = check([RULEBOOKS], use_cache=False)
    assert fresh.ok and fresh.diagnostics == []
    rules = {r.id for r in fresh.program.rules}
    assert len(rules) >= 12 and all(r.tests for r in fresh.program.rules)


def test_examples_text_check_reports_nothing(monkeypatch):
    result = _invoke(["check", "examples/rulebooks"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_example_rule_tests_pass(monkeypatch):
    result = _invoke(["test", "examples/rulebooks"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert re.search(r"\b\d+ passed, 0 failed", result.output), result.output


# ---- README's main command --------------------------------------------------------------------
def test_readme_main_command(monkeypatch, tmp_path):
    """The standard rulebooks over the bundled generated cases: exactly the planted findings,
    a reconciled summary, and notices in every format."""
    args = _readme_command()
    assert args[args.index("--out") + 1] == "out" and args[args.index("--notices") + 1] == "out/notices"
    args[args.index("--out") + 1] = str(tmp_path / "out")
    args[args.index("--notices") + 1] = str(tmp_path / "out" / "notices")
    result = _invoke(args, monkeypatch)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    found = {(f["rule"], f["record_key"], f["outcome"])
             for f in map(json.loads, (out / "findings.jsonl").read_text(encoding="utf-8").splitlines())}
    truth = {(t["rule"], t["record_key"], t["outcome"])
             for t in map(json.loads, (EXAMPLES / "generated" / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines())}
    assert found == truth
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["reconciles"] and summary["read"] == summary["evaluated"] + summary["rejected"]
    assert set(summary["by_rulebook"]) == {"投诉预控", "网络安全", "业务流程风险点"}
    suffixes = {p.suffix for p in (out / "notices").iterdir()}
    assert {".md", ".html", ".docx", ".json"} <= suffixes


def test_example_rulebook_run(monkeypatch, tmp_path):
    args = ["run", "--rulebook", "examples/rulebooks", "--cases", "examples/cases/ticket.csv",
            "--cases", "examples/cases/billing.csv", "--as-of", "2026-03-31T18:00", "--out", str(tmp_path / "out")]
    result = _invoke(args, monkeypatch)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"findings.jsonl", "rejections.jsonl", "summary.json"}

    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert findings
    for f in findings:
        assert CONTRACT_KEYS <= f.keys(), f
        assert f["contract"] == "1.0"
        assert f["outcome"] in ("fired", "undetermined")  # passed only with --all
        assert f["rulebook"] == "示例" and f["rulebook_version"] == "2026.1"
        assert f["record_kind"] in ("ticket", "billing")
        assert f["level"] in ("一级", "二级", "三级", "四级")
        assert isinstance(f["evidence"], dict) and f["evidence"]
        assert isinstance(f["missing"], list)
        assert bool(f["missing"]) == (f["outcome"] == "undetermined"), f
        assert f["as_of"].startswith("2026-03-31T18:00")
    outcomes = Counter(f["outcome"] for f in findings)
    assert outcomes["fired"] > 0 and outcomes["undetermined"] > 0
    # every example rule has something to show on the bundled data
    assert {f["rule"] for f in findings} == {r.id for r in check([RULEBOOKS]).program.rules}

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    bad = _make_cases().BAD_ROWS
    assert summary["read"] == summary["evaluated"] + summary["rejected"]
    assert summary["reconciles"] is True
    assert summary["rejected"] == len(bad) == 3
    assert summary["read"] == _data_rows(CASES / "ticket.csv") + _data_rows(CASES / "billing.csv")
    assert summary["outcomes"]["fired"] == outcomes["fired"]
    assert summary["outcomes"]["undetermined"] == outcomes["undetermined"]

    rejections = [json.loads(line) for line in (out / "rejections.jsonl").read_text(encoding="utf-8").splitlines()]
    # CSV: the header is line 1, so the row at 0-based index i is on line i + 2
    assert sorted((r["record_kind"], r["line"]) for r in rejections) == sorted((k, i + 2) for k, i, _, _ in bad)
    for r, (_, _, field, value) in zip(sorted(rejections, key=lambda r: (r["record_kind"], r["line"])),
                                       sorted(bad, key=lambda b: (b[0], b[1]))):
        assert field in r["reason"] and value in r["reason"], r


def _data_rows(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip())


def test_all_adds_passed(monkeypatch, tmp_path):
    default, summary, _ = _run(monkeypatch, tmp_path / "default")
    everything, summary_all, _ = _run(monkeypatch, tmp_path / "all", "ticket.csv", "billing.csv", "--all")
    assert {f["outcome"] for f in default} == {"fired", "undetermined"}
    assert {f["outcome"] for f in everything} == {"fired", "undetermined", "passed"}
    assert _multiset(f for f in everything if f["outcome"] != "passed") == _multiset(default)
    assert Counter(f["outcome"] for f in everything) == Counter(summary_all["outcomes"])
    assert summary_all["outcomes"] == summary["outcomes"]


def test_same_findings_from_csv_jsonl_parquet(monkeypatch, tmp_path):
    runs = {fmt: _run(monkeypatch, tmp_path / fmt, f"ticket.{fmt}", f"billing.{fmt}", "--all")
            for fmt in ("csv", "jsonl", "parquet")}
    csv_findings, csv_summary, csv_rejections = runs["csv"]
    for fmt in ("jsonl", "parquet"):
        findings, summary, rejections = runs[fmt]
        assert _multiset(findings) == _multiset(csv_findings), fmt
        assert {k: summary[k] for k in ("read", "evaluated", "rejected", "outcomes")} == \
               {k: csv_summary[k] for k in ("read", "evaluated", "rejected", "outcomes")}, fmt
        assert [(r["record_kind"], r["line"]) for r in rejections] == \
               [(r["record_kind"], r["line"] - 1) for r in csv_rejections], fmt  # JSONL/Parquet: no header


def test_generated_cases_are_up_to_date(monkeypatch, tmp_path):
    """examples/make_cases.py is deterministic and the committed files are its output."""
    module = _make_cases()
    monkeypatch.setattr(module, "CASES", tmp_path)
    module.main()
    for name in ("ticket", "billing"):
        for suffix in ("csv", "jsonl"):
            assert (tmp_path / f"{name}.{suffix}").read_bytes() == (CASES / f"{name}.{suffix}").read_bytes(), \
                f"{name}.{suffix} is stale: run .venv/bin/python examples/make_cases.py"
        pq = pytest.importorskip("pyarrow.parquet")
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(pq.read_table(CASES / f"{name}.parquet"))
