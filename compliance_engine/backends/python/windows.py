"""Windowed aggregates over a batch: index rows by key (and by the range field, sorted), then
answer each record's window with a dict lookup, a bisect and one pass over the rows in range.

Semantics (records.md): the record under test counts when it matches; `count(pred)` counts
rows where pred is true; sum/avg/min/max skip empties and are empty over no values; when a
key field of the record under test is empty, every aggregate of the window is empty.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import add
from typing import Callable

from ... import ir
from ...model import Window
from ...types import Kind
from .runtime import to_datetime


@dataclass
class WindowRuntime:
    window: Window
    where: Callable | None
    where_uses_this: bool
    low: Callable | None
    high: Callable | None
    functions: list[str]  # per aggregate node: count/sum/avg/min/max
    args: list[Callable | None]
    values: list[Callable]

    @property
    def range_field(self) -> str | None:
        return self.window.range.field if self.window.range else None

    def build_index(self, rows: list[dict], as_of, G) -> dict:
        """key tuple → (sorted range values, rows sorted by them) or rows."""
        keep = rows
        if self.where is not None and not self.where_uses_this:
            keep = [w for w in rows if self.where(w, None, as_of, G) is True]
        buckets: dict[tuple, list] = {}
        by = self.window.by
        for w in keep:
            key = tuple(w[k] for k in by)
            if None not in key:
                buckets.setdefault(key, []).append(w)
        field = self.range_field
        if field is None:
            return buckets
        as_dt = self.window.kind.field(field).type.kind is Kind.DATE
        index = {}
        for key, bucket in buckets.items():
            present = [w for w in bucket if w[field] is not None]
            present.sort(key=lambda w: w[field])
            index[key] = ([to_datetime(w[field]) if as_dt else w[field] for w in present], present)
        return index

    def compute(self, index: dict, r: dict, as_of, G) -> tuple:
        key = tuple(r[k] for k in self.window.by)
        if None in key:
            return (None,) * len(self.values)
        rows = self._in_range(index.get(key), r, as_of, G)
        if rows is None:
            return (None,) * len(self.values)
        if self.where is not None and self.where_uses_this:
            rows = [w for w in rows if self.where(w, r, as_of, G) is True]
        return self.finish(rows, r, as_of, G)

    def finish(self, rows: list[dict], r: dict, as_of, G) -> tuple:
        V = [_aggregate(fn, arg, rows, r, as_of, G) for fn, arg in zip(self.functions, self.args)]
        return tuple(value(V, r, as_of, G) for value in self.values)

    def _in_range(self, entry, r: dict, as_of, G) -> list | None:
        if self.range_field is None:
            return entry or []
        rng = self.window.range
        lo = self.low(r, as_of, G) if self.low else None
        hi = self.high(r, as_of, G) if self.high else None
        if (self.low and lo is None) or (self.high and hi is None):
            return None  # a bound is empty: the window cannot be placed
        if not entry:
            return []
        vals, rows = entry
        if vals and _is_datetime(vals[0]):
            lo, hi = to_datetime(lo), to_datetime(hi)
        i = 0 if lo is None else (bisect_left(vals, lo) if rng.low_closed else bisect_right(vals, lo))
        j = len(vals) if hi is None else (bisect_right(vals, hi) if rng.high_closed else bisect_left(vals, hi))
        return rows[i:j]

    def filter_group(self, rows: list[dict], key: dict, as_of, G) -> list[dict]:
        """A group rule's window: the group's own rows, narrowed by `where` and the range."""
        if self.where is not None:
            rows = [w for w in rows if self.where(w, key, as_of, G) is True]
        return rows


def _is_datetime(value) -> bool:
    from datetime import datetime

    return isinstance(value, datetime)


def _aggregate(fn: str, arg: Callable | None, rows: list[dict], r: dict, as_of, G):
    if fn == "count":
        if arg is None:
            return len(rows)
        return sum(1 for w in rows if arg(w, r, as_of, G) is True)
    values = [v for v in (arg(w, r, as_of, G) for w in rows) if v is not None]
    if not values:
        return None
    if fn == "sum":
        return reduce(add, values)
    if fn == "min":
        return min(values)
    if fn == "max":
        return max(values)
    total = reduce(add, values)
    return (Decimal(total) if isinstance(total, int) else total) / len(values)


def where_uses_this(window: Window) -> bool:
    return window.where is not None and any(
        isinstance(n, ir.FieldRef) and n.scope == "this" for n in ir.walk(window.where))
