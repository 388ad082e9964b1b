"""Group rules (`on KIND group by ...`) on DuckDB agree with the Python backend: the same outcome
per group (passed included, in the same order), the same missing lists, evidence, record keys and
org_no in the findings, and the same report for records whose group key is empty (undetermined,
missing the empty group fields). Checked on every test written beside every group rule, on
records with empty keys, and on generated group rules and records (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import load_rulebooks
from compliance_engine.backends.sql.compiler import (DECIMAL_SCALE, ExprCompiler, Unsupported, check_sql, compile_plan,
                                                  table_name)
from compliance_engine.backends.sql.duckdb_runner import arrow_table, connect
from compliance_engine.backends.sql.groups import count_groups, group_finding, run_groups
from compliance_engine.findings import Finding
from compliance_engine.values import Month

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
GROUP_RULEBOOKS = [ROOT / "rulebooks", SAMPLE, ROOT / "examples" / "rulebooks"]


_CONNECTIONS: dict = {}


def _connection(calendar):
    """One DuckDB connection per calendar for the whole module (tables are registered again per case)."""
    if calendar.version not in _CONNECTIONS:
        _CONNECTIONS[calendar.version] = connect(calendar)
    return _CONNECTIONS[calendar.version]


def _register(con, plan, records: dict[str, list[dict]]) -> None:
    """The kinds' tables as duckdb_runner registers them (Arrow, with `__row`)."""
    for name, kind in plan.program.kinds.items():
        con.register(table_name(name), arrow_table(kind, list(records.get(name, []))))


def _comparable(finding) -> dict:
    """A finding's values (not their JSON text: decimals compare by value, whatever their scale);
    decimals in the evidence cut to the SQL backend's 10 places (an `avg` is exact in SQL to 10
    places, Python keeps 28 significant digits: docs/sql_backend.md)."""
    out = {name: getattr(finding, name) for name in Finding.model_fields}
    out["evidence"] = {k: _cut(v) for k, v in out["evidence"].items()}
    return out


def _cut(value):
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-DECIMAL_SCALE), rounding=ROUND_DOWN)
    return value


def _python_groups(rulebooks, records, as_of, rule_ids: set[str]) -> list[tuple]:
    """(finding, row of an empty-key record) of every group outcome, in the Python backend's order."""
    be = rulebooks.backend
    G = be.global_facts(as_of)
    out = []
    for o in be.evaluate(records, as_of, G):
        rule = o.plan.rule
        if rule.id not in rule_ids or not rule.is_group_rule:
            continue
        row = None if o.group is not None else next(i for i, r in enumerate(records[rule.kind.name]) if r is o.record)
        out.append((_comparable(rulebooks.finding(o, as_of, G)), row))
    return out


def _sql_groups(rulebooks, records, as_of, queries, con) -> list[tuple]:
    _register(con, rulebooks.plan, records)
    rules = {r.id: r for r in rulebooks.program.rules}
    return [(_comparable(group_finding(rules[o.rule], o, as_of)), None if o.group is not None else o.row)
            for o in run_groups(con, rulebooks.plan, as_of, queries, set(records))]


def _test_records(test) -> dict[str, list[dict]]:
    records: dict[str, list[dict]] = {}
    for kind, record in test.records:
        records.setdefault(kind, []).append(dict(record))
    return records


def _subject_outcome(rule, test, outcomes: list[tuple]) -> dict:
    """The SQL finding for the test's record under test: its group's, or its own if its key is empty."""
    kind, subject = test.records[test.subject]
    position = sum(1 for k, _ in test.records[:test.subject] if k == kind)
    key = {f: subject.get(f) for f in rule.group_by}
    if None in key.values():
        return next(f for f, row in outcomes if row == position)
    return next(f for f, row in outcomes if f["group"] == key)


@pytest.mark.parametrize("path", GROUP_RULEBOOKS, ids=["standard", "sample", "examples"])
def test_embedded_tests_of_group_rules_agree_with_python(path):
    rulebooks = load_rulebooks([path])
    group_rules = [r for r in rulebooks.program.rules if r.is_group_rule]
    assert group_rules
    con = _connection(rulebooks.backend.calendar)
    compared, disagreements = 0, []
    for rule in group_rules:
        queries = compile_plan(rulebooks.plan, {rule.id})
        assert not any(q.unsupported for q in queries), rule.id
        for test in rule.tests:
            records, as_of = _test_records(test), test.as_of or datetime(2000, 1, 1)
            py = _python_groups(rulebooks, records, as_of, {rule.id})
            sql = _sql_groups(rulebooks, records, as_of, queries, con)
            subject = _subject_outcome(rule, test, sql)  # and both give what the test expects
            compared += 1
            if py != sql or subject["outcome"] != test.outcome or (
                    test.missing and tuple(subject["missing"]) != tuple(test.missing)):
                disagreements.append((rule.id, test.name, py, sql))
    assert compared == sum(len(r.tests) for r in group_rules) > 0
    assert disagreements == []


