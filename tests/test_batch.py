"""The DuckDB batch path (`compliance run --engine duckdb`): DuckDB reads the case files itself
with the reference reader's exact results (records, rejections, lines), evaluates kinds in
ranges of records, and hands back the Python engine's findings; the run writes JSONL and Parquet."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import load_rulebooks
from compliance_engine.backends.sql import BatchOptions, evaluate_files
from compliance_engine.backends.sql.compiler import table_name
from compliance_engine.backends.sql.ingest import ingest, unrepresentable
from compliance_engine.cli import cli
from compliance_engine.records import read_rows
from compliance_engine.runner import evaluate, read_cases, stream_cases

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "rulebooks" / "sample.rules"
AS_OF = datetime(2026, 3, 31, 18, 0)

_KIND = """
rulebook 读取 "读取" version "1" effective 2026-01-01
enum 色 { 红, 绿 }
record item "读取" {
  id: text key
  n: int?
  d: decimal?
  m: money?
  b: bool?
  day: date?
  at: datetime?
  dur: duration?
  mon: month?
  c: 色?
  tags: list of text?
  need: text
}
"""
# Cells in canonical, odd-but-valid and invalid spellings, per field.
_CELLS = {
    "n": ["", "42", "-7", " 3 ", "3.0", "x", "99999999999999999999999"],
    "d": ["", "12.5", "0.30000000000000001", "1e3", "-0.001", ".5", "abc", "12.12345678901"],
    "m": ["", "12.50", "12.5", "12.300", "12.345", "-3", "1,000"],
    "b": ["", "true", "FALSE", "是", "否", " yes ", "1", "maybe"],
    "day": ["", "2026-03-05", "2026/03/05", "2026-02-30", "2026-03-05 00:00:00", "2026-03-05 08:00"],
    "at": ["", "2026-03-05 08:30", "2026-03-05T08:30:15", "2026-03-05 08:30:00+00:00", "2026/3/5 8:30", "yesterday"],
    "dur": ["", "3600", "PT45M", "P1DT2H", "1.5", "P3M", "-60"],
    "mon": ["", "2026-03", "2026-13", "2026-3", "202603"],
    "c": ["", "红", " 绿 ", "蓝"],
    "tags": ["", "a;b", "a|b", "a; b", '["x","y"]', '["x", ""]', "[", "a;;b", "　a"],
    "need": ["", "值", "  ", "x\u3000"],
}


@pytest.fixture(scope="module")
def kind_rulebooks(tmp_path_factory):
    path = tmp_path_factory.mktemp("kind") / "kind.rules"
    path.write_text(_KIND, encoding="utf-8")
    return load_rulebooks([path])


def _reference(path: Path, kind):
    """The reference reader's records and rejections; values the SQL column types cannot hold
    exactly (a 23-digit int, 11 decimal places) are rejections for the SQL engines."""
    records, rejections = [], []
    for row in read_rows(path, kind):
        reasons = unrepresentable(kind, row.record) if row.record is not None else []
        if row.record is None or reasons:
            rejections.append((row.line, row.rejection.reason if row.rejection else "；".join(reasons)))
        else:
            records.append(row.record)
    return records, rejections


def test_values_beyond_the_sql_types_are_rejected_not_rounded(tmp_path, kind_rulebooks):
    kind = kind_rulebooks.kinds["item"]
    path = tmp_path / "item.csv"
    path.write_text("id,need,n,d\nA,x,99999999999999999999999,\nB,y,,12.12345678901\nC,z,1,12.1234567890000\n",
                    encoding="utf-8")
    records, rejections, _ = _ingested(path, kind_rulebooks, kind)
    assert [r["id"] for r in records] == ["C"] and records[0]["d"] == Decimal("12.123456789")
    assert [line for line, _ in rejections] == [2, 3]
    assert "超出 SQL 引擎可精确表示的范围" in rejections[0][1] and "10 位小数" in rejections[1][1]


def _ingested(path: Path, rulebooks, kind):
    con = duckdb.connect()
    result = ingest(con, rulebooks.program.kinds, [(path, kind)])
    cur = con.execute(f"SELECT * FROM {table_name(kind.name)} ORDER BY __row")
    names = [d[0] for d in cur.description][1:]
    records = [dict(zip(names, r[1:])) for r in cur.fetchall()]
    return records, sorted((r.line, r.reason) for r in result.rejections), result


def _same_value(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, (list, tuple)):
        return a is not None and b is not None and list(a) == list(b)
    if type(a).__name__ == "Month":
        return str(a) == b
    return a == b


def _assert_same(path, rulebooks, kind):
    expected, expected_rejections = _reference(path, kind)
    got, got_rejections, result = _ingested(path, rulebooks, kind)
    assert got_rejections == sorted(expected_rejections)
    assert result.read == len(expected) + len(expected_rejections)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):  # accepted rows keep their file order
        assert all(_same_value(e[k], g[k]) for k in e), (e, g)
    return result


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", *_CELLS])
        writer.writeheader()
        writer.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: v for k, v in r.items() if v != ""}, ensure_ascii=False) + "\n")


_ROW = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in _CELLS.items()})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_ROW, min_size=1, max_size=8))
def test_duckdb_reads_files_exactly_as_the_reference_reader(tmp_path_factory, kind_rulebooks, rows):
    kind = kind_rulebooks.kinds["item"]
    folder = tmp_path_factory.mktemp("cells")
    rows = [{"id": f"I{i}", **r} for i, r in enumerate(rows)]
    for suffix, write in (("csv", _write_csv), ("jsonl", _write_jsonl)):
        path = folder / f"item.{suffix}"
        write(path, rows)
        _assert_same(path, kind_rulebooks, kind)


def test_jsonl_lines_the_fast_path_cannot_trust_go_to_the_reference_reader(tmp_path, kind_rulebooks):
    kind = kind_rulebooks.kinds["item"]
    path = tmp_path / "item.jsonl"
    path.write_text("\n".join([
        '{"id": "A", "need": "x", "d": 1234567890123.4567891}',  # 20 digits: a double would round it
        '{"ID": "B", "NEED": "y"}',  # keys matched ignoring case
        '', '   ',  # blank lines are not rows
        '{"id": "C", "need": "z", "n": 1.0}',
        'not json', '[1, 2]',
        '{"id": "D", "need": "w", "tags": ["a", "b"], "b": 1, "m": 12.5}',
    ]) + "\n", encoding="utf-8")
    result = _assert_same(path, kind_rulebooks, kind)
    assert result.rejected == 2 and result.python_read == []


def test_csv_the_strict_parser_refuses_is_read_by_the_reference_reader(tmp_path, kind_rulebooks):
    kind = kind_rulebooks.kinds["item"]
    path = tmp_path / "item.csv"
    path.write_text('id,need,n\nA,x,1\n\nB,"two\nlines",2\nC,y,3,extra\n,,\nD,z,4\n', encoding="utf-8")
    result = _assert_same(path, kind_rulebooks, kind)
    assert result.python_read == [str(path)]  # quoted newline + a row wider than the header


def test_csv_line_numbers_of_rejections_count_blank_lines(tmp_path, kind_rulebooks):
    kind = kind_rulebooks.kinds["item"]
    path = tmp_path / "item.csv"
    path.write_text("id,need,n\nA,x,1\n\n\nB,y,oops\n,,\nC,,5\n", encoding="utf-8")
    result = _assert_same(path, kind_rulebooks, kind)
    assert sorted(r.line for r in result.rejections) == [5, 7] and result.python_read == []


def test_parquet_with_typed_columns_reads_exactly(tmp_path):
    rulebooks = load_rulebooks([ROOT / "examples" / "rulebooks"])
    for name in ("ticket", "billing"):
        _assert_same(ROOT / "examples" / "cases" / f"{name}.parquet", rulebooks, rulebooks.kinds[name])


# ---- evaluation ----------------------------------------------------------------------------------
def _sample_files(tmp_path):
    rulebooks = load_rulebooks([SAMPLE])
    cases = ROOT / "examples" / "cases"
    files = [(cases / f"{k}.csv", rulebooks.kinds[k]) for k in ("ticket", "billing")]
    return rulebooks, files


def _by_key(findings) -> dict:
    out = {}
    for f in findings:
        data = json.loads(f.model_dump_json())
        data["evidence"] = {k: _number(v) for k, v in data["evidence"].items()}
        out[(f.rule, f.record_key, json.dumps(f.group, sort_keys=True, default=str))] = data
    return out


def _number(value):
    """Evidence decimals compared by value (the SQL engines drop DECIMAL(38,10)'s padding zeros)."""
    try:
        return Decimal(value) if isinstance(value, str) and value[:1] in "-0123456789" and "-" not in value[1:] else value
    except ArithmeticError:
        return value


def _python_findings(rulebooks, files, include_passed=False):
    run = read_cases(rulebooks, files)
    return run, _by_key(evaluate(rulebooks, run, AS_OF, include_passed))


@pytest.mark.parametrize("chunk_rows", [100_000, 7])
def test_findings_and_counts_equal_the_python_engine(tmp_path, chunk_rows):
    rulebooks, files = _sample_files(tmp_path)
    expected_run, expected = _python_findings(rulebooks, files)
    run, findings = evaluate_files(rulebooks, files, AS_OF, options=BatchOptions(chunk_rows=chunk_rows))
    got = _by_key(findings)
    assert got == expected
    assert run.summary.to_dict() == expected_run.summary.to_dict()


def test_include_passed_reports_every_outcome(tmp_path):
    rulebooks, files = _sample_files(tmp_path)
    _, expected = _python_findings(rulebooks, files, include_passed=True)
    _, findings = evaluate_files(rulebooks, files, AS_OF, include_passed=True)
    assert _by_key(findings) == expected


# ---- the command -----------------------------------------------------------------------------------
def _run(*args):
    return CliRunner().invoke(cli, ["run", "--rulebook", str(SAMPLE), "--as-of", "2026-03-31T18:00", *args])


def test_run_duckdb_writes_jsonl_and_parquet_equal_to_the_python_engine(tmp_path):
    cases = ["--cases", str(ROOT / "examples" / "cases" / "ticket.csv"), "--cases", str(ROOT / "examples" / "cases" / "billing.jsonl")]
    py = _run(*cases, "--out", str(tmp_path / "py"), "--engine", "python")
    dk = _run(*cases, "--out", str(tmp_path / "dk"), "--engine", "duckdb", "--findings-format", "jsonl,parquet")
    assert py.exit_code == 0 and dk.exit_code == 0, dk.output
    lines = [json.loads(s) for s in (tmp_path / "dk" / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(s) for s in (tmp_path / "py" / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    key = lambda f: (f["rule"], f["record_key"])  # noqa: E731
    assert sorted(map(key, lines)) == sorted(map(key, expected))
    table = pq.read_table(tmp_path / "dk" / "findings.parquet").to_pylist()
    assert [(r["rule"], r["record_key"], r["outcome"], r["missing"]) for r in table] == \
        [(f["rule"], f["record_key"], f["outcome"], f["missing"]) for f in lines]
    assert json.loads(table[0]["evidence"]) == lines[0]["evidence"]
    summaries = [json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in ("py", "dk")]
    assert summaries[0] == summaries[1]
    rejections = [(tmp_path / d / "rejections.jsonl").read_text(encoding="utf-8") for d in ("py", "dk")]
    assert sorted(rejections[0].splitlines()) == sorted(rejections[1].splitlines()) and rejections[0]


def test_auto_engine_says_which_it_chose(tmp_path):
    result = _run("--cases", str(ROOT / "examples" / "cases" / "ticket.csv"), "--out", str(tmp_path))
    assert result.exit_code == 0
    assert "引擎 auto → python" in result.output


def test_parquet_findings_need_an_out_folder():
    result = _run("--cases", str(ROOT / "examples" / "cases" / "ticket.csv"), "--findings-format", "parquet")
    assert result.exit_code == 2 and "--out" in result.output


def test_progress_bar_names_each_file_and_kind(tmp_path):
    cases = ROOT / "examples" / "cases"
    result = _run("--cases", str(cases / "ticket.csv"), "--cases", str(cases / "billing.parquet"), "--engine", "duckdb",
                  "--out", str(tmp_path), "--progress")
    assert result.exit_code == 0, result.output
    for text in ("读取 ticket.csv", "读取 billing.parquet", "评估 ticket", "评估 billing"):
        assert text in result.output


@pytest.mark.parametrize("name", ["ticket.csv", "billing.jsonl"])
def test_gzipped_files_read_exactly(tmp_path, name):
    import gzip

    rulebooks = load_rulebooks([ROOT / "examples" / "rulebooks"])
    path = tmp_path / f"{name}.gz"
    path.write_bytes(gzip.compress((ROOT / "examples" / "cases" / name).read_bytes()))
    result = _assert_same(path, rulebooks, rulebooks.kinds[name.split(".")[0]])
    assert result.rejected > 0 and result.python_read == []  # the planted bad rows, found by DuckDB's path


def test_rows_the_reference_reader_types_keep_their_place_in_file_order(tmp_path, kind_rulebooks):
    kind = kind_rulebooks.kinds["item"]
    path = tmp_path / "item.csv"
    path.write_text("id,need,b\nA,x,true\nB,y,是\nC,z,false\nD,w,否\n", encoding="utf-8")  # 是/否: the slow path
    records, rejections, _ = _ingested(path, kind_rulebooks, kind)
    assert [r["id"] for r in records] == ["A", "B", "C", "D"] and [r["b"] for r in records] == [True, True, False, False]


def test_spark_without_java_is_a_usage_error_not_a_traceback(monkeypatch):
    import shutil

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = _run("--cases", str(ROOT / "examples" / "cases" / "ticket.csv"), "--engine", "spark")
    assert result.exit_code == 2 and "Java" in result.output


# ---- the Python engine, a kind at a time -------------------------------------------------------------
def _generated_files(rulebooks):
    folder = ROOT / "examples" / "generated"
    return [(p, rulebooks.kinds[p.stem]) for p in sorted(folder.glob("*.csv")) if p.stem in rulebooks.kinds]


@pytest.fixture(scope="module")
def standard_rulebooks():
    return load_rulebooks([ROOT / "rulebooks"])


def test_streaming_by_kind_gives_what_holding_every_record_gives(standard_rulebooks):
    rulebooks = standard_rulebooks
    files = _generated_files(rulebooks)
    whole = read_cases(rulebooks, files)
    expected = [f.model_dump_json() for f in evaluate(rulebooks, whole, AS_OF, False)]
    run, findings = stream_cases(rulebooks, files, AS_OF, False)
    assert sorted(f.model_dump_json() for f in findings) == sorted(expected)
    assert run.summary.to_dict() == whole.summary.to_dict() and run.summary.reconciles
    assert sorted(r.model_dump_json() for r in run.rejections) == sorted(r.model_dump_json() for r in whole.rejections)


def test_streaming_holds_a_kind_only_while_a_kind_to_come_needs_it(standard_rulebooks, monkeypatch):
    """Evaluating a kind, the engine holds that kind, the kinds its windows read (connection_app's
    rules count billing rows, for one), and kinds read earlier that a kind to come still needs;
    a kind is evaluated after the kinds its windows read (they are then held once, not twice)."""
    rulebooks = standard_rulebooks
    files = _generated_files(rulebooks)
    seen = []
    backend_evaluate = rulebooks.backend.evaluate

    def spy(records, *args, kinds=None, **kwargs):
        seen.append((kinds, set(records)))
        return backend_evaluate(records, *args, kinds=kinds, **kwargs)

    monkeypatch.setattr(rulebooks.backend, "evaluate", spy)
    _, findings = stream_cases(rulebooks, files, AS_OF, False)
    list(findings)
    order = [kinds[0] for kinds, _ in seen]
    assert sorted(order) == sorted(p.stem for p, _ in files) and all(len(kinds) == 1 for kinds, _ in seen)
    needs = {name: {name} | {w.kind.name for rp in (*rulebooks.plan.kind(name).record_rules, *rulebooks.plan.kind(name).group_rules)
                             for w in rp.rule.windows} for name in order}
    assert "billing" in needs["connection_app"]
    assert all(order.index(need) < order.index(name) for name in order for need in needs[name] - {name})
    for i, (_, held) in enumerate(seen):
        later = set().union(*(needs[n] for n in order[i + 1:]))
        assert needs[order[i]] <= held <= needs[order[i]] | later, order[i]
    assert seen[-1][1] == needs[order[-1]]


def test_turns_read_and_release_every_kind_once(standard_rulebooks):
    """The Spark engine follows the same turns: each kind read once, released once, after its last reader."""
    from compliance_engine.runner import turns

    names = [p.stem for p, _ in _generated_files(standard_rulebooks)]
    plan = turns(standard_rulebooks, names)
    read = [k for t in plan for k in t.read]
    released = [k for t in plan for k in t.release]
    assert sorted(read) == sorted(set(read)) == sorted(released) and set(names) <= set(read)
    for i, t in enumerate(plan):
        for k in t.release:
            assert all(k not in (later.kind, *later.read) for later in plan[i + 1:])
