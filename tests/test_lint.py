"""`compliance lint`: each lint fires on a rulebook that has the problem (at the exact place, with
the exact message) and stays silent on a near miss; the enum reasoning is checked against the real
evaluator (hypothesis); the standard rulebooks lint to a short, useful list."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine.api import check
from compliance_engine.check.lints import LINTS, run_lints
from compliance_engine.cli.lint import lint_command

ROOT = Path(__file__).resolve().parents[1]

HEADER = """rulebook 测试 "lint 测试" version "1"

enum 渠道 { 电话, 网上, 柜台 }

record ticket {
  ticket_no: text key
  org_no: text
  cons_no: text?
  kind: enum(投诉, 意见, 咨询)
  channel: 渠道?
  sensitive: bool
  satisfied: bool?
  accepted_at: datetime
  amount: money
}

record job {
  job_no: text key
  org_no: text
  photos: int
}

record customer {
  cons_no: text key
  org_no: text
}
"""


def rule(rid: str, when: str, *lines: str, on: str = "ticket", source: str = '"供电服务规范"') -> str:
    body = "".join(f"  {line}\n" for line in lines)
    src = f"  source {source}\n" if source else ""
    return f'\nrule {rid} "测试规则" {{\n  on {on}\n  level 二级\n  owner 营销部\n{src}{body}  when {when}\n}}\n'


@pytest.fixture
def lint_text(check_text):
    """lint_text(*parts) -> (text, lints): the header plus the parts, checked clean, then linted."""

    def lint_(*parts: str, codes: tuple[str, ...] | None = None):
        text = HEADER + "".join(parts)
        result = check_text(text)
        assert result.ok, [d.message for d in result.diagnostics if d.severity.value == "error"]
        found = run_lints(result.program)
        return text, [d for d in found if codes is None or d.code in codes]

    return lint_


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int, int]:
    """(line, column, end column) of the nth occurrence of `needle` (on one line) in `text`."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return line, column, column + len(needle)


def place(diag) -> tuple[int, int, int]:
    s = diag.span
    assert s.end_line == s.line
    return s.line, s.column, s.end_column


# ---- L0101 ----------------------------------------------------------------------------------------
def test_rule_without_source(lint_text):
    text, (d,) = lint_text(rule("R-1", "sensitive", source=""), codes=("L0101",))
    assert d.message == "规则 R-1 没有写依据（source）"
    assert place(d) == at(text, "R-1")
    assert d.severity.value == "warning" and "source" in d.hint


def test_rule_with_source_is_fine(lint_text):
    assert lint_text(rule("R-1", "sensitive"), codes=("L0101",))[1] == []


# ---- L0102 ----------------------------------------------------------------------------------------
FACTS = "\nfact 回复时限 = 5 days\nfact 金额上限: int = 100\n"


def test_magic_number_equal_to_a_fact(lint_text):
    text, (d,) = lint_text(FACTS, rule("R-1", "as_of - accepted_at > 5 days and as_of - accepted_at > 回复时限"),
                           codes=("L0102",))
    assert d.message == "`5 days` 与事实 `回复时限` 的值相同，却直接写成了数值"
    assert place(d) == at(text, "5 days", 1)
    assert "回复时限" in d.hint


def test_magic_number_through_a_let_and_match(lint_text):
    text, (d,) = lint_text(FACTS, rule("R-1", "as_of - accepted_at > 时限 and as_of - accepted_at < 回复时限 * 2",
                                       "let 时限 = match kind { 投诉 => 1 day, 意见 => 5 days, 咨询 => 3 days }"),
                           codes=("L0102",))
    assert place(d) == at(text, "5 days", 1)


def test_other_values_types_and_positions_are_not_magic(lint_text):
    # another value; a money amount is not the int fact; 5 days inside arithmetic is no threshold
    when = ("as_of - accepted_at > 6 days and amount > 100.00 and accepted_at + 5 days < as_of "
            "and as_of - accepted_at > 回复时限 and 金额上限 > 0")
    assert lint_text(FACTS, rule("R-1", when), codes=("L0102",))[1] == []