def test_group_rules_are_no_longer_check_time_errors():
    for path in GROUP_RULEBOOKS:
        plan = load_rulebooks([path]).plan
        group_ids = {rp.rule.id for k in plan.kinds for rp in k.group_rules}
        named = {d.message.split()[1] for d in check_sql(plan)}
        assert not group_ids & named, path


def test_group_queries_print_for_spark():
    plan = load_rulebooks([SAMPLE]).plan
    (query,) = [gq for q in compile_plan(plan) for gq in q.group_queries]
    text = query.sql("spark")
    assert "GROUP BY" in text and "FILTER(WHERE" in text and "R-004" in text
    assert "IS NULL" in query.empty_keys_sql("spark")


# ---- empty group keys ----------------------------------------------------------------------------
_ACCOUNTS = [  # NS-15 groups by owner_name (optional), system; NS-16 by org_no, system
    {"account_id": "U1", "owner_name": "张三"},
    {"account_id": "U2", "owner_name": None, "org_no": "33402"},
    {"account_id": "U3", "owner_name": "张三"},
    {"account_id": "U4", "owner_name": None},
    {"account_id": "U5", "owner_name": "李四", "disabled": True},
    {"account_id": "U6", "owner_name": "张三", "system": "网上国网"},
]


def _accounts(rulebooks) -> list[dict]:
    """Accounts built on a complete one from NS-15's own tests (every required field given)."""
    base = dict(rulebooks.program.rule("NS-15").tests[0].records[0][1])
    return [{**base, **r} for r in _ACCOUNTS]


def test_records_with_an_empty_group_key_are_undetermined_and_counted_in_no_group():
    rulebooks = load_rulebooks([ROOT / "rulebooks"])
    records = {"account": _accounts(rulebooks)}
    as_of = datetime(2026, 3, 2)
    rule_ids = {"NS-15", "NS-16"}
    queries = compile_plan(rulebooks.plan, rule_ids)
    con = _connection(rulebooks.backend.calendar)
    sql = _sql_groups(rulebooks, records, as_of, queries, con)
    assert sql == _python_groups(rulebooks, records, as_of, rule_ids)
    empty = {(f["rule"], row): f for f, row in sql if row is not None}
    # each record with an empty group field, reported once, undetermined, the field missing
    assert {k: (f["outcome"], f["missing"], f["group"], f["record_key"], f["org_no"], f["evidence"])
            for k, f in empty.items()} == {
        ("NS-15", 1): ("undetermined", ["owner_name"], None, "U2", "33402", {"owner_name": None}),
        ("NS-15", 3): ("undetermined", ["owner_name"], None, "U4", "33401", {"owner_name": None})}
    groups = {tuple(f["group"].values()): f for f, row in sql if row is None and f["rule"] == "NS-15"}
    system = records["account"][0]["system"]
    # 张三 counts U1 and U3 only; 李四's group exists although its only account is disabled
    assert set(groups) == {("张三", system), ("李四", system), ("张三", "网上国网")}
    zhang = groups[("张三", system)]
    assert (zhang["outcome"], zhang["evidence"]) == ("fired", {"n_accounts": 2})
    assert zhang["record_key"] == f"张三|{system}"
    li = groups[("李四", system)]
    assert (li["outcome"], li["evidence"]) == ("passed", {"n_accounts": 0})
    assert zhang["org_no"] is None  # org_no is not a group field of NS-15 (as in Python)
    ns16 = [f for f, row in sql if f["rule"] == "NS-16"]
    assert [f["org_no"] for f in ns16] == ["33401", "33402", "33401"]  # a group field of NS-16


def test_group_outcomes_give_the_first_record_of_the_group():
    rulebooks = load_rulebooks([ROOT / "rulebooks"])
    records = {"account": _accounts(rulebooks)}
    con = _connection(rulebooks.backend.calendar)
    _register(con, rulebooks.plan, records)
    rows = records["account"]
    outcomes = list(run_groups(con, rulebooks.plan, datetime(2026, 3, 2), compile_plan(rulebooks.plan, {"NS-15"})))
    assert [o.row for o in outcomes if o.group is None] == [1, 3]
    firsts = [o.row for o in outcomes if o.group is not None]
    assert firsts == sorted(firsts)  # groups in order of first appearance, as in Python
    for o in outcomes:
        if o.group is not None:
            assert o.row == min(i for i, r in enumerate(rows) if all(r[f] == v for f, v in o.group.items()))


# ---- generated group rules and records -------------------------------------------------------------
_RECORD = """
rulebook 生成 "生成" version "1" effective 2026-01-01
record item "生成" {
  id: text key
  org_no: text?
  cls: enum(甲, 乙)?
  p: month?
  a: decimal?
  n: int?
  t1: datetime?
}
fact 下限 = 1.00
"""
_T0 = datetime(2026, 3, 2, 10, 0)
# group fields → a condition and a `where` reading them (a group rule may read only its group fields)
_GROUPINGS = {
    "org_no": ('org_no == "O1" and c > 1', "where this.org_no == org_no and (a ?? 0) >= 0"),
    "org_no, cls": ("cls == 甲 or c > 2", "where this.cls == 乙 or n > 0"),
    "p": ('p >= "2026-02" and c >= 2', 'where p < "2026-03" or a > 1'),
}
_WHERE = st.sampled_from(["", "where a > 1", "where n is empty", "where cls == 甲 or a < 0",
                          "where t1 > as_of - 1 h", "where is_workday(date(t1 ?? as_of))", "group"])
