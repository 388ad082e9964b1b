"""`compliance test`: test files kept apart from the rulebook (YAML, table-driven cases), text,
JSON and JUnit reports, branch coverage with exact figures on a rulebook with known gaps, and
the exit codes a CI gate relies on.

Fixtures (tests/data/testing/): repair.rules (3 rules, gaps documented on each), its YAML tests
repair.test.yaml (found beside it), and failing/ (tests that fail or cannot run, on purpose).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance_engine import load_rulebooks
from compliance_engine.cli.test import test_command as command
from compliance_engine.coverage import measure
from compliance_engine.test_files import discover, load_test_files
from compliance_engine.testing import embedded_tests, execute

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("tests/data/testing")  # relative: locations in reports are compared as written
REPAIR = DATA / "repair.rules"
FAILING = DATA / "failing" / "failing.test.yaml"
BROKEN = DATA / "failing" / "broken.test.yaml"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def invoke(*args: str):
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


def _run(paths, extra=()):
    rulebooks = load_rulebooks(paths)
    tests = [*embedded_tests(rulebooks.program), *load_test_files(discover(paths, extra), rulebooks.program)]
    return rulebooks, execute(rulebooks, tests)


# ---- test files ----------------------------------------------------------------------------
def test_discovery_beside_a_file_below_a_directory_and_extra():
    assert discover([REPAIR]) == [DATA / "repair.test.yaml"]
    assert discover([DATA]) == [BROKEN, FAILING, DATA / "repair.test.yaml"]
    assert discover([REPAIR], [DATA / "failing", FAILING, DATA / "repair.test.yaml"]) == [
        DATA / "repair.test.yaml", BROKEN, FAILING]
    assert discover([ROOT / "tests" / "rulebooks" / "sample.rules"]) == []


def test_yaml_tests_pass_and_are_found_beside_the_rulebook():
    result = invoke(REPAIR)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "7 passed, 0 failed"  # 3 beside the rules, 4 from the YAML file


def test_yaml_records_take_the_rulebook_defaults_and_are_typed():
    rulebooks = load_rulebooks([REPAIR])
    tests = load_test_files([DATA / "repair.test.yaml"], rulebooks.program)
    assert [(t.rule, t.name, t.case, t.outcome) for t in tests] == [
        ("C-001", "农村 80 分钟到达不预警", "", "passed"), ("C-001", "城区到达时限", "44 分钟", "passed"),
        ("C-001", "城区到达时限", "46 分钟", "fired"), ("C-002", "无用户编号", "", "undetermined")]
    (kind, record), = tests[0].records
    assert kind == "ticket" and record == {
        "ticket_no": "T1", "cons_no": None, "area": "农村", "accepted_at": datetime(2026, 3, 2, 10, 0),
        "arrived_at": datetime(2026, 3, 2, 11, 20), "urgent": False}
    assert tests[0].as_of == datetime(2026, 3, 2, 12, 0) and tests[0].location == f"{DATA}/repair.test.yaml:3:5"
    assert tests[2].location == f"{DATA}/repair.test.yaml:21:9"  # a case: its own row


def test_evidence_is_compared_as_values_of_the_names_type():
    """PT1H30M, 5400 (seconds) and the datetime written with a space all match their JSON form."""
    rulebooks = load_rulebooks([REPAIR])
    yaml = DATA / "repair.test.yaml"
    (test, *_) = load_test_files([yaml], rulebooks.program)
    variants = [({"limit": "5400"}, True), ({"limit": "PT1H30M"}, True), ({"urgent": "否"}, True),
                ({"accepted_at": "2026-03-02T10:00:00"}, True), ({"limit": "PT1H"}, False),
                ({"cons_no": None}, True), ({"area": "城区"}, False), ({"limit": "九十分钟"}, False)]
    for evidence, ok in variants:
        (run,) = execute(rulebooks, [test.__class__(**{**test.__dict__, "evidence": evidence})])
        assert run.result.passed is ok, (evidence, run.result.mismatches)
    (run,) = execute(rulebooks, [test.__class__(**{**test.__dict__, "evidence": {"limit": "PT1H"}})])
    assert run.result.diff == ['limit: expected "PT1H", got "PT1H30M"']


def test_failures_name_the_case_and_show_expected_against_actual():
    result = invoke(REPAIR, "--tests", FAILING)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    failing = str(FAILING)
    assert lines == [
        f"{failing}:12:9: FAIL C-001 「到达时限按区域」 case 「农村」",
        "    outcome: expected fired, got passed",
        f"{failing}:13:9: FAIL C-001 「到达时限按区域」 case 「边远」",
        '    limit: expected "PT1H", got "PT2H"',
        f"{failing}:16:5: ERROR C-009 「未知规则」: 规则 C-009 不存在；是否要写 `C-003`？",
        f"{failing}:23:13: ERROR C-001 「字段写错」: 记录类型 ticket 没有字段 `arived_at`；是否要写 `arrived_at`？",
        f"{failing}:28:13: ERROR C-002 「值写错」: ticket 记录: 字段 urgent 的值 '也许' 不是有效的是/否值"
        "（应为 是/否、true/false、1/0、yes/no、y/n、t/f）",
        f"{failing}:31:5: ERROR C-001 「缺少 as_of」: 规则 C-001 用到了 as_of，测试「缺少 as_of」必须给出 as_of",
        f"{failing}:36:5: FAIL C-002 「missing 写错」",
        '    missing: expected ["ticket_no"], got ["cons_no"]',
        "8 passed, 7 failed",
    ]


@pytest.mark.parametrize("entry, message, line", [
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket}]\n", "应有 expect（单个测试）或 cases（表格测试）之一", 2),
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket}]\n  expect: fired\n  cases: []\n", "之一", 2),
    ("- name: a\n  rule: C-002\n  givn: []\n  expect: fired\n", "不认识 `givn`；是否要写 `given`？", 4),
    ("- name: a\n  rule: C-002\n  given: [{kind: tiket}]\n  expect: fired\n", "`tiket` 不存在；是否要写 `ticket`？", 4),
    ("- name: a\n  rule: C-002\n  given: []\n  expect: fired\n", "given 应是非空列表", 4),
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket}]\n  expect: fird\n", "outcome 应是 fired", 5),
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket}]\n  expect: {outcome: fired, evidence: {cons: 1}}\n",
     "evidence 中的 `cons` 不是规则的字段、let、事实或窗口结果；是否要写 `cons_no`？", 5),
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket}]\n  expect: {outcome: fired, missing: [n]}\n",
     "只有 undetermined 才能写 missing", 5),
    ("- name: a\n  rule: C-001\n  as_of: 明天\n  given: [{kind: ticket}]\n  expect: fired\n", "as_of 的值 `明天` 不是日期时间", 4),
    ("- name: a\n  rule: C-002\n  given: [{kind: ticket, record: {ticket_no: ~}}]\n  expect: fired\n",
     "必填字段 ticket_no 为空", 4),
    ("- just a string\n", "每个测试应是含 name、rule、given、expect 的映射", 2),
])
def test_mistakes_in_test_files_are_errors_at_their_line(tmp_path, entry, message, line):
    path = tmp_path / "x.test.yaml"
    path.write_text("tests:\n" + "\n".join("  " + l for l in entry.splitlines()) + "\n", encoding="utf-8")
    rulebooks = load_rulebooks([REPAIR])
    (test,) = load_test_files([path], rulebooks.program)
    assert message in test.error
    assert test.location.startswith(f"{path}:{line}:")
    (run,) = execute(rulebooks, [test])
    assert not run.result.passed and run.result.error == test.error


def test_a_bad_case_row_fails_alone(tmp_path):
    path = tmp_path / "x.test.yaml"
    path.write_text("tests:\n  - name: t\n    rule: C-002\n    given: [{kind: ticket}]\n    cases:\n"
                    "      - {name: ok, cons_no: C1, expect: passed}\n      - {name: bad, cons: C1, expect: passed}\n"
                    "      - {cons_no: C2}\n", encoding="utf-8")
    tests = load_test_files([path], load_rulebooks([REPAIR]).program)
    assert [(t.case, t.error, t.location.rsplit(":", 2)[1]) for t in tests] == [
        ("ok", "", "6"), ("bad", "记录类型 ticket 没有字段 `cons`；是否要写 `cons_no`？", "7"), ("#3", "cases 的「#3」缺少 expect", "8")]


def test_a_file_that_is_not_yaml_or_not_a_test_list_is_one_error(tmp_path):
    rulebooks = load_rulebooks([REPAIR])
    (test,) = load_test_files([BROKEN], rulebooks.program)
    assert test.error.startswith("YAML 格式错误") and test.location == f"{BROKEN}:4:1"
    other = tmp_path / "y.test.yaml"
    other.write_text("- name: a\n", encoding="utf-8")
    (test,) = load_test_files([other], rulebooks.program)
    assert test.error == "测试文件应是 `tests:` 开头的测试列表"


# ---- JUnit and JSON ------------------------------------------------------------------------
def test_junit_xml_parses_and_its_counts_add_up():
    result = invoke(REPAIR, "--tests", FAILING, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["覆盖样例", str(FAILING)]  # unknown rule: under its file
    for element, cases in [(root, root.iter("testcase")), *((s, s.findall("testcase")) for s in suites)]:
        cases = list(cases)
        assert int(element.get("tests")) == len(cases)
        assert int(element.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(element.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("15", "3", "4")
    case = next(c for c in root.iter("testcase") if c.get("name") == "到达时限按区域 [边远]")
    assert case.get("classname") == "C-001"
    failure = case.find("failure")
    assert failure.get("message") == 'limit: expected "PT1H", got "PT2H"'
    assert failure.text.splitlines() == [f"{FAILING}:13:9", 'limit: expected "PT1H", got "PT2H"']


def test_json_report_holds_results_and_coverage():
    result = invoke(REPAIR, "--format", "json", "--coverage")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert (report["passed"], report["failed"], len(report["results"])) == (7, 0, 7)
    case = report["results"][5]
    assert (case["test"], case["case"], case["actual"], case["rulebook"]) == ("城区到达时限", "46 分钟", "fired", "覆盖样例")
    cov = report["coverage"]
    assert (cov["covered"], cov["total"], cov["percent"], cov["untested_rules"]) == (11, 21, 52.38, ["C-003"])


# ---- coverage ------------------------------------------------------------------------------
def test_coverage_figures_on_a_rulebook_with_known_gaps():
    rulebooks, runs = _run([REPAIR])
    cov = measure(rulebooks, runs)
    assert [(r.rule.id, r.tests, r.covered, r.total) for r in cov.rules] == [
        ("C-001", 4, 8, 11), ("C-002", 3, 3, 4), ("C-003", 0, 0, 6)]
    assert (cov.covered, cov.total, round(cov.percent, 2), cov.untested) == (11, 21, 52.38, ["C-003"])
    where = f"{REPAIR}:"
    assert [(m.location.removeprefix(where), m.part, m.clause, m.side) for m in cov.misses["C-001"]] == [
        ("24:56", "let limit", "边远 => 2 h", "arm 2"),
        ("25:9", "when", "arrived_at ?? as_of", "default"),
        ("25:55", "when", "urgent", "true")]
    assert [(m.location.removeprefix(where), m.part, m.clause, m.side) for m in cov.misses["C-002"]] == [
        ("39:39", "where", "area != 边远", "false")]
    assert len(cov.misses["C-003"]) == 6


def test_coverage_without_the_yaml_tests_drops():
    """The YAML tests take the 农村 arm and make `>` and `or` false: without them, 3 fewer."""
    rulebooks = load_rulebooks([REPAIR])
    cov = measure(rulebooks, execute(rulebooks, embedded_tests(rulebooks.program)))
    assert [(r.rule.id, r.covered) for r in cov.rules] == [("C-001", 4), ("C-002", 3), ("C-003", 0)]


def test_coverage_of_a_group_rule_window():
    rulebooks, runs = _run([ROOT / "tests" / "rulebooks" / "sample.rules"])
    cov = measure(rulebooks, runs)
    misses = [(m.part, m.clause, m.side) for m in cov.misses["R-004"]]
    assert ("where", "paid_amount < amount", "false") in misses  # both test rows are unpaid
    assert ("when", "owed ?? 0", "default") in misses
    assert ("where", "paid_amount < amount", "true") not in misses


def test_standard_rulebooks_every_condition_is_both_true_and_false():
    """Every standard rule has a firing and a passing test (test_standard_rulebooks.py), so the
    replay must see each `when` true and false: the interpreter agrees with the outcomes."""
    rulebooks, runs = _run([ROOT / "rulebooks"])
    cov = measure(rulebooks, runs)
    assert cov.untested == [] and cov.total > 1900
    whens = {rc.rule.id: next(b for b in rc.branches if b.node is rc.rule.condition and b.sides == ("true", "false"))
             for rc in cov.rules}
    assert [rule for rule, b in whens.items() if b.taken != {"true", "false"}] == []


def test_coverage_text_and_fail_under():
    result = invoke(REPAIR, "--coverage")
    assert result.exit_code == 0
    assert result.output.splitlines()[-9:] == [
        "C-001 抢修到达超时: 8/11 (72.7%)",
        f"    {REPAIR}:24:56  边远 => 2 h  分支从未走到 (arm never taken)",
        f"    {REPAIR}:25:9  arrived_at ?? as_of  默认值从未使用 (default never used)",
        f"    {REPAIR}:25:55  urgent  从未为真 (never true)",
        "C-002 重复报修: 3/4 (75.0%)",
        f"    {REPAIR}:39:39  area != 边远  从未为假 (never false)",
        "C-003 边远地区紧急工单: 0/6 (0.0%), no tests",
        "branch coverage 52.4% (11/21 branches); 1 of 3 rules without tests",
        "7 passed, 0 failed",
    ]
    assert invoke(REPAIR, "--fail-under", "52").exit_code == 0
    below = invoke(REPAIR, "--fail-under", "52.5")
    assert below.exit_code == 1 and "branch coverage 52.4% is below --fail-under 52.5%" in below.stderr
    assert "branch coverage 52.4%" in below.stdout  # --fail-under implies --coverage


# ---- exit codes ----------------------------------------------------------------------------
def test_exit_codes(tmp_path):
    assert invoke(REPAIR).exit_code == 0
    assert invoke(REPAIR, "--tests", FAILING).exit_code == 1
    assert invoke(REPAIR, "--tests", BROKEN).exit_code == 1
    broken_rules = tmp_path / "bad.rules"
    broken_rules.write_text(REPAIR.read_text(encoding="utf-8").replace("when n >= 2", "when m >= 2"), encoding="utf-8")
    assert invoke(broken_rules).exit_code == 1
    assert invoke().exit_code == 2  # no path
    assert invoke("no/such.rules").exit_code == 2
    assert invoke(REPAIR, "--tests", "no/such.test.yaml").exit_code == 2
    assert invoke(REPAIR, "--fail-under", "101").exit_code == 2
    assert invoke(REPAIR, "--format", "xml").exit_code == 2


def test_coverage_of_else_arms_and_compute_conditions(compile_rules):
    rulebooks = compile_rules("""rulebook E "样例" version "1" effective 2026-01-01
record r {
  id: text key
  k: text
  a: enum(甲, 乙, 丙)
  x: int
}
defaults r { id: "1", k: "K", a: 甲, x: 1 }
rule E-1 "e" {
  on r
  level 一级
  owner 部
  window over r by k compute big = count(x > 5)
  let w = match a { 甲 => 1, 乙 | 丙 => 2, else => 3 }
  when big + w >= 2
  test "甲" { given r { } given r { id: "2", x: 9 } expect fired }
  test "丙" { given r { a: 丙 } expect fired }
}
""")
    cov = measure(rulebooks, execute(rulebooks, embedded_tests(rulebooks.program)))
    assert [(m.part, m.clause, m.side, m.message) for m in cov.misses["E-1"]] == [
        ("let w", "match a { 甲 => 1, 乙 | 丙 => 2, else => 3 }", "else", "else 分支从未走到 (else arm never taken)"),
        ("when", "big + w >= 2", "false", "从未为假 (never false)")]
    assert (cov.covered, cov.total) == (5, 7)  # compute x > 5: true and false (rows 1 and 2); arms 甲, 乙|丙