# ---- L0103 ----------------------------------------------------------------------------------------
def test_condition_that_can_never_be_true(lint_text):
    text, (d,) = lint_text(rule("R-1", "sensitive and kind == 投诉 and amount > 5 and kind == 意见"), codes=("L0103",))
    assert d.message == "规则 R-1 永远不会预警：`kind == 投诉` 与 `kind == 意见` 不可能同时成立"
    line, column, _ = at(text, "kind == 投诉")
    assert (d.span.line, d.span.column, d.span.end_column) == (line, column, at(text, "kind == 意见")[2])


def test_in_and_not_in_the_same_member(lint_text):
    text, (d,) = lint_text(rule("R-1", "channel in (电话, 网上) and channel not in (网上, 电话)"), codes=("L0103",))
    assert d.message == "规则 R-1 永远不会预警：`channel in (电话, 网上)` 与 `channel not in (网上, 电话)` 不可能同时成立"


def test_an_optional_field_equal_to_both_values_never_fires(lint_text):
    text, (d,) = lint_text(rule("R-1", "satisfied == true and not satisfied"), codes=("L0103",))
    assert place(d) == at(text, "satisfied == true and not satisfied")


def test_satisfiable_conditions_do_not_trigger(lint_text):
    parts = [rule("R-1", "kind == 投诉 or kind == 意见"), rule("R-2", "kind != 投诉 and kind != 意见"),
             rule("R-3", "(channel ?? 电话) == 电话 and channel is empty"),
             rule("R-4", "amount > 5 and amount < 3")]  # numbers are not enumerated: no verdict, no alarm
    assert lint_text(*parts, codes=("L0103", "L0104"))[1] == []


# ---- L0104 ----------------------------------------------------------------------------------------
def test_condition_that_is_always_true(lint_text):
    text, (d,) = lint_text(rule("R-1", "kind in (投诉, 意见, 咨询)"), codes=("L0104",))
    assert d.message == "规则 R-1 的条件永远不会为假：`kind in (投诉, 意见, 咨询)` 总是成立，每条记录都会预警"
    assert place(d) == at(text, "kind in (投诉, 意见, 咨询)") and d.notes == ()


def test_not_equal_or_not_equal_is_a_tautology(lint_text):
    text, (d,) = lint_text(rule("R-1", "amount > 5 or channel != 电话 or channel != 网上",
                                "empty channel means undetermined"), codes=("L0104",))
    assert d.message == "规则 R-1 的条件永远不会为假：`channel != 电话` 或 `channel != 网上` 总是成立，每条记录都会预警"
    assert d.notes == ("相关字段为空时结果为待定",)


def test_conditions_that_can_be_false_do_not_trigger(lint_text):
    assert lint_text(rule("R-1", "kind in (投诉, 意见)"), rule("R-2", "sensitive or not sensitive and kind == 投诉"),
                     codes=("L0104",))[1] == []


# ---- L0105 ----------------------------------------------------------------------------------------
def test_clause_implied_by_another(lint_text):
    text, (d,) = lint_text(rule("R-1", "kind == 投诉 and amount > 5 and kind != 咨询"), codes=("L0105",))
    assert d.message == "规则 R-1 的条件 `kind != 咨询` 不起作用：去掉它，任何记录的结果都不变"
    assert place(d) == at(text, "kind != 咨询")


def test_duplicate_clause_reports_the_second(lint_text):
    text, (d,) = lint_text(rule("R-1", "amount > 5 and sensitive and amount > 5"), codes=("L0105",))
    assert place(d) == at(text, "amount > 5", 1)


def test_absorbed_clause(lint_text):
    text, (d,) = lint_text(rule("R-1", "amount > 5 and sensitive or amount > 5"), codes=("L0105",))
    assert place(d) == at(text, "amount > 5 and sensitive")


def test_empty_guards_matter_in_three_valued_logic(lint_text):
    # without the guard an empty `satisfied` would be undetermined instead of passed
    parts = [rule("R-1", "satisfied is not empty and satisfied == false"),
             rule("R-2", "kind == 投诉 and amount > 5 or kind == 意见")]
    assert lint_text(*parts, codes=("L0105",))[1] == []


# ---- L0106 ----------------------------------------------------------------------------------------
def test_two_rules_with_the_same_condition(lint_text):
    text, (d,) = lint_text(rule("R-1", "kind == 投诉 and sensitive"), rule("R-2", "sensitive and kind == 投诉"),
                           codes=("L0106",))
    assert d.message == "规则 R-2 与规则 R-1 检查同一类记录，条件完全相同"
    assert place(d) == at(text, "sensitive and kind == 投诉")
    assert d.notes[0].startswith("规则 R-1 在 ")


