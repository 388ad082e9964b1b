"""Every command's exit codes, as docs/ci.md documents them: 0 ok, 1 findings/errors, 2 usage,
3 internal. tests/test_cli.py already covers check (0/1/2, and 3 in a subprocess), run (0/1/2) and
test (0/1); check's formats and --strict are in test_check_formats.py. Here: what holds for every
registered command, and the rest of each command's codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import compliance_engine.cache
from compliance_engine.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
COMMANDS = sorted(cli.commands)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.rules"
    path.write_text(SAMPLE.read_text(encoding="utf-8").replace("when ticket_type ==", "when ticket_typ =="), encoding="utf-8")
    return path


# ---- every registered command ----

@pytest.mark.parametrize("name", COMMANDS)
def test_help_exits_0(name):
    assert invoke(name, "--help").exit_code == 0


@pytest.mark.parametrize("name", COMMANDS)
def test_unknown_option_exits_2(name):
    assert invoke(name, "--no-such-option").exit_code == 2


@pytest.mark.parametrize("name", [n for n in COMMANDS if any(p.required for p in cli.commands[n].params)])
def test_missing_arguments_exit_2(name):
    assert invoke(name).exit_code == 2


@pytest.mark.parametrize("name", [n for n in COMMANDS if any(isinstance(p, click.Argument) for p in cli.commands[n].params)])
def test_missing_file_exits_2(name):
    arguments = [p for p in cli.commands[name].params if isinstance(p, click.Argument)]
    assert invoke(name, *["no/such/file.rules"] * len(arguments)).exit_code == 2


def test_unknown_command_exits_2():
    assert invoke("no-such-command").exit_code == 2


# ---- doc and graph: 0 and 1 (their 2 is above and in test_graph_command.py) ----

def test_doc_exit_codes(broken, tmp_path):
    out = tmp_path / "catalog.md"
    assert invoke("doc", "--out", str(out), str(SAMPLE)).exit_code == 0 and out.read_text(encoding="utf-8")
    result = invoke("doc", str(broken))
    assert result.exit_code == 1 and "E0201" in result.output


def test_graph_exit_codes(broken):
    assert invoke("graph", str(SAMPLE)).exit_code == 0
    assert invoke("graph", str(broken)).exit_code == 1
    assert invoke("graph", "--rule", "NO-SUCH", str(SAMPLE)).exit_code == 2


# ---- through the real entry point: usage errors stay 2, bugs become 3 ----

def run_main(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["compliance", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code


def test_usage_error_raised_inside_a_command_exits_2(monkeypatch, capsys):
    assert run_main(monkeypatch, "graph", "--rule", "NO-SUCH", str(SAMPLE)) == 2
    assert "内部错误" not in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["doc", str(SAMPLE)],
    ["test", str(SAMPLE)],
    ["graph", str(SAMPLE)],
    ["run", "--rulebook", str(SAMPLE), "--cases", str(SAMPLE), "--kind", "ticket"],
], ids=lambda args: args[0])
def test_internal_error_exits_3(monkeypatch, capsys, args):
    """A bug of ours (here: in the cache every command reads through) is one line and exit 3."""
    def boom(*_, **__):
        raise RuntimeError("boom")

    monkeypatch.delenv("COMPLIANCE_DEBUG", raising=False)
    monkeypatch.setattr(compliance_engine.cache, "lookup", boom)
    assert run_main(monkeypatch, *args) == 3
    err = capsys.readouterr().err
    assert "内部错误 (internal error): RuntimeError: boom" in err and "Traceback" not in err