_CONDITIONS = st.sampled_from([
    "c >= 2", "s > 1.5", "(s ?? 0) > 下限", "k * 2 >= c", "av >= 1.00", "av * c > 2",
    "lo < 2 or hi > 2026-03-02T10:30", "r > 0.5", "lo is empty and k > 0", "差额 > 0", "not (hi < as_of)",
    "w > 0", 'mp >= "2026-02"', "c2 * 2 > c or s2 > 0", "group",
])
_DEC = st.sampled_from([Decimal("0"), Decimal("0.50"), Decimal("1.00"), Decimal("1.50"), Decimal("2"), Decimal("-1.5"),
                        Decimal("3.33")])


def _optional(s):
    return st.one_of(st.none(), s)


def _rarely_empty(s):  # group fields: mostly present, so that most records form groups
    return st.one_of(s, st.none())


_ROWS = st.lists(st.fixed_dictionaries({
    "org_no": _rarely_empty(st.sampled_from(["O1", "O2"])), "cls": _rarely_empty(st.sampled_from(["甲", "乙"])),
    "p": _rarely_empty(st.sampled_from([Month.parse("2026-01"), Month.parse("2026-02"), Month.parse("2026-03")])),
    "a": _optional(_DEC), "n": _optional(st.integers(-1, 3)),
    "t1": _optional(st.sampled_from([_T0 - timedelta(days=3), _T0, _T0 + timedelta(minutes=30),
                                     _T0 + timedelta(hours=2)])),
}), min_size=0, max_size=8)


def _group_rule(i: int, group_by: str, where: str, condition: str) -> str:
    group_condition, group_where = _GROUPINGS[group_by]
    return (f'\nrule G-{i} "生成" {{\n  on item group by {group_by}\n  level 三级\n  owner 甲 / 乙 / 丙\n'
            f'  window {group_where if where == "group" else where}'
            f' compute c = count(*), k = count(a > 1), s = sum(a), lo = min(n), hi = max(t1), mp = max(p),'
            f' av = avg(a), r = count(n > 0) / count(*), w = sum(workdays_between(t1, as_of))\n'
            f'  window where n > 0 compute c2 = count(*), s2 = sum(n) - count(*)\n'
            f'  let 差额 = (s ?? 0) - 下限\n  when {group_condition if condition == "group" else condition}\n}}\n')


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=st.lists(_CONDITIONS, min_size=1, max_size=3, unique=True), where=_WHERE,
       group_by=st.sampled_from(sorted(_GROUPINGS)), rows=_ROWS)
def test_generated_group_rules_agree(tmp_path_factory, conditions, where, group_by, rows):
    text = _RECORD + "".join(_group_rule(i, group_by, where, c) for i, c in enumerate(conditions))
    path = tmp_path_factory.mktemp("gen") / "gen.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    records = {"item": [{"id": f"I{i}", **r} for i, r in enumerate(rows)]}
    as_of = _T0 + timedelta(hours=1)
    rule_ids = {f"G-{i}" for i in range(len(conditions))}
    queries = compile_plan(rulebooks.plan)
    assert not any(q.unsupported for q in queries)
    con = _connection(rulebooks.backend.calendar)
    assert _sql_groups(rulebooks, records, as_of, queries, con) == _python_groups(rulebooks, records, as_of, rule_ids)


def test_an_untranslatable_group_rule_is_a_check_time_error_naming_it(monkeypatch):
    def refuse(self, node, scope):
        raise Unsupported("aggregate")

    monkeypatch.setattr(ExprCompiler, "_Aggregate", refuse)  # as if no window aggregate had a translation
    plan = load_rulebooks([SAMPLE]).plan
    assert "R-004" in {d.message.split()[1] for d in check_sql(plan) if d.code == "E0601"}
    assert not [gq for q in compile_plan(plan) for gq in q.group_queries]


def test_group_outcomes_counted_inside_duckdb_match_the_outcomes():
    rulebooks = load_rulebooks([ROOT / "rulebooks"])
    records = {"account": _accounts(rulebooks)}
    queries = compile_plan(rulebooks.plan, {"NS-15", "NS-16"})
    con = _connection(rulebooks.backend.calendar)
    _register(con, rulebooks.plan, records)
    as_of = datetime(2026, 3, 2)
    expected: dict = {}
    for o in run_groups(con, rulebooks.plan, as_of, queries):
        expected[(o.rule, o.value)] = expected.get((o.rule, o.value), 0) + 1
    counted = count_groups(con, rulebooks.plan, as_of, queries)
    assert {k: n for k, n in counted.items() if n} == expected
