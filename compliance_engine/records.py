"""Reading case records from CSV, JSONL and Parquet files, and writing them back.

Every row of an input file comes out as a `Row`: either a typed record of its kind (the
accepted spellings of each type are in coerce.py and docs/records.md) or a `Rejection` with
its line and a reason in Chinese for the compliance officer. Nothing is dropped silently and
a bad row never stops the reading; only a file that cannot be read at all (missing, not
UTF-8, not Parquet, a broken gzip stream) raises `RecordFileError`.

Files are streamed: CSV and JSONL line by line, Parquet in batches of 65,536 rows, so a file
of millions of rows never sits in memory. The format comes from the file's suffix.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from .coerce import (
    Plan,
    RecordValueError,
    coerce_plan,
    coerce_record,
    iso_duration,
    json_formatter,
    plan_for,
    text_formatter,
)
from .errors import ComplianceError
from .schema import RecordKind
from .types import Kind, Type

__all__ = [
    "RecordFileError", "RecordValueError", "Rejection", "Row",
    "coerce_record", "read_rows", "infer_kind", "write_records",
]

BATCH_SIZE = 65_536
_PRECHECK_BYTES = 1 << 16
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class RecordFileError(ComplianceError, ValueError):
    """A records file that cannot be opened or decoded at all (the message names the file)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that did not become a record: where it is and why, in words for the officer."""

    path: str
    line: int  # 1-based line of the file (CSV: header is line 1; JSONL), or row number (Parquet)
    reason: str
    kind: str


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: exactly one of `record` (every field of the kind) and `rejection` is set."""

    line: int
    record: dict | None
    rejection: Rejection | None


# --- formats and kinds from file names ---------------------------------------------------------


def _format_of(path: Path) -> tuple[str, bool]:
    """('csv' | 'jsonl' | 'parquet', gzipped?) from the suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    fmt = _SUFFIXES.get(suffixes[-2 if gz else -1]) if len(suffixes) > gz else None
    if fmt is None or (gz and fmt == "parquet"):  # Parquet compresses its own pages
        raise RecordFileError(
            f"文件 {path} 的格式无法识别（应为 .csv、.jsonl、.ndjson、.parquet，或 .csv.gz、.jsonl.gz）"
        )
    return fmt, gz


def _stem(name: str) -> str:
    """The file name without its format suffixes: 'ticket_2026-03.csv.gz' → 'ticket_2026-03'."""
    lower = name.lower()
    if lower.endswith(".gz"):
        name, lower = name[:-3], lower[:-3]
    for suffix in _SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def infer_kind(path: str | Path, kinds: Mapping[str, RecordKind]) -> RecordKind | None:
    """The kind a file holds, from its name: the kind named like the stem ('ticket.csv'), or
    whose name followed by '_', '-' or '.' begins it ('ticket_2026-03.csv'). The longest name
    wins, so 'data_export_q1.csv' is a data_export even if a kind 'data' exists. Case is ignored."""
    stem = _stem(Path(path).name).casefold()
    best: tuple[str, RecordKind] | None = None
    for name, kind in kinds.items():
        key = name.casefold()
        if stem == key or (stem.startswith(key) and stem[len(key)] in "_-."):
            if best is None or len(name) > len(best[0]):
                best = (name, kind)
    return best[1] if best else None


# --- reading -----------------------------------------------------------------------------------


def read_rows(path: str | Path, kind: RecordKind) -> Iterator[Row]:
    """Every row of the file as a typed record or a rejection, in file order, streamed.

    Opens the file at once (so a missing or undecodable file raises RecordFileError here) and
    returns an iterator; a file that turns out broken further on raises from the iteration.
    """
    p = Path(path)
    fmt, gz = _format_of(p)
    plan = plan_for(kind)
    if fmt == "parquet":
        return _parquet_rows(p, kind, plan, _open_parquet(p))
    return _TEXT_READERS[fmt](p, kind, plan, _open_text(p, gz))


def _row(path: Path, kind: RecordKind, plan: Plan, line: int, raw: Mapping[str, object]) -> Row:
    try:
        return Row(line, coerce_plan(plan, raw), None)
    except RecordValueError as e:
        return _rejected(path, kind, line, str(e))


def _rejected(path: Path, kind: RecordKind, line: int, reason: str) -> Row:
    return Row(line, None, Rejection(str(path), line, reason, kind.name))


def _not_utf8(path: Path, line: int) -> RecordFileError:
    return RecordFileError(
        f"文件 {path} 不是有效的 UTF-8 文本（第 {line} 行）；"
        "若是 GBK/GB18030 编码的导出文件，请先另存为 UTF-8"
    )


def _first_bad_line(path: Path) -> int:
    """The first line that is not UTF-8: a second pass, made only when a file turns out broken,
    so the officer is told the exact line rather than where the decoder's buffer happened to be."""
    gz = _format_of(path)[1]
    n = 0
    with gzip.open(path, "rb") if gz else open(path, "rb") as raw:
        for n, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return n


