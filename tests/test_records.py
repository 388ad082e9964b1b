"""Reading and writing case records: coercion per type, rejections with lines, formats, kinds."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_engine import types as T
from compliance_engine.records import (
    RecordFileError,
    RecordValueError,
    Rejection,
    Row,
    coerce_record,
    infer_kind,
    read_rows,
    write_records,
)
from compliance_engine.schema import Field, RecordKind
from compliance_engine.values import CalendarDuration, Month

TICKET_TYPE = T.EnumType("ticket_type", ("投诉", "意见", "故障报修"))

# Every scalar type, enums and lists, required and optional.
ALL = RecordKind(
    "case",
    (
        Field("case_no", T.TEXT, key=True),
        Field("count", T.INT),
        Field("kwh", T.DECIMAL),
        Field("amount", T.MONEY),
        Field("sensitive", T.BOOL),
        Field("due_date", T.DATE),
        Field("accepted_at", T.DATETIME),
        Field("wait", T.DURATION),
        Field("period", T.MONTH),
        Field("ticket_type", T.enum_of(TICKET_TYPE)),
        Field("roles", T.list_of(T.TEXT)),
        Field("photos", T.list_of(T.INT), optional=True),
        Field("visits", T.list_of(T.DATE), optional=True),
        Field("note", T.TEXT, optional=True),
        Field("paid_at", T.DATETIME, optional=True),
        Field("adjust", T.MONEY, optional=True),
        Field("term", T.CALENDAR_DURATION, optional=True),
    ),
)

FULL = {
    "case_no": "C-001",
    "count": 42,
    "kwh": Decimal("1234.5678"),
    "amount": Decimal("99.90"),
    "sensitive": True,
    "due_date": date(2026, 3, 31),
    "accepted_at": datetime(2026, 3, 5, 10, 15, 30, 250000),
    "wait": timedelta(days=1, hours=2, minutes=3, seconds=4),
    "period": Month.of(2026, 3),
    "ticket_type": "投诉",
    "roles": ("营业厅", "班长|副班长", "含,逗号"),
    "photos": (1, 2, 3),
    "visits": (date(2026, 3, 6), date(2026, 3, 9)),
    "note": '带"引号"和\n换行的  文本 ',
    "paid_at": datetime(2026, 4, 1, 0, 0),
    "adjust": Decimal("-12.30"),
    "term": CalendarDuration(14),
}
SPARSE = {**{f.name: None for f in ALL.fields}, **{k: FULL[k] for k in (
    "case_no", "count", "kwh", "amount", "due_date", "accepted_at", "wait", "period", "ticket_type")},
    "sensitive": False, "roles": ()}

FORMATS = ["csv", "jsonl", "ndjson", "parquet", "csv.gz", "jsonl.gz"]

SMALL = RecordKind(
    "ticket",
    (
        Field("ticket_no", T.TEXT, key=True),
        Field("crew_size", T.INT),
        Field("accepted_at", T.DATETIME),
        Field("due_date", T.DATE, optional=True),
        Field("amount", T.MONEY, optional=True),
        Field("ticket_type", T.enum_of(TICKET_TYPE), optional=True),
    ),
)


def rows_of(path: Path, kind: RecordKind = SMALL) -> list[Row]:
    return list(read_rows(path, kind))


def rejections(rows: list[Row]) -> list[tuple[int, str]]:
    return [(r.rejection.line, r.rejection.reason) for r in rows if r.rejection]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_type(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"case.{fmt}"
    assert write_records(path, ALL, [FULL, SPARSE, FULL]) == 3
    rows = rows_of(path, ALL)
    assert [r.line for r in rows] == ([1, 2, 3] if fmt == "parquet" else
                                      [2, 4, 5] if fmt.startswith("csv") else [1, 2, 3])  # CSV: note spans 2 lines
    assert [r.rejection for r in rows] == [None, None, None]
    assert [r.record for r in rows] == [FULL, SPARSE, FULL]
    got = rows[0].record
    # The runtime representations, not just equal values: no floats, Month not int, etc.
    assert type(got["kwh"]) is Decimal and type(got["amount"]) is Decimal
    assert type(got["period"]) is Month and type(got["accepted_at"]) is datetime
    assert type(got["due_date"]) is date and type(got["roles"]) is tuple
    assert got["note"] == FULL["note"]  # text is kept exactly, spaces and newlines included


def test_written_csv_and_jsonl_spell_values_plainly(tmp_path: Path) -> None:
    write_records(tmp_path / "a.csv", ALL, [SPARSE])
    header, line = (tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()
    cells = dict(zip(header.split(","), line.split(",")))
    assert cells["amount"] == "99.90" and cells["sensitive"] == "false" and cells["note"] == ""
    assert cells["accepted_at"] == "2026-03-05 10:15:30.250000" and cells["period"] == "2026-03"
    assert cells["wait"] == "P1DT2H3M4S" and cells["roles"] == "[]"
    write_records(tmp_path / "a.jsonl", ALL, [FULL])
    text = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert '"amount":99.90' in text and '"kwh":1234.5678' in text and "营业厅" in text  # ensure_ascii=False
    assert json.loads(text)["roles"] == ["营业厅", "班长|副班长", "含,逗号"]


def test_parquet_schema_is_typed(tmp_path: Path) -> None:
    write_records(tmp_path / "case.parquet", ALL, [FULL])
    schema = pq.read_schema(tmp_path / "case.parquet")
    assert schema.field("amount").type == pa.decimal128(18, 2)
    assert schema.field("kwh").type == pa.decimal128(38, 10)
    assert schema.field("accepted_at").type == pa.timestamp("us")
    assert schema.field("due_date").type == pa.date32()
    assert schema.field("period").type == pa.string()
    assert schema.field("photos").type == pa.list_(pa.int64())
    assert schema.field("sensitive").type == pa.bool_()


def test_write_coerces_and_rejects_bad_records(tmp_path: Path) -> None:
    raw = {"ticket_no": "T1", "crew_size": "3", "accepted_at": "2026/03/05 10:00"}
    assert write_records(tmp_path / "t.jsonl", SMALL, [raw]) == 1
    assert rows_of(tmp_path / "t.jsonl")[0].record["accepted_at"] == datetime(2026, 3, 5, 10, 0)
    with pytest.raises(RecordValueError, match="第 2 条记录.*crew_size"):
        write_records(tmp_path / "t.csv", SMALL, [raw, {**raw, "crew_size": "三"}])


def test_parquet_writer_refuses_to_round_decimals(tmp_path: Path) -> None:
    kind = RecordKind("m", (Field("rate", T.DECIMAL),))
    with pytest.raises(RecordValueError, match="rate"):
        write_records(tmp_path / "m.parquet", kind, [{"rate": Decimal("0.12345678901")}])


# --- rejections with their lines -----------------------------------------------------------

BAD_INT = "字段 crew_size 的值 '1.5' 不是有效的整数"
BAD_DATE = "字段 due_date 的值 '2026-02-30' 不是有效的日期"
BAD_MONEY = "字段 amount 的值 '12.345' 超过两位小数"
BAD_ENUM = "字段 ticket_type 的值 '投拆' 不在 ticket_type 的取值范围内（应为 投诉、意见、故障报修 之一）"
EMPTY = "必填字段 accepted_at 为空"
BAD_DATETIME = "字段 accepted_at 的值 '2026-13-01 10:00' 不是有效的日期时间（应为 YYYY-MM-DD HH:MM[:SS]）"

# (values, expected reason or None); values in SMALL's field order
CASES = [
    (("T1", "3", "2026-03-05 10:00", "2026-03-31", "12.30", "投诉"), None),
    (("T2", "1.5", "2026-03-05 10:00", "", "", ""), BAD_INT),
    (("T3", "2", "2026-03-05 10:00", "2026-02-30", "", ""), BAD_DATE),
    (("T4", "2", "2026-03-05 10:00", "", "12.345", ""), BAD_MONEY),
    (("T5", "2", "2026-03-05 10:00", "", "", "投拆"), BAD_ENUM),
    (("T6", "2", "   ", "", "", ""), EMPTY),
    (("T7", "2", "2026-13-01 10:00", "", "", ""), BAD_DATETIME),
]


def _check(rows: list[Row], lines: list[int]) -> None:
    assert [r.line for r in rows] == lines
    for row, (_, reason) in zip(rows, CASES):
        if reason is None:
            assert row.rejection is None and row.record is not None
        else:
            assert row.record is None and row.rejection is not None
            assert row.rejection.reason.startswith(reason), row.rejection.reason
            assert row.rejection.kind == "ticket" and row.rejection.line == row.line


def test_csv_rejections_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    lines = [",".join(SMALL.field_names)] + [",".join(values) for values, _ in CASES]
    lines.insert(3, "")  # a blank line is not a row, but it still counts as a line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = rows_of(path)
    _check(rows, [2, 3, 5, 6, 7, 8, 9])
    assert rows[1].rejection == Rejection(str(path), 3, rows[1].rejection.reason, "ticket")


def test_jsonl_rejections_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "ticket.jsonl"
    lines = [json.dumps(dict(zip(SMALL.field_names, values)), ensure_ascii=False) for values, _ in CASES]
    lines.insert(1, "   ")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(rows_of(path), [1, 3, 4, 5, 6, 7, 8])


def test_parquet_rejections_with_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ticket.parquet"
    columns = list(zip(*(values for values, _ in CASES)))
    pq.write_table(pa.table({n: list(c) for n, c in zip(SMALL.field_names, columns)}), path)
    _check(rows_of(path), [1, 2, 3, 4, 5, 6, 7])


def test_every_bad_field_of_a_row_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RecordValueError) as e:
        coerce_record(SMALL, {"ticket_no": "", "crew_size": "x", "accepted_at": "2026-03-05"})
    assert e.value.reasons == ("必填字段 ticket_no 为空", "字段 crew_size 的值 'x' 不是有效的整数（应为整数，如 42）")
    assert str(e.value) == "；".join(e.value.reasons)


def test_jsonl_lines_that_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "ticket.jsonl"
    path.write_text('{"ticket_no": "T1", "crew_size": 1, "accepted_at": "2026-03-05"}\n'
                    '{"ticket_no": "T2", \n[1, 2]\n{"crew_size": NaN}\n', encoding="utf-8")
    rows = rows_of(path)
    assert rows[0].record is not None
    expected = [(2, "本行不是有效的 JSON（"), (3, "本行不是 JSON 对象"), (4, "本行不是有效的 JSON（")]
    got = rejections(rows)
    assert [line for line, _ in got] == [line for line, _ in expected]
    assert all(reason.startswith(start) for (_, reason), (_, start) in zip(got, expected)), got


def test_csv_row_with_more_cells_than_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    path.write_text("ticket_no,crew_size,accepted_at\n"
                    "T1,2,2026-03-05 10:00,,\n"  # trailing empty cells are harmless
                    "T2,张,三,2026-03-05 10:00\n", encoding="utf-8")
    rows = rows_of(path)
    assert rows[0].record is not None
    assert rejections(rows) == [(3, "本行有 4 列，多于表头的 3 列（可能有未加引号的逗号），各列无法对应")]


def test_value_in_message_is_truncated_to_40_chars() -> None:
    with pytest.raises(RecordValueError) as e:
        coerce_record(SMALL, {"ticket_no": "T", "crew_size": "9" * 39 + "xyz", "accepted_at": "2026-03-05"})
    assert f"'{'9' * 39}x…'" in str(e.value)


# --- columns, BOM, empties -----------------------------------------------------------------


def test_csv_with_bom_and_loose_header(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    path.write_bytes("\ufeffTICKET_NO, crew_size ,accepted_at,extra\nT1,2,2026-03-05 10:00,ignored\n".encode())
    [row] = rows_of(path)
    assert row.record == {"ticket_no": "T1", "crew_size": 2, "accepted_at": datetime(2026, 3, 5, 10, 0),
                          "due_date": None, "amount": None, "ticket_type": None}


def test_jsonl_with_bom_and_upper_case_keys(tmp_path: Path) -> None:
    path = tmp_path / "ticket.jsonl"
    path.write_bytes('\ufeff{"TICKET_NO": "T1", "crew_size": 2, "accepted_at": "2026-03-05", "x": 1}\n'.encode())
    [row] = rows_of(path)
    assert row.record["ticket_no"] == "T1" and row.record["accepted_at"] == datetime(2026, 3, 5)


def test_duplicate_column_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    path.write_text("ticket_no,crew_size,crew_size,accepted_at\nT1,1,2,2026-03-05\n", encoding="utf-8")
    with pytest.raises(RecordFileError, match="crew_size"):
        rows_of(path)


def test_missing_required_column_rejects_every_row(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    path.write_text("ticket_no,accepted_at\nT1,2026-03-05\nT2,2026-03-06\n", encoding="utf-8")
    assert rejections(rows_of(path)) == [(2, "必填字段 crew_size 为空"), (3, "必填字段 crew_size 为空")]


def test_parquet_without_any_known_column_still_yields_every_row(tmp_path: Path) -> None:
    path = tmp_path / "ticket.parquet"
    pq.write_table(pa.table({"other": [1, 2, 3]}), path)
    rows = rows_of(path)
    assert [r.line for r in rows] == [1, 2, 3] and all(r.rejection for r in rows)


@pytest.mark.parametrize("empty", [None, "", "  ", "\t", float("nan")])
def test_empty_values(empty: object) -> None:
    base = {"ticket_no": "T", "crew_size": 1, "accepted_at": "2026-03-05"}
    assert coerce_record(SMALL, {**base, "amount": empty})["amount"] is None
    with pytest.raises(RecordValueError, match="必填字段 crew_size 为空"):
        coerce_record(SMALL, {**base, "crew_size": empty})


# --- spellings per type --------------------------------------------------------------------


def one(t: T.Type, value: object, optional: bool = False) -> object:
    return coerce_record(RecordKind("k", (Field("v", t, optional=optional),)), {"v": value})["v"]


def bad(t: T.Type, value: object) -> str:
    with pytest.raises(RecordValueError) as e:
        one(t, value)
    return str(e.value)


@pytest.mark.parametrize("t, value, expected", [
    (T.TEXT, " 带空格 ", " 带空格 "),
    (T.TEXT, 3300123, "3300123"),
    (T.INT, "42", 42), (T.INT, " -7 ", -7), (T.INT, "3.0", 3), (T.INT, 3.0, 3), (T.INT, Decimal("5"), 5),
    (T.DECIMAL, "0.1", Decimal("0.1")), (T.DECIMAL, 0.1, Decimal("0.1")), (T.DECIMAL, "1e3", Decimal("1e3")),
    (T.DECIMAL, 7, Decimal(7)),
    (T.MONEY, "12.3", Decimal("12.30")), (T.MONEY, "12.300", Decimal("12.30")), (T.MONEY, 5, Decimal("5.00")),
    (T.MONEY, 12.34, Decimal("12.34")), (T.MONEY, "-0.5", Decimal("-0.50")),
    *[(T.BOOL, s, True) for s in ("true", "TRUE", "1", "是", "yes", "Y", "t", True, 1)],
    *[(T.BOOL, s, False) for s in ("false", "0", "否", "No", "n", "F", False, 0)],
    (T.DATE, "2026-03-05", date(2026, 3, 5)), (T.DATE, "2026/3/5", date(2026, 3, 5)),
    (T.DATE, "2026-03-05 00:00:00", date(2026, 3, 5)), (T.DATE, datetime(2026, 3, 5), date(2026, 3, 5)),
    (T.DATETIME, "2026-03-05 10:00", datetime(2026, 3, 5, 10)),
    (T.DATETIME, "2026-03-05T10:00:07", datetime(2026, 3, 5, 10, 0, 7)),
    (T.DATETIME, "2026/03/05 10:00:07.5", datetime(2026, 3, 5, 10, 0, 7, 500000)),
    (T.DATETIME, "2026-03-05", datetime(2026, 3, 5)), (T.DATETIME, date(2026, 3, 5), datetime(2026, 3, 5)),
    (T.DURATION, "PT45M", timedelta(minutes=45)), (T.DURATION, "P1DT2H", timedelta(days=1, hours=2)),
    (T.DURATION, "90", timedelta(seconds=90)), (T.DURATION, 1.5, timedelta(seconds=1.5)),
    (T.DURATION, "-PT1H", timedelta(hours=-1)), (T.DURATION, "P2W", timedelta(weeks=2)),
    (T.CALENDAR_DURATION, "P1Y2M", CalendarDuration(14)),
    (T.MONTH, "2026-03", Month.of(2026, 3)), (T.MONTH, "202603", Month.of(2026, 3)),
    (T.MONTH, "2026/3", Month.of(2026, 3)),
    (T.enum_of(TICKET_TYPE), " 意见 ", "意见"),
    (T.list_of(T.TEXT), '["a", "b;c"]', ("a", "b;c")), (T.list_of(T.TEXT), "a; b;", ("a", "b")),
    (T.list_of(T.TEXT), "a|b", ("a", "b")), (T.list_of(T.TEXT), "单项", ("单项",)),
    (T.list_of(T.INT), [1, "2"], (1, 2)), (T.list_of(T.TEXT), "[]", ()),
    (T.list_of(T.MONEY), "[1.5, 2]", (Decimal("1.50"), Decimal("2.00"))),
])
def test_accepted_spellings(t: T.Type, value: object, expected: object) -> None:
    got = one(t, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("t, value, reason", [
    (T.INT, "1.5", "不是有效的整数"), (T.INT, "1_000", "不是有效的整数"), (T.INT, True, "不是有效的整数"),
    (T.DECIMAL, "NaN", "不是有效的数值"), (T.DECIMAL, "1,5", "不是有效的数值"),
    (T.DECIMAL, "1e999999999", "不是有效的数值"), (T.INT, "9" * 5000, "不是有效的整数"),
    (T.DURATION, "P99999999999D", "不是有效的时长"), (T.DURATION, "0.0000001", "不是有效的时长"),
    (T.MONEY, "12.345", "超过两位小数"), (T.MONEY, "abc", "不是有效的金额"),
    (T.BOOL, "maybe", "不是有效的是/否值"), (T.BOOL, 2, "不是有效的是/否值"),
    (T.DATE, "2026-03-05 10:00", "不是日期"), (T.DATE, "05/03/2026", "不是有效的日期"),
    (T.DATE, "2026-W10-1", "不是有效的日期"),
    (T.DATETIME, "2026-03-05 25:00", "不是有效的日期时间"), (T.DATETIME, "2026-03-05 10", "不是有效的日期时间"),
    (T.DATETIME, "2026-W10-1T10:00:00", "不是有效的日期时间"),
    (T.DURATION, "P1M", "不是确定的时长"), (T.DURATION, "PT", "不是有效的时长"), (T.DURATION, "1h", "不是有效的时长"),
    (T.CALENDAR_DURATION, "P1D", "不是按月计的时长"),
    (T.MONTH, "2026-13", "不是有效的月份"), (T.MONTH, "2026-03-05", "不是有效的月份"),
    (T.enum_of(TICKET_TYPE), "表扬", "应为 投诉、意见、故障报修 之一"),
    (T.list_of(T.INT), "[1, \"x\"]", "中第 2 项 'x' 不是有效的整数"),
    (T.list_of(T.INT), "[1, null]", "中第 2 项为空"), (T.list_of(T.INT), "[1, 2", "不是有效的列表"),
    (T.TEXT, ["a"], "不是文本"),
])
def test_rejected_spellings(t: T.Type, value: object, reason: str) -> None:
    message = bad(t, value)
    assert message.startswith("字段 v 的值 ") and reason in message, message


# --- time zones and exact decimals ---------------------------------------------------------


@pytest.mark.parametrize("text, local", [
    ("2026-03-05T02:00:00Z", datetime(2026, 3, 5, 10, 0)),
    ("2026-03-05 02:00:00+00:00", datetime(2026, 3, 5, 10, 0)),
    ("2026-03-05T10:00+08:00", datetime(2026, 3, 5, 10, 0)),
    ("2026-03-05T11:30:00+0930", datetime(2026, 3, 5, 10, 0)),
    ("2026-03-04T21:00:00-05:00", datetime(2026, 3, 5, 10, 0)),
])
def test_aware_datetimes_become_shanghai_local(text: str, local: datetime) -> None:
    got = one(T.DATETIME, text)
    assert got == local and got.tzinfo is None
    assert one(T.DATETIME, datetime.fromisoformat(text.replace("Z", "+00:00"))) == local


def test_parquet_timestamps_with_and_without_zone(tmp_path: Path) -> None:
    path = tmp_path / "ticket.parquet"
    utc = pa.array([datetime(2026, 3, 5, 2, 0)], pa.timestamp("us", tz="UTC"))
    naive_ns = pa.array([1_772_676_000_000_000_123], pa.timestamp("ns"))  # 2026-03-05 02:00:00.000000123
    pq.write_table(pa.table({"ticket_no": ["T1"], "crew_size": pa.array([2], pa.int32()),
                             "accepted_at": utc, "due_date": naive_ns}), path)
    rows = rows_of(path)
    assert rows[0].record is None  # due_date has a time
    assert "due_date" in rows[0].rejection.reason
    pq.write_table(pa.table({"ticket_no": ["T1"], "crew_size": [2], "accepted_at": utc}), path)
    assert rows_of(path)[0].record["accepted_at"] == datetime(2026, 3, 5, 10, 0)
    kind = RecordKind("t", (Field("at", T.DATETIME),))
    pq.write_table(pa.table({"at": naive_ns}), path)
    assert rows_of(path, kind)[0].record["at"] == datetime(2026, 3, 5, 2, 0)  # naive = already local


def test_decimals_stay_exact(tmp_path: Path) -> None:
    kind = RecordKind("b", (Field("kwh", T.DECIMAL), Field("amount", T.MONEY)))
    path = tmp_path / "b.jsonl"
    path.write_text('{"kwh": 0.1, "amount": 0.1}\n{"kwh": 0.2, "amount": 0.2}\n', encoding="utf-8")
    rows = rows_of(path, kind)
    assert sum(r.record["kwh"] for r in rows) == Decimal("0.3")  # float: 0.30000000000000004
    assert sum(r.record["amount"] for r in rows) == Decimal("0.30")
    path.write_text('{"kwh": 1234567890.123456789012, "amount": 90071992547409.93}\n', encoding="utf-8")
    [row] = rows_of(path, kind)  # more digits than a float holds
    assert row.record == {"kwh": Decimal("1234567890.123456789012"), "amount": Decimal("90071992547409.93")}
    pq.write_table(pa.table({"kwh": [0.1, 0.2], "amount": [0.1, 0.2]}), tmp_path / "b.parquet")
    assert [r.record["kwh"] for r in rows_of(tmp_path / "b.parquet", kind)] == [Decimal("0.1"), Decimal("0.2")]
    write_records(tmp_path / "c.jsonl", kind, [{"kwh": Decimal("0.1") + Decimal("0.2"), "amount": "0.30"}])
    assert (tmp_path / "c.jsonl").read_text(encoding="utf-8") == '{"kwh":0.3,"amount":0.30}\n'


# --- kinds from file names -----------------------------------------------------------------

KINDS = {name: RecordKind(name, ()) for name in ("ticket", "data", "data_export", "station_daily", "meter")}


@pytest.mark.parametrize("name, kind", [
    ("ticket.csv", "ticket"),
    ("ticket_2026-03.csv.gz", "ticket"),
    ("ticket-part1.jsonl", "ticket"),
    ("ticket.2026.parquet", "ticket"),
    ("TICKET_x.ndjson", "ticket"),
    ("data_export_q1.parquet", "data_export"),  # longest name wins over 'data'
    ("data-2026.csv", "data"),
    ("station_daily.jsonl.gz", "station_daily"),
    ("tickets.csv", None),
    ("ticketing_2026.csv", None),
    ("meters.csv", None),
    ("other.csv", None),
])
def test_infer_kind(name: str, kind: str | None) -> None:
    got = infer_kind(Path("/data/in") / name, KINDS)
    assert (got.name if got else None) == kind


# --- files that cannot be read -------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_gbk_file_is_a_file_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ticket.{suffix}"
    path.write_bytes("ticket_no,crew_size,accepted_at\n工单,1,2026-03-05\n".encode("gbk"))
    with pytest.raises(RecordFileError, match=r"ticket\.\w+ 不是有效的 UTF-8 文本（第 2 行）"):
        read_rows(path, SMALL)


def test_invalid_utf8_after_the_first_block_raises_while_streaming(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    good = "".join(f"T{i},1,2026-03-05 10:00\n" for i in range(5000)).encode()  # > 64 KiB
    path.write_bytes(b"ticket_no,crew_size,accepted_at\n" + good + b"T\xff,1,2026-03-05\n")
    rows = read_rows(path, SMALL)  # opens fine: the first block is valid
    seen = 0
    with pytest.raises(RecordFileError, match="不是有效的 UTF-8 文本（第 5002 行）"):
        for _ in rows:
            seen += 1
    assert seen >= 4000  # earlier rows were handed out before the bad bytes were reached


@pytest.mark.parametrize("name, content", [
    ("ticket.parquet", b"PAR1 this is not parquet"),
    ("ticket.parquet", b""),
    ("ticket.csv.gz", b"not gzip at all"),
    ("ticket.xlsx", b"PK"),
    ("ticket", b"a,b"),
])
def test_unreadable_files(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RecordFileError, match=str(path).replace(".", r"\.")):
        read_rows(path, SMALL)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordFileError, match="无法打开文件"):
        read_rows(tmp_path / "nope.csv", SMALL)
    with pytest.raises(RecordFileError, match="Parquet"):
        read_rows(tmp_path / "nope.parquet", SMALL)


def test_file_error_is_a_value_error() -> None:
    assert issubclass(RecordFileError, ValueError) and issubclass(RecordValueError, ValueError)


# --- nothing is lost -----------------------------------------------------------------------

cell = st.sampled_from(["1", "2", "1.5", "", "x", " 3 "])
moment = st.sampled_from(["2026-03-05 10:00", "2026-03-05", "", "2026-02-30 10:00", "2026-03-05T10:00Z"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cell, moment), max_size=30), fmt=st.sampled_from(["csv", "jsonl", "parquet"]))
def test_every_row_is_typed_or_rejected(tmp_path: Path, rows: list[tuple[str, str]], fmt: str) -> None:
    path = tmp_path / f"ticket.{fmt}"
    data = [{"ticket_no": f"T{i}", "crew_size": c, "accepted_at": m} for i, (c, m) in enumerate(rows)]
    if fmt == "csv":
        path.write_text("ticket_no,crew_size,accepted_at\n" + "".join(
            f"{d['ticket_no']},{d['crew_size']},{d['accepted_at']}\n" for d in data), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(d) + "\n" for d in data), encoding="utf-8")
    else:
        names = ["ticket_no", "crew_size", "accepted_at"]
        pq.write_table(pa.table({n: pa.array([d[n] for d in data], pa.string()) for n in names}), path)
    got = rows_of(path)
    typed = [r for r in got if r.record is not None]
    rejected = [r for r in got if r.rejection is not None]
    assert len(got) == len(data) == len(typed) + len(rejected)
    assert all((r.record is None) != (r.rejection is None) for r in got)
    assert [r.record["ticket_no"] for r in typed] == [d["ticket_no"] for d, r in zip(data, got) if r.record]
    assert set(typed[0].record) == set(SMALL.field_names) if typed else True


@pytest.mark.heavy
def test_parquet_row_numbers_run_across_batches(tmp_path: Path) -> None:
    n = 65_536 + 5
    path = tmp_path / "ticket.parquet"
    crew = ["1"] * n
    crew[65_537] = "x"  # row 65,538: in the second batch
    pq.write_table(pa.table({"ticket_no": [f"T{i}" for i in range(n)], "crew_size": crew,
                             "accepted_at": ["2026-03-05 10:00:00"] * n}), path)
    rows = read_rows(path, SMALL)
    bad_rows = [(r.line, r.rejection.reason) for r in rows if r.rejection]
    assert bad_rows == [(65_538, "字段 crew_size 的值 'x' 不是有效的整数（应为整数，如 42）")]


def test_gzip_round_trip_is_really_gzip(tmp_path: Path) -> None:
    path = tmp_path / "ticket.jsonl.gz"
    write_records(path, SMALL, [{"ticket_no": "T1", "crew_size": 1, "accepted_at": "2026-03-05"}])
    assert json.loads(gzip.decompress(path.read_bytes()))["ticket_no"] == "T1"


def test_unclosed_quote_swallowing_the_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv"
    rest = "".join(f"T{i},1,2026-03-05 10:00\n" for i in range(8000))  # > the csv module's cell limit
    path.write_text('ticket_no,crew_size,accepted_at\nT0,"1,2026-03-05\n' + rest, encoding="utf-8")
    with pytest.raises(RecordFileError, match="第 2 行附近不是有效的 CSV.*未闭合的引号"):
        rows_of(path)


def test_truncated_gzip_raises_after_the_rows_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "ticket.csv.gz"
    text = "ticket_no,crew_size,accepted_at\n" + "".join(f"T{i},{i},2026-03-05\n" for i in range(100_000))
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])
    seen = []
    with pytest.raises(RecordFileError, match="无法读取"):
        for row in read_rows(path, SMALL):
            seen.append(row)
    assert seen and all(r.record for r in seen) and [r.line for r in seen[:2]] == [2, 3]