def test_same_words_different_meaning_is_not_a_duplicate(lint_text):
    parts = [rule("R-1", "as_of - accepted_at > limit", "let limit = 5 days"),
             rule("R-2", "as_of - accepted_at > limit", "let limit = 6 days"),
             rule("R-3", "kind == 投诉 and sensitive", on="ticket"), rule("R-4", "kind == 投诉 or sensitive")]
    assert lint_text(*parts, codes=("L0106",))[1] == []


# ---- L0107 ----------------------------------------------------------------------------------------
def test_unused_fact(lint_text):
    text, (d,) = lint_text("\nfact 本月 = month(as_of)\n", rule("R-1", "sensitive"), codes=("L0107",))
    assert d.message == "事实 `本月` 没有被本次检查的任何规则使用"
    assert (d.span.line, d.span.column) == at(text, "本月")[:2]


def test_fact_used_through_another_fact_is_used(lint_text):
    facts = "\nfact 一天 = 1 day\nfact 两天 = 一天 * 2\n"
    assert lint_text(facts, rule("R-1", "as_of - accepted_at > 两天"), codes=("L0107",))[1] == []


# ---- L0108 ----------------------------------------------------------------------------------------
def test_depends_on_an_unrelated_record_kind(lint_text):
    text, (d,) = lint_text(rule("J-1", "photos < 2", on="job"), rule("R-1", "sensitive", "depends on J-1"),
                           codes=("L0108",))
    assert d.message == ("规则 R-1 依赖的 J-1 检查 job 记录，与本规则的 ticket 记录没有共同的关键字段："
                         "两者的预警对应不到同一对象")
    assert place(d) == at(text, "J-1", 1)


def test_depends_on_a_rule_that_never_fires(lint_text):
    text, (d,) = lint_text(rule("R-0", "kind == 投诉 and kind == 意见"), rule("R-1", "sensitive", "depends on R-0"),
                           codes=("L0108",))
    assert d.message == "规则 R-1 依赖的 R-0 永远不会预警（见 L0103），这条依赖没有意义"


def test_dependencies_on_joined_records_matter(lint_text):
    # same kind; another kind sharing a key field (customer.cons_no); org_no when a window is keyed by it
    parts = [rule("R-0", "sensitive"), rule("C-1", "org_no == \"1\"", on="customer"), rule("J-1", "photos < 2", on="job"),
             rule("R-1", "kind == 投诉", "depends on R-0, C-1"),
             rule("R-2", "n >= 3", "depends on J-1", "window by org_no compute n = count(*)")]
    assert lint_text(*parts, codes=("L0108",))[1] == []


# ---- L0109 ----------------------------------------------------------------------------------------
def window_rule(within: str) -> str:
    return rule("R-1", "n >= 2", f"window by org_no within accepted_at in {within} compute n = count(*)")


@pytest.mark.parametrize("within", ["[this.accepted_at, this.accepted_at - 1 day]",
                                    "(this.accepted_at - 1 h, this.accepted_at - 1 h]",
                                    "[this.accepted_at + 1 month, this.accepted_at]"])
def test_window_range_that_is_always_empty(lint_text, within):
    text, (d,) = lint_text(window_rule(within), codes=("L0109",))
    assert d.message.startswith("规则 R-1 的 window 范围永远为空：")
    assert place(d) == (at(text, within)[0], at(text, within)[1] + 1, at(text, within)[2] - 1)


@pytest.mark.parametrize("within", ["[this.accepted_at - 1 day, this.accepted_at]",
                                    "[this.accepted_at - 1 h, this.accepted_at - 1 h]",
                                    "[this.accepted_at - 1 month, this.accepted_at - 29 days]"])
def test_window_ranges_that_can_hold_rows(lint_text, within):
    assert lint_text(window_rule(within), codes=("L0109",))[1] == []


def test_empty_range_message(lint_text):
    _, (d,) = lint_text(window_rule("[this.accepted_at, this.accepted_at - 1 day]"), codes=("L0109",))
    assert d.message == "规则 R-1 的 window 范围永远为空：下界 `this.accepted_at` 总是晚于上界 `this.accepted_at - 1 day`"
    _, (d,) = lint_text(window_rule("(this.accepted_at - 1 h, this.accepted_at - 1 h]"), codes=("L0109",))
    assert d.message.endswith("总是相同，而范围不含端点")