def _open_text(path: Path, gz: bool) -> io.TextIOWrapper:
    """The file as UTF-8 text (BOM dropped). The first 64 KiB are checked up front, so a GBK
    export fails before any row is handed out instead of after a few thousand."""
    try:
        raw: IO[bytes] = gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as e:
        raise RecordFileError(f"无法打开文件 {path}：{e.strerror or e}") from e
    try:
        head = raw.read(_PRECHECK_BYTES)
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, len(head) < _PRECHECK_BYTES)
        except UnicodeDecodeError as e:
            raise _not_utf8(path, head.count(b"\n", 0, e.start) + 1) from None
        raw.seek(0)
    except RecordFileError:
        raw.close()
        raise
    except (OSError, EOFError, zlib.error) as e:  # not gzip, truncated, unreadable
        raw.close()
        raise RecordFileError(f"无法读取文件 {path}：{e}") from e
    # newline='' lets the csv module see the line ends itself (quoted cells may span lines).
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _columns(path: Path, names: list[str], kind: RecordKind) -> list[tuple[int, str]]:
    """(column index, field name) for each field of `kind` found among the column `names`.

    Exact names first; otherwise ignoring case and padding, because source systems export
    CONS_NO where the schema says cons_no. Columns not in the kind are ignored.
    """
    fields = kind.field_names
    exact: dict[str, int] = {}
    loose: dict[str, int] = {}
    for i, name in enumerate(names):
        key = name.strip()
        if key in fields:
            if key in exact:
                raise RecordFileError(
                    f"文件 {path} 的表头中字段 {key} 出现了不止一次，无法确定取哪一列"
                )
            exact[key] = i
        else:
            loose.setdefault(key.lower(), i)
    found = []
    for f in fields:
        i = exact.get(f, loose.get(f.lower()))
        if i is not None:
            found.append((i, f))
    return found


def _csv_rows(path: Path, kind: RecordKind, plan: Plan, text: io.TextIOWrapper) -> Iterator[Row]:
    reader = csv.reader(text)
    line = 1
    with text:
        try:
            header = next(reader, None)
            if header is None:
                return
            columns, width = _columns(path, header, kind), len(header)
            line = reader.line_num
            for cells in reader:
                # A record starts on the line after the previous one ended; quoted cells may
                # span lines, and the record is reported at its first line.
                start, line = line + 1, reader.line_num
                if not any(c and not c.isspace() for c in cells):
                    continue  # a blank line or ',,,' carries no data: it is not a row
                if len(cells) > width and any(c and not c.isspace() for c in cells[width:]):
                    # Usually an unquoted comma inside a value: every later cell is shifted.
                    reason = (f"本行有 {len(cells)} 列，多于表头的 {width} 列"
                              "（可能有未加引号的逗号），各列无法对应")
                    yield _rejected(path, kind, start, reason)
                    continue
                n = len(cells)
                yield _row(path, kind, plan, start, {f: cells[i] for i, f in columns if i < n})
        except UnicodeDecodeError:
            raise _not_utf8(path, _first_bad_line(path)) from None
        except csv.Error as e:  # e.g. a cell beyond the csv module's size limit (a stray quote)
            raise RecordFileError(
                f"文件 {path} 第 {line + 1} 行附近不是有效的 CSV：{e}（可能有未闭合的引号）"
            ) from e
        except (OSError, EOFError, zlib.error) as e:
            raise RecordFileError(f"文件 {path} 第 {line + 1} 行附近无法读取：{e}") from e


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} 不是合法的 JSON 数值")


