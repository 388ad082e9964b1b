"""Units, families, the injection plan, and the oracle run over them.

A *unit* is a small set of related records that every record-keyed window of the catalog stays
inside: a customer (its archive, meter, bills, tickets, applications, 欠费停电), a person (their
accounts and exports), a 台区 (its days), or one standalone record. A *family* makes units of
one sort: a clean baseline unit, then, when the plan says so, injected violations. The oracle
evaluates each injected unit whole; windows keyed by org_no (few keys, wide time ranges) and
groups keyed by org_no are evaluated once at the end from what was kept of the records they read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .oracle import Catalog, GroupAccumulator, Rule

UNIT_KEYS = {"cons_no", "account_id", "owner_name", "tg_no"}  # fields a unit keeps together


class BaselineError(RuntimeError):
    """A baseline record that stays dirty after many tries: the family's model needs fixing."""


class InjectionError(RuntimeError):
    """An injection whose target rule did not come out as intended."""


class Unit:
    __slots__ = ("records", "family", "index", "injected", "extra")

    def __init__(self, family: str, index: int):
        self.records: dict[str, list[dict]] = {}
        self.family, self.index = family, index
        self.injected: list[tuple] = []  # (rule, mode)
        self.extra: list = []  # the family's own notes on the unit (e.g. its customers)

    def add(self, kind: str, record: dict) -> dict:
        self.records.setdefault(kind, []).append(record)
        return record

    def remove(self, kind: str, record: dict) -> None:
        rows = self.records.get(kind, [])
        for i, r in enumerate(rows):
            if r is record:
                del rows[i]
                return

    def of(self, kind: str) -> list[dict]:
        return self.records.get(kind, [])

    def one(self, kind: str) -> dict | None:
        rows = self.records.get(kind)
        return rows[0] if rows else None

    def rows_of(self, kind: str, key: tuple, values: tuple) -> list[dict]:
        rows = self.records.get(kind, ())
        if len(key) == 1:
            k, v = key[0], values[0]
            return [r for r in rows if r[k] == v]
        return [r for r in rows if all(r[k] == v for k, v in zip(key, values))]

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        for kind, rows in self.records.items():
            for r in rows:
                yield kind, r


@dataclass
class Injection:
    rule: str
    mode: str  # "fired" or "undetermined"
    kind: str  # the kind of the record (or group) the rule speaks of
    fn: Callable  # (family, unit) -> target record (dict) or group key (str); may add records
    needs: dict = field(default_factory=dict)  # constraints on the baseline unit (e.g. cls=大工业)


class SortedRows(list):
    """A key's rows sorted by the range field (for the end-of-run windows)."""