# ---- L0110 ----------------------------------------------------------------------------------------
def test_window_where_that_is_never_true(lint_text):
    text, (d,) = lint_text(rule("R-1", "n >= 2", "window by org_no where kind == 投诉 and kind == 咨询 compute n = count(*)"),
                           codes=("L0110",))
    assert d.message == "规则 R-1 的 window 条件 `kind == 投诉 and kind == 咨询` 永远不成立，窗口选不到任何记录"
    assert place(d) == at(text, "kind == 投诉 and kind == 咨询")


def test_window_where_that_can_hold(lint_text):
    assert lint_text(rule("R-1", "n >= 2", "window by org_no where kind in (投诉, 咨询) compute n = count(*)"),
                     codes=("L0110",))[1] == []


# ---- L0111 ----------------------------------------------------------------------------------------
def test_else_after_every_member(lint_text):
    text, (d,) = lint_text(rule("R-1", "as_of - accepted_at > limit",
                                "let limit = match kind { 投诉 => 1 day, 意见 => 2 days, 咨询 => 3 days, else => 4 days }"),
                           codes=("L0111",))
    assert d.message == "规则 R-1 的 match else 分支永远用不到：前面的分支已列出它能取的全部值"
    assert place(d) == at(text, "4 days")


def test_arm_excluded_by_the_rest_of_the_condition(lint_text):
    text, found = lint_text(rule("R-1", "kind == 投诉 and as_of - accepted_at > match kind { 投诉 => 1 day, 意见 | 咨询 => 2 days }"),
                            codes=("L0111",))
    (d,) = found
    assert d.message == "规则 R-1 的 match 分支 `意见 | 咨询 => 2 days` 永远用不到：取这些值时条件的其他部分不成立，规则不会预警"
    assert place(d) == at(text, "意见 | 咨询 => 2 days")


def test_reachable_arms(lint_text):
    parts = [rule("R-1", "kind in (投诉, 意见) and as_of - accepted_at > match kind { 投诉 => 1 day, 意见 => 2 days }"),
             rule("R-2", "kind == 投诉 or as_of - accepted_at > match kind { 投诉 => 1 day, else => 2 days }")]
    assert lint_text(*parts, codes=("L0111",))[1] == []


# ---- silencing ------------------------------------------------------------------------------------
def test_allow_comment_on_the_rule_line_or_the_line_pointed_at(lint_text):
    silenced = rule("R-1", "kind in (投诉, 意见, 咨询)", source="").replace('"测试规则" {', '"测试规则" {  # lint: allow L0101, L0104')
    assert lint_text(silenced)[1] == []
    on_line = rule("R-2", "kind in (投诉, 意见, 咨询)  # lint: allow L0104")
    other_code = rule("R-3", "kind in (咨询, 意见, 投诉)  # lint: allow L0103")
    found = lint_text(on_line, other_code)[1]
    assert [(d.code, d.message.split()[1]) for d in found] == [("L0104", "R-3")]


# ---- soundness against the evaluator --------------------------------------------------------------
KINDS, CHANNELS = ("投诉", "意见", "咨询"), ("电话", "网上", "柜台")
_leaf = st.one_of(
    st.sampled_from(KINDS).map(lambda k: f"kind == {k}"),
    st.sampled_from(KINDS).map(lambda k: f"kind != {k}"),
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True).map(lambda ks: f"kind in ({', '.join(ks)})"),
    st.sampled_from(CHANNELS).map(lambda c: f"channel == {c}"),
    st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True).map(lambda cs: f"channel not in ({', '.join(cs)})"),
    st.sampled_from(["channel is empty", "channel is not empty", "sensitive", "satisfied == true", "satisfied",
                     "(channel ?? 电话) == 网上", "match kind { 投诉 => sensitive, else => satisfied ?? false }"]),
)
conditions = st.recursive(_leaf, lambda sub: st.one_of(
    st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    sub.map(lambda s: f"not {s}")), max_leaves=5)