def _rename(obj: dict, names: frozenset[str], lower: dict[str, str]) -> dict:
    """`obj` with keys like 'CONS_NO' also available under their field name 'cons_no'."""
    out = dict(obj)
    for k, v in obj.items():
        if k not in names and isinstance(k, str):
            target = lower.get(k.strip().lower())
            if target is not None and target not in obj:
                out[target] = v
    return out


def _jsonl_rows(path: Path, kind: RecordKind, plan: Plan, text: io.TextIOWrapper) -> Iterator[Row]:
    names = frozenset(kind.field_names)
    lower = {n.lower(): n for n in kind.field_names}
    line = 0
    with text:
        try:
            for line, s in enumerate(text, 1):
                if not s or s.isspace():
                    continue
                try:
                    # parse_float=Decimal: 0.1 stays 0.1, never the float 0.1000000000000000055…
                    obj = json.loads(s, parse_float=Decimal, parse_constant=_no_constant)
                except (ValueError, RecursionError) as e:
                    where = f"，第 {e.colno} 列" if isinstance(e, json.JSONDecodeError) else ""
                    reason = f"本行不是有效的 JSON（{getattr(e, 'msg', e)}{where}）"
                    yield _rejected(path, kind, line, reason)
                    continue
                if type(obj) is not dict:
                    yield _rejected(path, kind, line, "本行不是 JSON 对象（每行应为一条 {…} 记录）")
                    continue
                if not names.issuperset(obj):
                    obj = _rename(obj, names, lower)
                yield _row(path, kind, plan, line, obj)
        except UnicodeDecodeError:
            raise _not_utf8(path, _first_bad_line(path)) from None
        except (OSError, EOFError, zlib.error) as e:
            raise RecordFileError(f"文件 {path} 第 {line + 1} 行附近无法读取：{e}") from e


_TEXT_READERS: dict[str, Callable[[Path, RecordKind, Plan, io.TextIOWrapper], Iterator[Row]]] = {
    "csv": _csv_rows,
    "jsonl": _jsonl_rows,
}


def _open_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException, ValueError) as e:
        raise RecordFileError(f"文件 {path} 不是可读取的 Parquet 文件：{e}") from e


def _pylist(column) -> list:
    import pyarrow as pa

    t = column.type
    # Python datetimes stop at microseconds; without this, a nanosecond column fails as a whole.
    if pa.types.is_timestamp(t) and t.unit == "ns":
        column = column.cast(pa.timestamp("us", t.tz), safe=False)
    elif pa.types.is_duration(t) and t.unit == "ns":
        column = column.cast(pa.duration("us"), safe=False)
    return column.to_pylist()


def _parquet_rows(path: Path, kind: RecordKind, plan: Plan, pf) -> Iterator[Row]:
    import pyarrow as pa

    names = pf.schema_arrow.names
    columns = _columns(path, names, kind)
    selected = [names[i] for i, _ in columns]  # read only the columns the kind needs
    fields = [f for _, f in columns]
    row = 0
    try:
        if not selected:  # none of the kind's columns: every row is still a row (rejected, or all-optional)
            for row in range(1, pf.metadata.num_rows + 1):
                yield _row(path, kind, plan, row, {})
            return
        for batch in pf.iter_batches(batch_size=BATCH_SIZE, columns=selected):
            values = [_pylist(batch.column(name)) for name in selected]
            for cells in zip(*values):
                row += 1
                yield _row(path, kind, plan, row, dict(zip(fields, cells)))
    except (OSError, pa.ArrowException) as e:
        raise RecordFileError(f"文件 {path} 第 {row + 1} 行附近无法读取：{e}") from e
    finally:
        pf.close()


# --- writing -----------------------------------------------------------------------------------


