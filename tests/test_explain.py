"""`compliance explain` (compliance_engine/explain.py, cli/explain.py): why a rule fired, passed or
was undetermined, clause by clause with values, margins and counterfactuals, the responsibility
chain and the root cause. Snapshots of the text for the bundled examples (READ them after
`--snapshot-update`), and the JSON contract of docs/responsibility.md § Explain."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance_engine import load_rulebooks
from compliance_engine.cli import explain as explain_cli
from compliance_engine.cli.explain import explain_command
from compliance_engine.explain import EXPLAIN_CONTRACT, ExplainError, Explanation, explain
from compliance_engine.org import load_directory

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["--rulebook", "examples/rulebooks", "--cases", "examples/cases/ticket.csv",
            "--cases", "examples/cases/billing.csv", "--as-of", "2026-03-31T18:00", "--org", "examples/org.yaml"]
TICKET_HEADER = "ticket_no,org_no,cons_no,ticket_type,category,channel,area,accepted_at,dispatched_at,arrived_at,sensitive,content"


@cache
def cached_directory(path: str):
    return load_directory(ROOT / path)


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # relative paths, so the snapshots name files as the officer typed them
    monkeypatch.setattr(explain_cli, "load_directory", cached_directory)  # YAML parsing is slow; read it once


def run(*args: str, examples: bool = True):
    return CliRunner().invoke(explain_command, [*args, *(EXAMPLES if examples else [])], catch_exceptions=False)


@pytest.mark.parametrize(("rule", "case"), [
    ("TS-013", "T202603190186"),  # fired: a time difference over a duration, by 1 minute
    ("TS-061", "T202603290271"),  # fired: a window count; root cause on another ticket of the customer
    ("TS-013", "T202603010001"),  # passed: not a repair ticket
    ("TS-014", "T202603150144"),  # undetermined: no arrival time; root cause TS-013 on the same ticket
    ("EX-001", "33401"),  # a group: overdue bills of one unit; root causes by org_no
], ids=["fired", "fired-window", "passed", "undetermined", "group"])
def test_explain_text(rule, case, snapshot):
    result = run(rule, "--case", case)
    assert result.exit_code == 0, result.output
    assert result.output == snapshot


def write_tickets(tmp_path, *rows: str) -> Path:
    path = tmp_path / "ticket.csv"
    path.write_text("\n".join([TICKET_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def explain_json(*args: str) -> dict:
    result = run(*args, "--format", "json", examples=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    Explanation.model_validate(data)  # the JSON is the documented model
    return data


def deciding_leaves(clause: dict) -> list[dict]:
    if clause["parts"]:
        return [leaf for p in clause["parts"] for leaf in deciding_leaves(p)]
    return [clause] if clause["deciding"] else []


def test_threshold_margin_and_counterfactual_in_chinese(tmp_path):
    """The issue's example: arrived 12 minutes late in the city; by 10:45 it would not warn."""
    cases = write_tickets(tmp_path, "T9,33401,C9,故障报修,,95598电话,城区,2026-03-02 10:00,2026-03-02 10:01,2026-03-02 10:57,false,停电")
    data = explain_json("TS-013", "--case", "T9", "--rulebook", "examples/rulebooks", "--cases", str(cases),
                        "--as-of", "2026-03-02T12:00")
    assert data["contract"] == EXPLAIN_CONTRACT and data["outcome"] == "fired"
    leaf = deciding_leaves(data["condition"])[-1]
    assert leaf["margin"]["text"] == "到达现场超时 12 分钟（用时 57 分钟，限值 45 分钟）"
    assert leaf["margin"]["difference"] == "PT12M"
    cf = leaf["counterfactual"]
    assert cf["text"] == "到达现场时间不晚于 2026-03-02 10:45 则不预警"
    assert (cf["field"], cf["relation"], cf["boundary"], cf["flips_outcome"], cf["checked_by"]) == (
        "arrived_at", "le", "2026-03-02T10:45:00", True, "re-evaluation")
    assert any("到达现场超时 12 分钟" in s and "10:45" in s for s in data["summary"])
    assert data["responsibility"] is None  # no --org
    assert [r["name"] for r in leaf["reads"]] == ["arrived_at", "as_of", "accepted_at", "limit"]


def test_passed_threshold_says_what_would_fire(tmp_path):
    cases = write_tickets(tmp_path, "T9,33401,C9,故障报修,,95598电话,农村,2026-03-02 10:00,2026-03-02 10:01,2026-03-02 11:20,false,停电")
    data = explain_json("TS-013", "--case", "T9", "--rulebook", "examples/rulebooks", "--cases", str(cases),
                        "--as-of", "2026-03-02T12:00")
    assert data["outcome"] == "passed"
    (leaf,) = deciding_leaves(data["condition"])
    assert leaf["margin"]["text"] == "到达现场未超时（用时 1 小时 20 分钟，限值 1 小时 30 分钟）"
    assert leaf["counterfactual"]["text"] == "到达现场时间晚于 2026-03-02 11:30 则预警"
    assert leaf["counterfactual"]["flips_outcome"]