SOUNDNESS_HEADER = """rulebook 性质 "lint 性质测试" version "1"
enum 渠道 { 电话, 网上, 柜台 }
record ticket {
  ticket_no: text key
  kind: enum(投诉, 意见, 咨询)
  channel: 渠道?
  sensitive: bool
  satisfied: bool?
}
"""
EVERY_RECORD = [{"ticket_no": f"T{i}", "kind": k, "channel": c, "sensitive": s, "satisfied": f}
                for i, (k, c, s, f) in enumerate((k, c, s, f) for k in KINDS for c in (*CHANNELS, None)
                                                 for s in (True, False) for f in (True, False, None))]


def _evaluate(compile_rules, run, when: str):
    """(outcome of every possible record, lints) for a rule with condition `when`."""
    text = SOUNDNESS_HEADER + f'rule P "p" {{\n  on ticket\n  level 二级\n  owner 营销部\n  source "s"\n  when {when}\n}}\n'
    rulebooks = compile_rules(text)
    findings = run(rulebooks, {"ticket": EVERY_RECORD}, datetime(2026, 3, 2))
    return {key: f.outcome for (_, key), f in findings.items()}, run_lints(rulebooks.program)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conditions)
def test_verdicts_agree_with_the_evaluator(compile_rules, run, when):
    """Over enum and bool fields the verdicts are exact: L0103 iff no record fires, L0104 iff none
    passes; removing a clause L0105 calls useless changes no record's outcome."""
    outcomes, found = _evaluate(compile_rules, run, when)
    codes, values = {d.code for d in found}, set(outcomes.values())
    assert ("L0103" in codes) == ("fired" not in values)
    assert ("L0104" in codes) == ("fired" in values and "passed" not in values)
    column = len("  when ") + 1  # where `when`'s text starts on its line
    for d in (d for d in found if d.code == "L0105"):
        assert d.span.end_line == d.span.line
        reduced = _without(when, d.span.column - column, d.span.end_column - column)
        assert _evaluate(compile_rules, run, reduced)[0] == outcomes, (when, reduced)


def _without(when: str, start: int, end: int) -> str:
    """The condition without the clause at when[start:end] and the `and`/`or` joining it."""
    while when[start - 1 : start] == "(" and when[end : end + 1] == ")":
        start, end = start - 1, end + 1  # a parenthesised clause: drop the parentheses too
    for joiner in (" and ", " or "):
        if when[end : end + len(joiner)] == joiner:
            return when[:start] + when[end + len(joiner):]
        if when[start - len(joiner) : start] == joiner:
            return when[: start - len(joiner)] + when[end:]
    raise AssertionError(f"no connective next to {when[start:end]!r} in {when!r}")


# ---- the command ----------------------------------------------------------------------------------
def test_command_exit_codes_and_formats(write_rules):
    clean = write_rules(HEADER + rule("R-1", "sensitive"))
    dirty = write_rules(HEADER + rule("R-1", "kind in (投诉, 意见, 咨询)"))
    broken = write_rules(HEADER + rule("R-1", "sensitiv"))
    runner = CliRunner()
    assert runner.invoke(lint_command, [str(clean)]).exit_code == 0
    result = runner.invoke(lint_command, [str(dirty)])
    assert result.exit_code == 1 and "warning[L0104]" in result.output and "1 个警告" in result.output
    result = runner.invoke(lint_command, ["--format", "json", str(dirty)])
    (diag,) = json.loads(result.output)
    assert (diag["code"], diag["severity"], diag["line"]) == ("L0104", "warning", HEADER.count("\n") + 7)
    result = runner.invoke(lint_command, [str(broken)])
    assert result.exit_code == 1 and "E0201" in result.output
    assert runner.invoke(lint_command, []).exit_code == 2


def test_standard_rulebooks(snapshot):
    """The 188 standard rules lint to a short list (the snapshot); and, as a check of soundness on
    real rules, none with a passing `expect fired` test is called dead (L0103), none with an
    `expect passed` test constant (L0104)."""
    result = check([ROOT / "rulebooks"])
    found = run_lints(result.program)
    assert [(d.code, Path(d.span.path).name, d.span.line, d.message) for d in found] == snapshot
    flagged = {(d.code, d.message.split()[1]) for d in found}
    for r in result.program.rules:
        expected = {t.outcome for t in r.tests}
        assert "fired" not in expected or ("L0103", r.id) not in flagged
        assert "passed" not in expected or ("L0104", r.id) not in flagged


def test_every_lint_is_documented():
    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    for code in LINTS:
        assert f"### {code}" in doc