def write_records(path: str | Path, kind: RecordKind, records: Iterable[dict]) -> int:
    """Write records of `kind` to `path` (format by suffix, as for reading); returns the count.

    Each record is coerced first, so raw spellings are accepted and a bad record raises
    RecordValueError naming it (1-based) — a written file always reads back without rejections.
    """
    p = Path(path)
    fmt, gz = _format_of(p)
    plan = plan_for(kind)

    def typed() -> Iterator[dict]:
        for n, record in enumerate(records, 1):
            try:
                yield coerce_plan(plan, record)
            except RecordValueError as e:
                raise RecordValueError(f"第 {n} 条记录：{e}") from e

    if fmt == "parquet":
        return _write_parquet(p, kind, typed())
    opener = gzip.open if gz else open
    with opener(p, "wt", encoding="utf-8", newline="") as out:
        return _TEXT_WRITERS[fmt](out, kind, typed())


def _write_csv(out: IO[str], kind: RecordKind, records: Iterator[dict]) -> int:
    cells = [(f.name, text_formatter(f.type)) for f in kind.fields]
    writer = csv.writer(out)
    writer.writerow(kind.field_names)
    n = 0
    for r in records:
        writer.writerow(["" if (v := r[name]) is None else fmt(v) for name, fmt in cells])
        n += 1
    return n


def _write_jsonl(out: IO[str], kind: RecordKind, records: Iterator[dict]) -> int:
    # Built by hand so that Decimals are written as exact JSON numbers (json.dumps cannot).
    members = [(json.dumps(f.name, ensure_ascii=False) + ":", f.name, json_formatter(f.type))
               for f in kind.fields]
    n = 0
    for r in records:
        body = ",".join(key + ("null" if (v := r[name]) is None else fmt(v)) for key, name, fmt in members)
        out.write("{" + body + "}\n")
        n += 1
    return n


_TEXT_WRITERS: dict[str, Callable[[IO[str], RecordKind, Iterator[dict]], int]] = {
    "csv": _write_csv,
    "jsonl": _write_jsonl,
}


def arrow_type(t: Type):
    """The Arrow type a field of type `t` is written as."""
    import pyarrow as pa

    if t.kind is Kind.LIST:
        return pa.list_(arrow_type(t.item))
    if t.kind is Kind.DURATION and t.calendar:
        return pa.string()  # months have no fixed length: kept as 'P3M'
    return {
        Kind.TEXT: pa.string(),
        Kind.INT: pa.int64(),
        Kind.DECIMAL: pa.decimal128(38, 10),  # a value with more places fails loudly, never rounds
        Kind.MONEY: pa.decimal128(18, 2),
        Kind.BOOL: pa.bool_(),
        Kind.DATE: pa.date32(),
        Kind.DATETIME: pa.timestamp("us"),  # naive: local Asia/Shanghai time, like the records
        Kind.DURATION: pa.duration("us"),
        Kind.MONTH: pa.string(),
        Kind.ENUM: pa.string(),
    }[t.kind]


def _arrow_value(t: Type) -> Callable[[object], object] | None:
    """How a typed value becomes something pyarrow takes for `arrow_type(t)`; None: as it is."""
    if t.kind is Kind.MONTH:
        return str
    if t.kind is Kind.DURATION and t.calendar:
        return iso_duration
    if t.kind is Kind.LIST:
        item = _arrow_value(t.item)
        return None if item is None else (lambda v: [item(x) for x in v])
    return None


def _write_parquet(path: Path, kind: RecordKind, records: Iterator[dict]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(f.name, arrow_type(f.type), nullable=f.optional) for f in kind.fields])
    convert = [(f.name, _arrow_value(f.type)) for f in kind.fields]
    buffers: list[list] = [[] for _ in kind.fields]
    n = 0

    def flush(writer) -> None:
        arrays = []
        for (name, _), values, field in zip(convert, buffers, schema):
            try:
                arrays.append(pa.array(values, type=field.type))
            except (pa.ArrowException, OverflowError) as e:
                raise RecordValueError(f"字段 {name} 的值无法写成 Parquet 类型 {field.type}：{e}") from e
            values.clear()
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    with pq.ParquetWriter(path, schema) as writer:
        for r in records:
            for (name, conv), values in zip(convert, buffers):
                v = r[name]
                values.append(v if v is None or conv is None else conv(v))
            n += 1
            if n % BATCH_SIZE == 0:
                flush(writer)
        if n % BATCH_SIZE or n == 0:
            flush(writer)
    return n