class Oracle:
    """Splits the catalog's rules by where their records live, and evaluates them."""

    def __init__(self, catalog: Catalog, kinds, as_of, wanted_kinds: set[str] | None = None,
                 rule_filter: set[str] | None = None):
        self.catalog, self.kinds, self.as_of = catalog, kinds, as_of
        self.keys = {name: k.key_fields for name, k in kinds.items()}
        self.local: dict[str, list[Rule]] = {}
        self.local_groups: dict[str, list[Rule]] = {}
        self.deferred: dict[str, list[Rule]] = {}
        self.global_groups: dict[str, list[GroupAccumulator]] = {}
        self.kept: dict[str, list[dict]] = {}  # deferred rule id → kept (projected) records
        self.kept_fields: dict[str, tuple] = {}
        for rule in catalog.rules.values():
            if rule_filter is not None and rule.id not in rule_filter:
                continue
            if wanted_kinds is not None and rule.kind not in wanted_kinds:
                continue
            if rule.is_group:
                if UNIT_KEYS & set(rule.group_by):
                    self.local_groups.setdefault(rule.kind, []).append(rule)
                else:
                    self.global_groups.setdefault(rule.kind, []).append(GroupAccumulator(catalog, rule, as_of))
            elif rule.window is not None and not (UNIT_KEYS & set(rule.window.key)):
                assert rule.window.kind == rule.kind, rule.id  # kept records are the rule's own kind
                self.deferred.setdefault(rule.kind, []).append(rule)
                self.kept[rule.id] = []
                keys = self.keys[rule.kind]
                self.kept_fields[rule.id] = tuple(dict.fromkeys((*keys, *rule.fields, *rule.window.fields)))
            else:
                self.local.setdefault(rule.kind, []).append(rule)
        self.rules_by_id = {r.id: r for r in catalog.rules.values()}

    def key(self, kind: str, r: dict) -> str:
        return "|".join("" if (v := r[k]) is None else str(v) for k in self.keys[kind])

    # ---- one record, local rules (the baseline check) ----------------------------------------
    def dirty(self, unit: Unit, kind: str, r: dict) -> list[tuple[str, object]]:
        """The local record rules that fire or are undetermined for r (empty: r is clean)."""
        out = []
        ev = self.catalog.evaluate
        for rule in self.local.get(kind, ()):
            v = ev(rule, r, unit.rows_of, self.as_of)
            if v is not False:
                out.append((rule.id, v))
        return out

    def dirty_groups(self, unit: Unit, kind: str) -> list[tuple[str, object]]:
        return [(rid, key, v) for rid, key, v in self._local_groups(unit, kind)]

    def _local_groups(self, unit: Unit, kind: str):
        for rule in self.local_groups.get(kind, ()):
            groups: dict[tuple, list] = {}
            for r in unit.of(kind):
                key = tuple(r[f] for f in rule.group_by)
                if None in key:
                    yield rule.id, self.key(kind, r), None
                else:
                    groups.setdefault(key, []).append(r)
            for key, rows in groups.items():
                v = self.catalog.evaluate_group(rule, key, rows, self.as_of)
                if v is not False:
                    yield rule.id, "|".join(str(x) for x in key), v

    # ---- a whole unit: ground-truth lines ----------------------------------------------------
    def evaluate_unit(self, unit: Unit) -> list[tuple[str, str, str, str]]:
        lines = []
        ev = self.catalog.evaluate
        for kind, rows in unit.records.items():
            rules = self.local.get(kind, ())
            for r in rows:
                key = None
                for rule in rules:
                    v = ev(rule, r, unit.rows_of, self.as_of)
                    if v is not False:
                        key = key or self.key(kind, r)
                        lines.append((rule.id, kind, key, "fired" if v else "undetermined"))
            for rid, key, v in self._local_groups(unit, kind):
                lines.append((rid, kind, key, "fired" if v else "undetermined"))
        return lines

    # ---- windows and groups over the whole run -----------------------------------------------
    def observe(self, unit: Unit) -> list[tuple[str, str, str, str]]:
        """Keep what the end-of-run rules need from the unit; a record outside every group
        (an empty group-key field) is reported at once."""
        lines = []
        for kind, rows in unit.records.items():
            for rule in self.deferred.get(kind, ()):
                kept, names, w = self.kept[rule.id], self.kept_fields[rule.id], rule.window
                for r in rows:
                    if (w.where is None or w.where(r, r, self.as_of) is True
                            or self.catalog.undecided_without_window(rule, r, self.as_of)):
                        kept.append({n: r[n] for n in names})
            for acc in self.global_groups.get(kind, ()):
                for r in rows:
                    if acc.add(r) is None:
                        lines.append((acc.rule.id, kind, self.key(kind, r), "undetermined"))
        return lines

    def finish(self) -> Iterator[tuple[str, str, str, str]]:
        from bisect import bisect_left, bisect_right

        for kind, rules in self.deferred.items():
            for rule in rules:
                rows = self.kept.pop(rule.id)
                w = rule.window
                index: dict[tuple, list] = {}
                for r in rows:
                    kv = tuple(r[k] for k in w.key)
                    if None not in kv:
                        index.setdefault(kv, []).append(r)
                f = w.range_field
                for kv, lst in index.items():
                    if f is not None:
                        lst[:] = [r for r in lst if r[f] is not None]
                        lst.sort(key=lambda r: r[f])
                span = {}
                if f is not None:
                    span = {kv: [r[f] for r in lst] for kv, lst in index.items()}
                if (f is not None and all(a.func == "count" and a.arg is None for a in w.aggregates)
                        and self.kinds[w.kind].field(f).type.kind.value in ("datetime", "date")):
                    # count(*) over a where without `this`: a window's count is a bisect away
                    yield from self._counted(rule, rows, index, f)
                    continue

                def rows_of(_kind, _key, values, _index=index, _span=span, _r=None):
                    return _index.get(values, [])

                for r in rows:
                    if not self.catalog.undecided_without_window(rule, r, self.as_of):
                        continue
                    kv = tuple(r[k] for k in w.key)
                    if f is not None and None not in kv and kv in index and w.lo and w.hi:
                        # narrow the key's rows to the range before the exact check
                        lo, hi = w.lo(r, self.as_of), w.hi(r, self.as_of)
                        vals = span[kv]
                        if lo is not None and hi is not None and type(lo) is type(vals[0]) is type(hi):
                            part = index[kv][bisect_left(vals, lo):bisect_right(vals, hi)]
                            v = self.catalog.evaluate(rule, r, lambda *_a, _p=part: _p, self.as_of)
                        else:
                            v = self.catalog.evaluate(rule, r, rows_of, self.as_of)
                    else:
                        v = self.catalog.evaluate(rule, r, rows_of, self.as_of)
                    if v is not False:
                        yield rule.id, kind, self.key(kind, r), "fired" if v else "undetermined"
        yield from self._groups_done()

    def _counted(self, rule: Rule, rows: list, index: dict, f: str):
        from bisect import bisect_left, bisect_right

        from .oracle import _norm2

        w, a = rule.window, self.as_of
        where = w.where
        counted = {}
        for kv, lst in index.items():
            keep = lst if where is None else [r for r in lst if where(r, r, a) is True]
            counted[kv] = [r[f] for r in keep]
        names = [x.name for x in w.aggregates]
        for r in rows:
            if not self.catalog.undecided_without_window(rule, r, a):
                continue
            kv = tuple(r[k] for k in w.key)
            if None in kv:
                aggs = dict.fromkeys(names)
                aggs.update(rule.empty_key_defaults)
            else:
                lo = w.lo(r, a) if w.lo else None
                hi = w.hi(r, a) if w.hi else None
                if (w.lo and lo is None) or (w.hi and hi is None):
                    aggs = dict.fromkeys(names)
                else:
                    vals = counted.get(kv, [])
                    if vals:
                        lo = _norm2(lo, vals[0])[0] if lo is not None else None
                        hi = _norm2(hi, vals[0])[0] if hi is not None else None
                    i = 0 if lo is None else (bisect_left(vals, lo) if w.lo_closed else bisect_right(vals, lo))
                    j = len(vals) if hi is None else (bisect_right(vals, hi) if w.hi_closed else bisect_left(vals, hi))
                    aggs = dict.fromkeys(names, max(0, j - i))
            v = rule.condition(r, aggs.__getitem__, a)
            if v is not False:
                yield rule.id, rule.kind, self.key(rule.kind, r), "fired" if v else "undetermined"

    def _groups_done(self):
        for kind, accs in self.global_groups.items():
            for acc in accs:
                for key, v in acc.outcomes():
                    if v is not False:
                        yield acc.rule.id, kind, "|".join(str(x) for x in key), "fired" if v else "undetermined"


