"""`compliance check --format text|json|sarif|github`, `--max-errors` and `--strict`.

SARIF is validated against the official SARIF 2.1.0 schema, vendored as
tests/data/sarif-schema-2.1.0.json (OASIS sarif-spec, Schemata/sarif-schema-2.1.0.json, errata01).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from compliance_engine.cli import cli
from compliance_engine.diagnostics import Diagnostic, render_all
from compliance_engine.report_formats import CODE_TITLES, Report, github_annotation, render_sarif
from compliance_engine.source import Span

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)

# Two errors (E0201 twice) and two warnings (W0201, W0204), in this source order:
# 48:8 E0201, 91:3 W0201, 91:8 E0201, 92:9 W0204.
BROKEN_EDITS = [("when ticket_type == 故障报修", "when ticket_typ == 故障报修"),
                ("when kwh_avg3 > 0 and", "when kwh_avg > 0 and"),
                ("  empty kwh_avg3 means undetermined", "  empty kwh means undetermined")]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def sample_with(edits) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    """A repository-like folder as the current directory, with a broken rulebook in rulebooks/."""
    (tmp_path / "rulebooks").mkdir()
    (tmp_path / "rulebooks" / "坏 规则.rules").write_text(sample_with(BROKEN_EDITS), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def warnings_only(tmp_path) -> Path:
    path = tmp_path / "warn.rules"
    path.write_text(sample_with(BROKEN_EDITS[2:]), encoding="utf-8")  # W0201 and W0204 only
    return path


def sarif_of(*args: str) -> dict:
    result = invoke("check", "--format", "sarif", *args)
    log = json.loads(result.stdout)
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors)
    return log


# ---- SARIF ----

def test_the_vendored_schema_is_the_official_one():
    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    Draft4Validator.check_schema(SCHEMA)


def test_the_schema_check_is_not_vacuous():
    """The validator rejects what a careless renderer could write."""
    log = json.loads(render_sarif(Report.limit([Diagnostic("E0201", "x", Span("a.rules", 1, 1, 1, 2))]), {}))
    assert VALIDATOR.is_valid(log)
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not VALIDATOR.is_valid(log)
    log["runs"][0]["results"][0]["level"] = "error"
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not VALIDATOR.is_valid(log)


def test_an_uncatalogued_code_still_makes_a_valid_rule():
    log = json.loads(render_sarif(Report.limit([Diagnostic("W0999", "x", Span("a.rules", 1, 1, 1, 2))]), {}))
    assert VALIDATOR.is_valid(log)
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert (rule["shortDescription"]["text"], rule["defaultConfiguration"]["level"]) == ("警告", "warning")


def test_sarif_is_valid_and_complete(workdir):
    log = sarif_of("rulebooks")
    (run,) = log["runs"]
    assert (log["version"], run["tool"]["driver"]["name"]) == ("2.1.0", "compliance")
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["E0201", "W0201", "W0204"]  # one descriptor per code
    assert {r["id"]: r["shortDescription"]["text"] for r in rules} == {c: CODE_TITLES[c] for c in ("E0201", "W0201", "W0204")}
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "warning", "warning"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("E0201", "error"), ("W0201", "warning"), ("E0201", "error"), ("W0204", "warning")]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_sarif_locations_are_relative_and_percent_encoded(workdir):
    first = sarif_of("rulebooks")["runs"][0]["results"][0]
    (location,) = first["locations"]
    artifact, region = location["physicalLocation"]["artifactLocation"], location["physicalLocation"]["region"]
    assert artifact["uriBaseId"] == "%SRCROOT%" and " " not in artifact["uri"]
    assert unquote(artifact["uri"]) == "rulebooks/坏 规则.rules"
    # `ticket_typ` at line 48, columns 8-17; the end column is the one after the region
    assert region == {"startLine": 48, "startColumn": 8, "endLine": 48, "endColumn": 18}


def test_sarif_uri_outside_the_current_directory_is_absolute(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    broken = tmp_path / "broken.rules"
    broken.write_text(sample_with(BROKEN_EDITS[:1]), encoding="utf-8")
    (result,) = sarif_of(str(broken))["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": broken.resolve().as_uri()}


def test_sarif_message_carries_the_hint(workdir):
    first = sarif_of("rulebooks")["runs"][0]["results"][0]
    # GitHub shows message.text only: the hint must be in it, after the message
    assert first["message"]["text"] == ("未知名称 `ticket_typ`：它不是记录类型 ticket 的字段、事实、let 或窗口结果\n"
                                        "提示: 是否要写 `ticket_type`？")
    assert first["properties"]["hint"] == "是否要写 `ticket_type`？"


def test_sarif_of_a_clean_rulebook_has_no_results():
    log = sarif_of(str(SAMPLE))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_of_a_diagnostic_without_a_place(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("check", "--format", "sarif", str(tmp_path / "empty"))
    (found,) = json.loads(result.stdout)["runs"][0]["results"]
    assert found["ruleId"] == "E0107" and "locations" not in found and result.exit_code == 1


def test_every_diagnostic_code_has_a_title():
    """SARIF rules need a short description: a new code in the engine needs a CODE_TITLES line."""
    used = set()
    for path in (ROOT / "compliance_engine").rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{4})"', path.read_text(encoding="utf-8")))
    assert used - set(CODE_TITLES) == set()


# ---- GitHub workflow commands ----

def test_github_annotations(workdir):
    result = invoke("check", "--format", "github", "rulebooks")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0] == ("::error file=rulebooks/坏 规则.rules,line=48,col=8,endLine=48,endColumn=18,title=E0201::"
                        "未知名称 `ticket_typ`：它不是记录类型 ticket 的字段、事实、let 或窗口结果 (提示: 是否要写 `ticket_type`？)")
    assert [line.split(" ", 1)[0] for line in lines[:4]] == ["::error", "::warning", "::error", "::warning"]
    assert lines[4] == "2 个错误, 2 个警告 (2 error(s), 2 warning(s))"


def test_github_escaping(tmp_path):
    """Data escapes % CR LF; property values also `:` and `,` (they would end the property)."""
    diag = Diagnostic("W0201", "超时 50%\r\n下一行: a, b", Span(str(tmp_path / "dir,x" / "a:b%.rules"), 3, 1, 4, 2),
                      hint="写 a::b")
    assert github_annotation(diag, tmp_path) == (
        "::warning file=dir%2Cx/a%3Ab%25.rules,line=3,col=1,endLine=4,endColumn=2,title=W0201::"
        "超时 50%25%0D%0A下一行: a, b (提示: 写 a::b)")


def _unescape_property(text: str) -> str:
    """What the Actions runner does to a property value (actions/runner ActionCommand)."""
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        text = text.replace(code, char)
    return text


@given(st.text(alphabet=st.sampled_from("a%:,\r\n规 ")))
def test_github_property_escaping_round_trips(name):
    line = github_annotation(Diagnostic("E0101", "x", Span("/" + name, 1, 1, 1, 2)), Path("/"))
    value = line.split("file=", 1)[1].split(",line=", 1)[0]
    assert "," not in value and ":" not in value and "\n" not in value
    assert _unescape_property(value) == str(Path("/" + name).resolve().relative_to("/"))


# ---- --max-errors ----

def test_max_errors_text(workdir):
    result = invoke("check", "--max-errors", "1", "rulebooks")
    assert result.exit_code == 1
    assert result.stdout.count("error[E0201]") == 1 and "warning[" not in result.stdout
    assert "另有 1 个错误、2 个警告未列出" in result.stdout
    assert result.stdout.rstrip().endswith("2 个错误, 2 个警告 (2 error(s), 2 warning(s))")  # counts everything


def test_max_errors_keeps_earlier_warnings(workdir):
    result = invoke("check", "--format", "github", "--max-errors", "2", "rulebooks")
    kinds = [line.split(" ", 1)[0] for line in result.stdout.splitlines()]
    assert kinds[:4] == ["::error", "::warning", "::error", "::notice"]
    assert "另有 0 个错误、1 个警告未列出" in result.stdout


def test_max_errors_machine_formats(workdir):
    result = invoke("check", "--format", "json", "--max-errors", "1", "rulebooks")
    assert [d["code"] for d in json.loads(result.stdout)] == ["E0201"]
    assert "另有 1 个错误、2 个警告未列出" in result.stderr
    log = sarif_of("--max-errors", "1", "rulebooks")
    assert len(log["runs"][0]["results"]) == 1
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "另有 1 个错误" in note["message"]["text"]


def test_max_errors_must_be_positive(workdir):
    assert invoke("check", "--max-errors", "0", "rulebooks").exit_code == 2


def _diags(severities: list[str]) -> list[Diagnostic]:
    return [Diagnostic("E0201" if s == "e" else "W0201", str(i), Span("a.rules", i + 1, 1, i + 1, 2))
            for i, s in enumerate(severities)]


@given(st.lists(st.sampled_from("ew"), max_size=12), st.integers(min_value=1, max_value=6))
def test_report_limit(severities, n):
    diags = _diags(severities)
    report = Report.limit(diags, n)
    shown_errors = sum(d.code.startswith("E") for d in report.shown)
    assert list(report.shown) == diags[: len(report.shown)]  # a prefix, in order
    assert shown_errors == min(n, severities.count("e"))
    assert (report.errors, report.warnings) == (severities.count("e"), severities.count("w"))
    assert not report.omitted or report.shown[-1].code.startswith("E")  # cut right after the n-th error


# ---- text, json, --strict ----

def test_text_and_json_are_unchanged(workdir):
    from compliance_engine.api import check

    found = check(["rulebooks"])
    assert invoke("check", "rulebooks").stdout == render_all(found.diagnostics, found.sources) + "\n"
    assert json.loads(invoke("check", "--format", "json", "rulebooks").stdout) == [d.to_dict() for d in found.diagnostics]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_strict_makes_warnings_fail(warnings_only, fmt):
    assert invoke("check", "--format", fmt, str(warnings_only)).exit_code == 0
    result = invoke("check", "--format", fmt, "--strict", str(warnings_only))
    assert result.exit_code == 1 and "W0201" in result.stdout