def test_counterfactual_that_alone_would_not_change_the_outcome(tmp_path):
    """TS-056 fires on a late first contact *and* a late reply: fixing one alone still warns."""
    header = "ticket_no,org_no,ticket_type,channel,area,accepted_at,contacted_at,replied_at,sensitive,content"
    path = tmp_path / "ticket.csv"
    path.write_text(header + "\nT9,33401,投诉,95598电话,城区,2026-03-02 10:00,2026-03-04 10:00,2026-03-20 10:00,false,投诉\n",
                    encoding="utf-8")
    data = explain_json("TS-056", "--case", "T9", "--rulebook", "examples/rulebooks", "--cases", str(path),
                        "--as-of", "2026-03-31T18:00")
    contact, reply = deciding_leaves(data["condition"])[1:]
    assert contact["counterfactual"]["flips_outcome"] is False
    assert contact["counterfactual"]["text"].endswith("但其他条件仍使结论不变")
    assert reply["margin"]["text"].startswith("workdays_between(accepted_at, replied_at ?? as_of) 为 14，高于 5（差 9）")


def test_undetermined_names_the_empty_fields():
    data = explain_json("TS-001", "--case", "T202603220208", *EXAMPLES)
    assert data["outcome"] == "undetermined" and data["missing"] == ["category"]
    (leaf,) = deciding_leaves(data["condition"])
    assert (leaf["source"], leaf["value"], leaf["empty"]) == ("category == 安全隐患", None, ["category"])
    assert data["summary"][0] == "无法判断：诉求分类（category）为空"


def test_json_masks_personal_data_unless_unmasked():
    masked = run("TS-013", "--case", "T202603190186", "--format", "json").output
    data = json.loads(masked)
    holder = data["responsibility"]["owner"]["holders"][0]
    assert holder["name"].endswith("**") and "****" in holder["phone"]
    unmasked = json.loads(run("TS-013", "--case", "T202603190186", "--format", "json", "--unmask").output)
    full = unmasked["responsibility"]["owner"]["holders"][0]
    assert full["id"] == holder["id"] and full["name"] not in masked and full["phone"] not in masked
    assert full["name"] in run("TS-013", "--case", "T202603190186", "--unmask").output


def test_root_cause_in_json_names_the_upstream_finding_and_its_owner():
    data = json.loads(run("TS-014", "--case", "T202603150144", "--format", "json").output)
    (rc,) = data["root_causes"]
    assert (rc["finding"]["id"], rc["relation"], rc["via"]) == ("TS-013:T202603150144", "same_record", [])
    assert rc["owner"]["post"] == "抢修班长" and rc["owner"]["unit"]["code"] == "33403"
    assert data["responsibility"]["root_causes"] == data["root_causes"]


def test_group_window_lists_the_counted_rows():
    data = json.loads(run("EX-001", "--case", "33401", "--format", "json").output)
    (window,) = data["windows"]
    assert window["rows_total"] == 3 and window["rows"][0] == "3340100001|2026-01"
    assert {a["name"]: a["value"] for a in window["aggregates"]} == {"n_overdue": 3, "owed": "3571.91"}


def test_unknown_rule_or_case_is_a_usage_error():
    result = run("XX-999", "--case", "T1")
    assert result.exit_code == 2 and "没有规则 XX-999" in result.output
    result = run("TS-013", "--case", "NOPE")
    assert result.exit_code == 2 and "找不到键为 NOPE" in result.output and "ticket_no" in result.output


def test_library_api_without_directory():
    rulebooks = load_rulebooks([ROOT / "examples" / "rulebooks"])
    from compliance_engine.records import read_rows

    kind = rulebooks.kinds["ticket"]
    records = {"ticket": [r.record for r in read_rows(ROOT / "examples" / "cases" / "ticket.csv", kind) if r.record]}
    e = explain(rulebooks, "TS-014", "T202603150144", records, datetime(2026, 3, 31, 18))
    assert e.responsibility is None and [rc.finding.rule for rc in e.root_causes] == ["TS-013"]
    assert e.root_causes[0].owner is None and e.root_causes[0].owner_text.endswith("抢修班长")
    with pytest.raises(ExplainError):
        explain(rulebooks, "BP-025", "x", records, datetime(2026, 3, 31, 18))  # no billing records given