class Family:
    """Makes units of one sort. Subclasses define `kinds`, `build(i, needs)` and `injections`."""

    name = ""
    kinds: tuple[str, ...] = ()
    max_tries = 60

    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = random.Random(f"{ctx.seed}:{self.name}")
        self.oracle: Oracle = ctx.oracle
        self.injections: dict[tuple[str, str], Injection] = {}
        self.retries = 0
        self.injecting = False  # while True, helper records need not be clean

    def inject(self, rule: str, kind: str, mode: str = "fired", **needs):
        def deco(fn):
            self.injections[(rule, mode)] = Injection(rule, mode, kind, fn, needs)
            return fn
        return deco

    def n_units(self) -> int:
        return self.ctx.per_kind

    # a record made by `make()` is kept only when no local rule fires or is undetermined for it
    def clean(self, unit: Unit, kind: str, make: Callable[[], dict], add: bool = True, strict: bool | None = None) -> dict:
        strict = not self.injecting if strict is None else strict
        for attempt in range(self.max_tries if strict else 12):
            r = make()
            if add:
                unit.add(kind, r)
            if not self.oracle.dirty(unit, kind, r) and not self.oracle.dirty_groups(unit, kind):
                return r
            if not strict and attempt == 11:
                return r  # an injection's helper record: its side effects are in the ground truth
            if add:
                unit.remove(kind, r)
            self.retries += 1
        raise BaselineError(f"{self.name}: no clean {kind} after {self.max_tries} tries: {r} "
                            f"{self.oracle.dirty(unit, kind, r)}")
