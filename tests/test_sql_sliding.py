"""Sliding windows (a window over the rule's own kind, ranged on the subject's own field) compile
to SQL window functions (backends/sql/sliding.py) and agree with the Python backend: ties, empty
range values and keys, open and closed bounds, unbounded sides, `where`, every aggregate."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import load_rulebooks
from compliance_engine.backends.sql.compiler import compile_plan

from test_sql_backend import _python_outcomes, _sql_outcomes

_KIND = """
rulebook 滑动 "滑动" version "1" effective 2026-01-01
record ev "事件" {
  id: text key
  org: text?
  at: datetime?
  day: date?
  seq: int?
  amount: decimal?
  cat: enum(甲, 乙)?
}
"""
_RANGES = st.sampled_from([
    "at in [this.at - 2 days, this.at]", "at in (this.at - 2 days, this.at)", "at in [this.at - 1 day, this.at + 1 day)",
    "at <= this.at", "at > this.at - 36 hours", "at in [this.at + 1 h, this.at + 3 days]",
    "day in [this.day - 2 days, this.day]", "day in (this.day - 3 days, this.day]", "day >= this.day",
    "seq in [this.seq - 2, this.seq]", "seq in (this.seq, this.seq + 3]",
])
_WHERES = st.sampled_from(["", "where cat == 甲", "where amount > 1"])
_COMPUTES = st.sampled_from(["n = count(*)", "n = count(cat == 乙)", "n = sum(amount)", "n = min(seq)",
                             "n = max(at)", "n = avg(amount)", "n = count(*) - count(amount > 0)"])
_CONDITIONS = {"n = max(at)": "n is not empty and n > at - 1 day"}
_AT = [datetime(2026, 3, 1, 8), datetime(2026, 3, 1, 20), datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 8, 0, 0, 1), None]
_ROWS = st.lists(st.fixed_dictionaries({
    "org": st.sampled_from(["A", "B", None]), "at": st.sampled_from(_AT),
    "day": st.sampled_from([date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 4), None]),
    "seq": st.sampled_from([1, 2, 3, 5, None]), "amount": st.sampled_from([Decimal("0.50"), Decimal("2"), Decimal("1.5"), None]),
    "cat": st.sampled_from(["甲", "乙", None]),
}), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(within=_RANGES, where=_WHERES, compute=_COMPUTES, by=st.sampled_from(["by org", ""]), rows=_ROWS)
def test_sliding_windows_agree_with_python(tmp_path_factory, within, where, compute, by, rows):
    condition = _CONDITIONS.get(compute, "n > 1")
    text = _KIND + (f'\nrule S-1 "滑动" {{\n  on ev\n  level 三级\n  owner 甲 / 乙\n'
                    f'  window over ev {by} {where} within {within} compute {compute}\n  when {condition}\n}}\n')
    path = tmp_path_factory.mktemp("slide") / "slide.rules"
    path.write_text(text, encoding="utf-8")
    rulebooks = load_rulebooks([path])
    query = compile_plan(rulebooks.plan)[0]
    assert "OVER (" in query.sql("duckdb", pretty=False)  # the window-function translation is the one tested
    records = {"ev": [{"id": f"E{i}", **r} for i, r in enumerate(rows)]}
    as_of = datetime(2026, 3, 5, 12)
    assert _sql_outcomes(rulebooks, records, as_of) == _python_outcomes(rulebooks, records, as_of)


def test_windows_over_another_kind_keep_the_correlated_subquery(tmp_path):
    path = tmp_path / "other.rules"
    path.write_text(_KIND + """
record org "单位" {
  org: text key
  since: datetime
}
rule S-2 "跨类" {
  on ev
  level 三级
  owner 甲 / 乙
  window over org by org within since <= this.at compute n = count(*)
  when n > 0
}
""", encoding="utf-8")
    sql = compile_plan(load_rulebooks([path]).plan)[0].sql("duckdb", pretty=False)
    assert "OVER (" not in sql and "records_org" in sql


def test_exclusive_datetime_bound_steps_one_microsecond():
    from compliance_engine.backends.sql.sliding import _side
    from compliance_engine.types import Kind

    side = _side("end", -timedelta(microseconds=1), Kind.DATETIME)
    assert side["end_side"] == "PRECEDING" and side["end"].this.this == "1"
