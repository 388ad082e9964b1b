"""Case files → typed DuckDB tables `records_<kind>`, read by DuckDB itself, with the Python
reader's exact semantics (records.py, coerce.py).

Two paths, one result:

* **Fast path, in SQL.** Every cell is taken as text (CSV and JSONL as written; Parquet cells
  cast to VARCHAR) and converted when it has a canonical spelling that both readers turn into the
  same value: `2026-03-05 08:00`, `12.50`, `true`, an enum member, `a;b`, `["a","b"]` …
* **Slow path, in Python.** A row with any other spelling (a `是` for true, `2026/03/05`, an
  ISO duration, a missing required field, a bad value, an unparseable JSON line) is handed, raw,
  to `coerce.coerce_plan` — the reference reader — which either types it (the row is inserted) or
  rejects it with its reason. Exports are overwhelmingly canonical, so Python sees a handful of
  rows, not millions.

A CSV file that DuckDB's strict parser refuses (an unclosed quote, a row with more cells than the
header, not UTF-8 …) is read whole by the Python reader and inserted in Arrow batches: the
result is the same, only slower, and the run says so. Nothing is dropped: every row is inserted
or rejected, and `Ingested` counts both.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ...coerce import RecordValueError, coerce_plan, plan_for
from ...records import RecordFileError, Rejection, _columns, _format_of, _rename, read_rows
from ...schema import Field, RecordKind
from ...types import Kind, Type
from .compiler import ROW_ID, table_name

# Python's str.isspace() set (RE2's \s is ASCII only): a cell of these alone is empty.
_WS = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_NOT_WS = _WS.replace("[", "[^", 1)
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "是": True, "否": False,
               "yes": True, "no": False, "y": True, "n": False, "t": True, "f": False}
# A JSON number with 16+ digits may not survive DuckDB's double parsing: such lines go to Python.
_LONG_JSON_NUMBER = r"[:\[,]\s*-?(\d\.?){16,}"
_JSONL_DELIMITER = "\x1f"  # no JSON text holds a raw unit separator; a line that does goes to Python
INSERT_BATCH = 50_000


@dataclass
class Ingested:
    """What reading the files gave: rows per kind in the tables, and the rejected rows."""

    read: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # kind → rows in records_<kind>
    python_read: list[str] = field(default_factory=list)  # files read whole by the Python reader

    @property
    def rejected(self) -> int:
        return len(self.rejections)


def duck_type(t: Type) -> str:
    """The DuckDB column type of a field type (docs/sql_backend.md § Types)."""
    if t.kind is Kind.LIST:
        return duck_type(t.item) + "[]"
    return {Kind.TEXT: "VARCHAR", Kind.INT: "BIGINT", Kind.DECIMAL: "DECIMAL(38,10)", Kind.MONEY: "DECIMAL(18,2)",
            Kind.BOOL: "BOOLEAN", Kind.DATE: "DATE", Kind.DATETIME: "TIMESTAMP", Kind.DURATION: "INTERVAL",
            Kind.MONTH: "VARCHAR", Kind.ENUM: "VARCHAR"}[t.kind]


def create_tables(con, kinds: dict[str, RecordKind]) -> None:
    for name, kind in kinds.items():
        cols = ", ".join([f"{_ident(ROW_ID)} BIGINT"] + [f"{_ident(f.name)} {duck_type(f.type)}" for f in kind.fields])
        con.execute(f"CREATE OR REPLACE TABLE {table_name(name)} ({cols})")


def ingest(con, kinds: dict[str, RecordKind], files: list[tuple[Path, RecordKind]],
           on_file: Callable[[Path, int], None] | None = None) -> Ingested:
    """Read every file into `records_<kind>` (created here); `on_file(path, rows)` after each."""
    create_tables(con, kinds)
    result = Ingested(rows={name: 0 for name in kinds})
    for path, kind in files:
        before = result.read
        _ingest_file(con, Path(path), kind, result)
        if on_file:
            on_file(Path(path), result.read - before)
    return result


def _ingest_file(con, path: Path, kind: RecordKind, result: Ingested) -> None:
    import duckdb

    fmt, _ = _format_of(path)
    try:
        _stage(con, path, kind, fmt)
    except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException):
        raise  # a fault of this module's SQL, never a property of the file
    except duckdb.Error:  # DuckDB's strict parser refused the file: the reference reader takes it
        _drop(con)
        _python_file(con, path, kind, result)
        result.python_read.append(str(path))
        return
    fields = ", ".join(_ident(f.name) for f in kind.fields)
    # accepted rows, fast and slow, keep their file position until numbered in file order
    con.execute(f"CREATE OR REPLACE TABLE accepted AS SELECT __pos, {fields} FROM stage WHERE NOT __slow")
    result.read += con.execute("SELECT count(*) FROM stage").fetchone()[0]
    _slow_rows(con, path, kind, fmt, result)
    offset = result.rows[kind.name]
    con.execute(f'INSERT INTO {table_name(kind.name)} SELECT {offset} + row_number() OVER (ORDER BY __pos) - 1, '
                f'{fields} FROM accepted')
    result.rows[kind.name] += con.execute("SELECT count(*) FROM accepted").fetchone()[0]
    _drop(con)


def _drop(con) -> None:
    for table in ("accepted", "stage", "raw"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


# ---- staging: the raw file and its fast-path typing -------------------------------------------
def _stage(con, path: Path, kind: RecordKind, fmt: str) -> None:
    """Table `raw` (the file's cells as read; its rowid, or `__pos` for Parquet, is the position)
    and table `stage` (position, each field typed by the fast path, `__slow` when Python must look)."""
    quoted = _sql_string(str(path))
    if fmt == "csv":
        header = _csv_header(path)
        columns = _columns(path, header, kind)
        names = [f"c{i}" for i in range(len(header))]
        con.execute(f"CREATE OR REPLACE TABLE raw AS SELECT * FROM read_csv({quoted}, header=true, all_varchar=true, "
                    f"auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true, null_padding=true, "
                    f"columns={_struct({n: 'VARCHAR' for n in names})})")
        cells = {f: f'"c{i}"' for i, f in columns}
        blank = " AND ".join(_is_empty(f'"{n}"') for n in names) or "false"
        con.execute(f"CREATE OR REPLACE TABLE stage AS SELECT rowid AS __pos, {_typed_columns(kind, cells, {})}, "
                    f"{_slow_condition(kind, cells, {})} AS __slow FROM raw WHERE NOT ({blank})")
    elif fmt == "jsonl":
        con.execute(f"CREATE OR REPLACE TABLE raw AS SELECT * FROM read_csv({quoted}, header=false, auto_detect=false, "
                    f"delim='{_JSONL_DELIMITER}', quote='', escape='', strict_mode=true, "
                    f"columns={{'line': 'VARCHAR'}})")
        # j: the line when it is valid JSON (json functions raise on malformed text; NULL is safe)
        cells = {f.name: f"json_extract_string(j, {_json_path(f.name)})" for f in kind.fields}
        types = {f.name: f"json_type(j, {_json_path(f.name)})" for f in kind.fields}
        con.execute(f"CREATE OR REPLACE TABLE stage AS SELECT __pos, {_typed_columns(kind, cells, types)}, "
                    f"({_jsonl_row_slow(kind)}) OR ({_slow_condition(kind, cells, types)}) AS __slow "
                    f"FROM (SELECT rowid AS __pos, CASE WHEN json_valid(line) THEN line END AS j FROM raw "
                    f"WHERE line IS NOT NULL AND NOT {_is_empty('line')})")
    else:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quoted})").fetchall()
        names, column_types = [r[0] for r in described], [r[1] for r in described]
        columns = _columns(path, names, kind)
        con.execute(f"CREATE OR REPLACE TABLE raw AS SELECT file_row_number AS __pos, "
                    f"{', '.join(_ident(names[i]) + ' AS ' + _ident(f) for i, f in columns) or 'NULL AS __none'} "
                    f"FROM read_parquet({quoted}, file_row_number=true)")
        native = {f for i, f in columns if _native(kind.field(f).type, column_types[i])}
        cells = {f: _ident(f) if f in native else f"CAST({_ident(f)} AS VARCHAR)" for _, f in columns}
        con.execute(f"CREATE OR REPLACE TABLE stage AS SELECT __pos, {_typed_columns(kind, cells, {}, native)}, "
                    f"{_slow_condition(kind, cells, {}, native)} AS __slow FROM raw")


_NATIVE_INTS = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"}


def _native(t: Type, column_type: str) -> bool:
    """A Parquet column whose values both readers take as they are (no text round trip)."""
    import re

    k = t.kind
    if k is Kind.LIST:  # a list of text column: its items are checked in `_slow_condition`
        return t.item is not None and t.item.kind is Kind.TEXT and column_type == "VARCHAR[]"
    if k is Kind.INT:
        return column_type in _NATIVE_INTS
    if k in (Kind.BOOL, Kind.DATE, Kind.DATETIME):
        return column_type == {Kind.BOOL: "BOOLEAN", Kind.DATE: "DATE", Kind.DATETIME: "TIMESTAMP"}[k]
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", column_type.replace(" ", ""))
    if k in _LIMITS and m:
        whole, places = _LIMITS[k]
        precision, scale = int(m[1]), int(m[2])
        return scale <= places and precision - scale <= whole
    return False


def _csv_header(path: Path) -> list[str]:
    gz = _format_of(path)[1]
    try:
        with (gzip.open(path, "rt", encoding="utf-8-sig", newline="") if gz
              else open(path, encoding="utf-8-sig", newline="")) as text:
            return next(csv.reader(text), [])
    except (UnicodeDecodeError, OSError, EOFError, csv.Error) as e:
        import duckdb

        raise duckdb.InvalidInputException(str(e)) from e  # let the reference reader report it


def _jsonl_row_slow(kind: RecordKind) -> str:
    """Row-level reasons for Python to read a JSON line: not a JSON object, a long number, or a
    key that only matches a field ignoring case (the reference reader's renaming)."""
    names = "[" + ", ".join(_sql_string(n) for n in kind.field_names) + "]"
    lower = "[" + ", ".join(_sql_string(n.lower()) for n in kind.field_names) + "]"
    renamed = (f"len(list_filter(json_keys(j), lambda k: NOT list_contains({names}, k) "
               f"AND list_contains({lower}, lower(trim(k))))) > 0")
    return (f"(j IS NULL OR json_type(j) <> 'OBJECT' OR regexp_matches(j, '{_LONG_JSON_NUMBER}') "
            f"OR coalesce({renamed}, true))")


def _typed_columns(kind: RecordKind, cells: dict[str, str], json_types: dict[str, str],
                   native: set[str] = frozenset()) -> str:
    out = []
    for f in kind.fields:
        if f.name in native:
            value = f"CAST({cells[f.name]} AS {duck_type(f.type)})"
        elif f.name in cells:
            value = _typed(f, cells[f.name])
        else:
            value = f"CAST(NULL AS {duck_type(f.type)})"
        out.append(f"{value} AS {_ident(f.name)}")
    return ", ".join(out)


def _slow_condition(kind: RecordKind, cells: dict[str, str], json_types: dict[str, str],
                    native: set[str] = frozenset()) -> str:
    """TRUE when some cell has no fast-path reading (or a required field is empty)."""
    parts = []
    for f in kind.fields:
        if f.name not in cells:
            if not f.optional:
                return "true"
            continue
        if f.name in native:
            if not f.optional:
                parts.append(f"({cells[f.name]} IS NULL)")
            if f.type.kind is Kind.LIST:  # every item present and not blank
                parts.append(f"NOT coalesce(list_bool_and(list_transform({cells[f.name]}, "
                             f"lambda x: NOT {_is_empty('x')})), true)")
            continue
        raw = cells[f.name]
        ok = _fast_ok(f.type, raw, json_types.get(f.name))
        empty = _is_empty(raw)
        parts.append(f"(CASE WHEN {empty} THEN {'false' if f.optional else 'true'} ELSE NOT ({ok}) END)")
    return "(" + (" OR ".join(parts) or "false") + ")"


def _typed(f: Field, raw: str) -> str:
    return f"CASE WHEN {_is_empty(raw)} THEN NULL ELSE {_convert(f.type, raw)} END"


# ---- the fast path per type: when a cell is canonical, and its value --------------------------
def _fast_ok(t: Type, raw: str, json_type: str | None) -> str:
    """SQL: the non-empty cell `raw` has a canonical spelling of type `t`."""
    k = t.kind
    if json_type is not None and k is not Kind.LIST:
        allowed = _JSON_TYPES.get(k)
        if allowed is None:
            return "false"
        json_ok = f"{json_type} IN ({', '.join(_sql_string(a) for a in allowed)})"
    else:
        json_ok = "true"
    pattern = _PATTERNS.get(k)
    if k is Kind.DURATION and t.calendar:
        return "false"
    if k is Kind.ENUM:
        members = ", ".join(_sql_string(m) for m in (t.enum.members if t.enum else ()))
        return f"{json_ok} AND {raw} IN ({members})" if members else "false"
    if k is Kind.BOOL:
        words = ", ".join(_sql_string(w) for w in _BOOL_WORDS)
        return f"{json_ok} AND lower({raw}) IN ({words})"
    if k is Kind.LIST:
        return _list_ok(t, raw, json_type)
    if k in (Kind.DATE, Kind.DATETIME):
        return f"{json_ok} AND regexp_full_match({raw}, '{pattern}') AND TRY_CAST({raw} AS {duck_type(t)}) IS NOT NULL"
    if pattern is None:
        return "false"
    return f"{json_ok} AND regexp_full_match({raw}, '{pattern}')"


_PATTERNS = {
    Kind.TEXT: r"(?s).*",
    Kind.INT: r"[+-]?\d{1,18}",
    Kind.DECIMAL: r"[+-]?\d{1,27}(\.\d{1,10})?",
    Kind.MONEY: r"[+-]?\d{1,16}(\.\d{1,2})?",
    Kind.DATE: r"\d{4}-\d{2}-\d{2}",
    Kind.DATETIME: r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?",
    Kind.DURATION: r"\d{1,12}",  # whole seconds
    Kind.MONTH: r"\d{4}-(0[1-9]|1[0-2])",
}
# JSON value types whose text DuckDB hands over exactly as Python's reader would see them
_JSON_TYPES = {Kind.TEXT: ("VARCHAR",), Kind.INT: ("BIGINT", "UBIGINT"), Kind.DECIMAL: ("BIGINT", "UBIGINT", "DOUBLE"),
               Kind.MONEY: ("BIGINT", "UBIGINT", "DOUBLE"), Kind.BOOL: ("BOOLEAN", "BIGINT", "VARCHAR"),
               Kind.DATE: ("VARCHAR",), Kind.DATETIME: ("VARCHAR",), Kind.DURATION: ("BIGINT", "UBIGINT"),
               Kind.MONTH: ("VARCHAR",), Kind.ENUM: ("VARCHAR",)}


def _list_ok(t: Type, raw: str, json_type: str | None) -> str:
    """Lists of text only: a JSON array of non-blank strings, or `a;b` / `a|b` with no padding."""
    if t.item is None or t.item.kind is not Kind.TEXT:
        return "false"
    item_ok = f"lambda x: json_type(x) = 'VARCHAR' AND NOT {_is_empty(chr(40) + 'x ->> ' + chr(39) + '$' + chr(39) + ')')}"
    array = (f"(CASE WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' AND json_array_length({raw}) > 0 "
             f"THEN list_bool_and(list_transform(from_json({raw}, '[\"JSON\"]'), {item_ok})) ELSE false END)")
    if json_type is not None:  # JSONL: the value itself must be an array
        return f"({json_type} = 'ARRAY' AND {array})"
    item = r"[^\s\x{0b}\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000};|\[]"
    plain = f"regexp_full_match({raw}, '{item}+(;{item[:-3]}]+)*') OR regexp_full_match({raw}, '{item}+(\\|{item[:-3]}]+)*')"
    return f"(CASE WHEN starts_with({raw}, '[') THEN {array} ELSE ({plain}) END)"


def _convert(t: Type, raw: str) -> str:
    k = t.kind
    if k is Kind.BOOL:
        truths = ", ".join(_sql_string(w) for w, v in _BOOL_WORDS.items() if v)
        return f"lower({raw}) IN ({truths})"
    if k is Kind.DURATION:
        return f"to_seconds(TRY_CAST({raw} AS BIGINT))"
    if k is Kind.LIST:
        array = f"from_json({raw}, '[\"VARCHAR\"]')"
        sep = f"CASE WHEN contains({raw}, ';') THEN ';' ELSE '|' END"
        return (f"(CASE WHEN starts_with({raw}, '[') THEN (CASE WHEN json_valid({raw}) THEN TRY_CAST({array} AS VARCHAR[]) END) "
                f"ELSE string_split({raw}, {sep}) END)")
    if k in (Kind.TEXT, Kind.ENUM, Kind.MONTH):
        return raw
    return f"TRY_CAST({raw} AS {duck_type(t)})"


def _is_empty(raw: str) -> str:
    return f"({raw} IS NULL OR regexp_full_match({raw}, '{_WS}*'))"


# ---- the slow path: rows the reference reader types or rejects --------------------------------
def _slow_rows(con, path: Path, kind: RecordKind, fmt: str, result: Ingested) -> None:
    plan = plan_for(kind)
    positions = [r[0] for r in con.execute("SELECT __pos FROM stage WHERE __slow ORDER BY __pos").fetchall()]
    if not positions:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE slow_pos AS SELECT UNNEST(?) AS p", [positions])
    raw = con.execute("SELECT * FROM raw WHERE " + ("__pos" if fmt == "parquet" else "rowid")
                      + " IN (SELECT p FROM slow_pos) ORDER BY " + ("__pos" if fmt == "parquet" else "rowid"))
    names = [d[0] for d in raw.description]
    lines = _line_numbers(path, fmt, positions)
    coerce = _raw_coercion(path, kind, plan, fmt)
    accepted: list[tuple[int, dict]] = []
    for pos, cells in zip(positions, raw.fetchall()):
        try:
            record = coerce(dict(zip(names, cells)))
        except RecordValueError as e:
            reasons = [str(e)]
        else:
            reasons = unrepresentable(kind, record)
        if reasons:
            result.rejections.append(Rejection(str(path), lines[pos], "；".join(reasons), kind.name))
        else:
            accepted.append((pos, record))
    con.execute("DROP TABLE slow_pos")
    _insert_records(con, kind, [r for _, r in accepted], "accepted", [p for p, _ in accepted])


_INT64 = 2 ** 63 - 1
_LIMITS = {Kind.DECIMAL: (27, 10), Kind.MONEY: (16, 2)}  # digits before / after the point


def unrepresentable(kind: RecordKind, record: dict) -> list[str]:
    """Why a typed record cannot be held exactly in the SQL column types (docs/sql_backend.md §
    Types): rather than round a value silently, the SQL engines reject the row and say why."""
    reasons = []
    for f in kind.fields:
        value = record.get(f.name)
        for item in (value if isinstance(value, tuple) else (value,)):
            t = f.type.item if f.type.kind is Kind.LIST else f.type
            if item is None or not _fits(t, item):
                if item is not None:
                    reasons.append(f"字段 {f.name} 的值 {item} 超出 SQL 引擎可精确表示的范围（{_LIMIT_WORDS[t.kind]}）")
                break
    return reasons


_LIMIT_WORDS = {Kind.INT: "整数应在 ±9223372036854775807 之内", Kind.DECIMAL: "数值最多 27 位整数、10 位小数",
                Kind.MONEY: "金额最多 16 位整数"}


def _fits(t: Type, value) -> bool:
    if t.kind is Kind.INT:
        return -_INT64 <= value <= _INT64
    if t.kind in _LIMITS:
        whole, places = _LIMITS[t.kind]
        _, digits, exponent = value.normalize().as_tuple()
        return max(0, -exponent) <= places and max(0, len(digits) + exponent) <= whole
    return True


def _raw_coercion(path: Path, kind: RecordKind, plan, fmt: str) -> Callable[[dict], dict]:
    """The reference coercion of one row of `raw` (its columns by name), for this file."""
    if fmt == "parquet":
        return lambda values: coerce_plan(plan, {f: values[f] for f in kind.field_names if f in values})
    if fmt == "csv":
        columns = _columns(path, _csv_header(path), kind)
        return lambda values: coerce_plan(plan, {f: v for i, f in columns if (v := values[f"c{i}"]) is not None})
    return lambda values: _coerce_json_line(kind, plan, values["line"])


def _coerce_json_line(kind: RecordKind, plan, line: str) -> dict:
    """What records._jsonl_rows makes of one line (the reference), as a record or an error."""
    from ...records import _no_constant

    try:
        obj = json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        where = f"，第 {e.colno} 列" if isinstance(e, json.JSONDecodeError) else ""
        raise RecordValueError(f"本行不是有效的 JSON（{getattr(e, 'msg', e)}{where}）") from None
    if type(obj) is not dict:
        raise RecordValueError("本行不是 JSON 对象（每行应为一条 {…} 记录）")
    names = frozenset(kind.field_names)
    if not names.issuperset(obj):
        obj = _rename(obj, names, {n.lower(): n for n in kind.field_names})
    return coerce_plan(plan, obj)


def _line_numbers(path: Path, fmt: str, positions: list[int]) -> dict[int, int]:
    """Position in `raw` → the line the reference reader reports (CSV: the record's first line;
    JSONL: its line; Parquet: its row number). DuckDB's line reader keeps every JSONL line (empty
    ones as NULL), so the line is the position + 1; its CSV reader skips only empty lines, so the
    CSV file is scanned once (without coercing) to find where each record starts."""
    if fmt != "csv":
        return {p: p + 1 for p in positions}
    wanted, out = set(positions), {}
    gz = _format_of(path)[1]
    with (gzip.open(path, "rt", encoding="utf-8-sig", newline="") if gz
          else open(path, encoding="utf-8-sig", newline="")) as text:
        reader = csv.reader(text)
        next(reader, None)
        line, pos = reader.line_num, 0
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:  # an empty line: DuckDB makes no row of it
                continue
            if pos in wanted:
                out[pos] = start
            pos += 1
    return out


def _insert_records(con, kind: RecordKind, records: list[dict], table: str, positions: list[int]) -> None:
    """Typed records (from the reference reader) appended to `table` with their `__pos`, in
    Arrow batches."""
    import pyarrow as pa

    from .duckdb_runner import arrow_table

    fields = ", ".join(_ident(f.name) for f in kind.fields)
    for start in range(0, len(records), INSERT_BATCH):
        batch = arrow_table(kind, records[start:start + INSERT_BATCH])
        batch = batch.set_column(0, ROW_ID, pa.array(positions[start:start + INSERT_BATCH], type=pa.int64()))
        con.register("__batch", batch)
        con.execute(f'INSERT INTO {table} SELECT "{ROW_ID}", {fields} FROM __batch')
        con.unregister("__batch")


def _python_file(con, path: Path, kind: RecordKind, result: Ingested) -> None:
    """The whole file through the reference reader (RecordFileError propagates: a file that
    cannot be read at all stops the run, as with the Python engine)."""
    batch: list[dict] = []
    target = table_name(kind.name)
    for row in read_rows(path, kind):
        result.read += 1
        reasons = unrepresentable(kind, row.record) if row.record is not None else ()
        if row.record is None or reasons:
            result.rejections.append(row.rejection or Rejection(str(path), row.line, "；".join(reasons), kind.name))
            continue
        batch.append(row.record)
        if len(batch) >= INSERT_BATCH:
            _append(con, kind, batch, target, result)
            batch = []
    _append(con, kind, batch, target, result)


def _append(con, kind: RecordKind, records: list[dict], target: str, result: Ingested) -> None:
    start = result.rows[kind.name]
    _insert_records(con, kind, records, target, list(range(start, start + len(records))))
    result.rows[kind.name] += len(records)


# ---- SQL text helpers (identifiers and literals only; no rule text is ever spliced in) ---------
def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(name: str) -> str:
    return _sql_string("$." + json.dumps(name, ensure_ascii=False))


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in columns.items()) + "}"


__all__ = ["Ingested", "ingest", "create_tables", "duck_type", "unrepresentable", "RecordFileError"]
