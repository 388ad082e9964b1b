"""The `compliance` command: exit codes mean something (0 ok, 1 findings/errors, 2 usage,
3 internal), output formats, and the documented embedding example runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance_engine.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
TICKETS = """ticket_no,org_no,cons_no,ticket_type,category,area,accepted_at,arrived_at,sensitive
T1,33401,C1,故障报修,安全隐患,城区,2026-03-02 10:00,2026-03-02 10:50,false
T2,33401,C1,投诉,安全隐患,城区,2026-03-01 10:00,,false
T3,33401,,咨询,,农村,2026-03-02 10:00,,no
T4,33401,C2,咨询,电费,火星,2026-03-02 10:00,,false
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def tickets(tmp_path) -> Path:
    path = tmp_path / "ticket.csv"
    path.write_text(TICKETS, encoding="utf-8")
    return path


@pytest.fixture()
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.rules"
    path.write_text(SAMPLE.read_text(encoding="utf-8").replace("when ticket_type == 故障报修", "when ticket_typ == 故障报修"),
                    encoding="utf-8")
    return path


def test_check_exit_codes(broken):
    assert invoke("check", str(SAMPLE)).exit_code == 0
    result = invoke("check", str(broken))
    assert result.exit_code == 1 and "E0201" in result.output and "ticket_type" in result.output
    assert invoke("check").exit_code == 2  # no path: usage
    assert invoke("check", "no/such/file.rules").exit_code == 2


def test_check_json(broken):
    result = invoke("check", "--format", "json", str(broken))
    (diag,) = json.loads(result.output)
    assert (diag["code"], diag["severity"], diag["line"], diag["column"]) == ("E0201", "error", 48, 8)


def test_run_writes_findings_and_reconciles(tickets, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", "--rulebook", str(SAMPLE), "--cases", str(tickets), "--as-of", "2026-03-02T12:00", "--out", str(out))
    assert result.exit_code == 0
    findings = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((f["rule"], f["record_key"], f["outcome"]) for f in findings) == [
        ("R-001", "T1", "fired"), ("R-002", "T1", "fired"), ("R-002", "T3", "undetermined")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["read"], summary["evaluated"], summary["rejected"], summary["reconciles"]) == (4, 3, 1, True)
    (rejection,) = [json.loads(line) for line in (out / "rejections.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejection["line"] == 5 and "火星" in rejection["reason"]
    assert "read 4 = evaluated 3 + rejected 1" in result.output


def test_run_exit_codes(tickets, broken, tmp_path):
    args = ["--cases", str(tickets), "--as-of", "2026-03-02T12:00"]
    assert invoke("run", "--rulebook", str(SAMPLE), *args, "--fail-on-fired").exit_code == 1
    assert invoke("run", "--rulebook", str(broken), *args).exit_code == 1
    assert invoke("run", "--rulebook", str(SAMPLE), *args, "--kind", "nosuchkind").exit_code == 2
    unknown = tmp_path / "weird.csv"
    unknown.write_text(TICKETS, encoding="utf-8")
    result = invoke("run", "--rulebook", str(SAMPLE), "--cases", str(unknown))
    assert result.exit_code == 2 and "--kind" in result.output


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_run_formats(tickets, fmt):
    result = invoke("run", "--rulebook", str(SAMPLE), "--cases", str(tickets), "--as-of", "2026-03-02T12:00", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        start = result.output.index("[")
        rows, _ = json.JSONDecoder().raw_decode(result.output[start:])
        assert {r["outcome"] for r in rows} == {"fired", "undetermined"}
    else:
        assert "R-002" in result.output and "undetermined" in result.output


def test_test_command_exit_codes(tmp_path):
    assert invoke("test", str(SAMPLE)).exit_code == 0
    failing = tmp_path / "failing.rules"
    failing.write_text(SAMPLE.read_text(encoding="utf-8").replace(
        "arrived_at: 2026-03-02T10:45 }\n    expect passed", "arrived_at: 2026-03-02T10:45 }\n    expect fired"), encoding="utf-8")
    result = invoke("test", str(failing))
    assert result.exit_code == 1 and "FAIL R-001" in result.output and "expected fired, got passed" in result.output


def test_internal_error_exits_3(monkeypatch, tmp_path):
    """A bug of ours is reported in one line and exit 3, never as a traceback."""
    script = ("import compliance_engine.cli.check as c\n"
              "def boom(*a, **k): raise RuntimeError('boom')\n"
              "c.check = boom\n"
              "from compliance_engine.cli import main\n"
              "import sys; sys.argv = ['compliance', 'check', %r]; main()\n") % str(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "COMPLIANCE_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert "内部错误" in proc.stderr and "Traceback" not in proc.stderr


def test_embedding_example_runs():
    proc = subprocess.run([sys.executable, "examples/embed.py"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "TS-013 fired" in proc.stdout and "rejected:" in proc.stdout
