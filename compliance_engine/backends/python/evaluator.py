"""The Python backend: compile the plan's generated module once (cached by content hash) and
evaluate records: one at a time (embedding) or a batch with windows and groups.

It yields `Outcome` tuples; the API turns the ones wanted into `Finding` models, so a batch
of millions of passed outcomes costs no model construction.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from ...calendar import WorkdayCalendar
from ...plan import KindPlan, Plan, RulePlan
from .codegen import generate, window_aggregates
from .runtime import EXPORTED
from .windows import WindowRuntime, where_uses_this


@dataclass(frozen=True)
class Outcome:
    """A rule's three-valued result for a record (or a group: `group` holds its key)."""

    plan: RulePlan
    record: dict
    value: bool | None
    aggregates: tuple | None
    group: dict | None = None
    missing_key: tuple[str, ...] = ()


@dataclass
class _KindRuntime:
    plan: KindPlan
    evaluate: callable
    evidence: list
    windows: dict[int, list[WindowRuntime]]  # record-rule slot → its windows
    groups: list[tuple[RulePlan, callable, callable, list[WindowRuntime]]]


_CACHE: dict[tuple[str, str], dict] = {}
_CACHE_LOCK = threading.Lock()


class PythonBackend:
    """Compiled rules of a plan; immutable after construction, so safe to share across threads."""

    def __init__(self, plan: Plan, calendar: WorkdayCalendar):
        self.plan = plan
        self.calendar = calendar
        self.namespace = _compile(plan, calendar)
        self.source = self.namespace["__source__"]
        self._global_facts = self.namespace["global_facts"]
        self.kinds = {kp.kind: self._kind_runtime(k, kp) for k, kp in enumerate(plan.kinds)}

    def _kind_runtime(self, k: int, kp: KindPlan) -> _KindRuntime:
        ns = self.namespace
        windows = {rp.slot: [self._window(f"kind_{k}_r{rp.slot}_w{w.index}", w) for w in rp.rule.windows]
                   for rp in kp.record_rules if rp.rule.windows}
        evidence = [ns[f"kind_{k}_evidence_{rp.slot}"] for rp in kp.record_rules]
        groups = [(rp, ns[f"kind_{k}_group_{rp.slot}"], ns[f"kind_{k}_group_{rp.slot}_evidence"],
                   [self._window(f"kind_{k}_g{rp.slot}_w{w.index}", w) for w in rp.rule.windows])
                  for rp in kp.group_rules]
        return _KindRuntime(kp, ns[f"kind_{k}"], evidence, windows, groups)

    def _window(self, prefix: str, window) -> WindowRuntime:
        ns = self.namespace
        aggs = window_aggregates(window)
        return WindowRuntime(
            window, ns.get(f"{prefix}_where"), where_uses_this(window), ns.get(f"{prefix}_low"), ns.get(f"{prefix}_high"),
            [a.func for a in aggs], [ns.get(f"{prefix}_arg{i}") for i in range(len(aggs))],
            [ns[f"{prefix}_value{j}"] for j in range(len(window.aggregates))])

    def global_facts(self, as_of) -> tuple:
        return self._global_facts(as_of)

    def global_facts_by_name(self, G: tuple) -> dict[str, object]:
        return dict(zip(self.namespace["__global_facts__"], G))

    # ---- evaluation ----------------------------------------------------------------------------
    def evaluate(self, records: dict[str, list[dict]], as_of, G: tuple | None = None, *,
                 include_passed: bool = True, counts: Counter | None = None,
                 kinds: tuple[str, ...] | None = None) -> Iterator[Outcome]:
        """Every rule on every record of `records` (kind → rows), or of `kinds` only; windows
        see all of `records`.

        Passed outcomes are yielded only with `include_passed`; `counts` (if given) receives
        (rule id, True/False/None) → number for every outcome, yielded or not.
        """
        G = self.global_facts(as_of) if G is None else G
        indexes: dict[int, dict] = {}
        for kind_name, rows in records.items():
            runtime = self.kinds.get(kind_name) if kinds is None or kind_name in kinds else None
            if runtime is None:
                continue
            yield from self._records(runtime, rows, records, indexes, as_of, G, include_passed, counts)
            for group in runtime.groups:
                for outcome in self._groups(group, rows, as_of, G):
                    if counts is not None:
                        counts[(outcome.plan.rule.id, outcome.value)] += 1
                    if include_passed or outcome.value is not False:
                        yield outcome

    def evaluate_one(self, kind_name: str, record: dict, as_of, G: tuple,
                     context: dict[str, list[dict]] | None = None, include_passed: bool = True) -> list[Outcome]:
        runtime = self.kinds[kind_name]
        records = context or {kind_name: [record]}
        return list(self._records(runtime, [record], records, {}, as_of, G, include_passed))

    def _records(self, runtime: _KindRuntime, rows, records, indexes, as_of, G,
                 include_passed: bool = True, counts: Counter | None = None) -> Iterator[Outcome]:
        plans, fn = runtime.plan.record_rules, runtime.evaluate
        windows = runtime.windows
        fired_n, undetermined_n, seen = [0] * len(plans), [0] * len(plans), 0
        for r in rows:
            A = self._aggregates(windows, r, records, indexes, as_of, G) if windows else None
            fired, undetermined = fn(r, as_of, A, G)
            seen += 1
            for i in fired:
                fired_n[i] += 1
            for i in undetermined:
                undetermined_n[i] += 1
            if include_passed:
                values = [False] * len(plans)
                for i in fired:
                    values[i] = True
                for i in undetermined:
                    values[i] = None
                for rp, value in zip(plans, values):
                    yield Outcome(rp, r, value, A.get(rp.slot) if A else None)
            elif undetermined:  # in rule order, as with include_passed
                for i in sorted((*fired, *undetermined)):
                    yield Outcome(plans[i], r, None if i in undetermined else True,
                                  A.get(plans[i].slot) if A else None)
            else:
                for i in fired:
                    yield Outcome(plans[i], r, True, A.get(plans[i].slot) if A else None)
        if counts is not None:
            for rp, f, u in zip(plans, fired_n, undetermined_n):
                rule = rp.rule.id
                counts[(rule, True)] += f
                counts[(rule, None)] += u
                counts[(rule, False)] += seen - f - u

    def _aggregates(self, windows, r, records, indexes, as_of, G) -> dict[int, tuple]:
        out = {}
        for slot, wins in windows.items():
            values: tuple = ()
            for w in wins:
                key = id(w)
                if key not in indexes:
                    indexes[key] = w.build_index(records.get(w.window.kind.name, []), as_of, G)
                values += w.compute(indexes[key], r, as_of, G)
            out[slot] = values
        return out

    def _groups(self, group, rows, as_of, G) -> Iterator[Outcome]:
        rp, condition, _, windows = group
        fields = rp.rule.group_by
        buckets: dict[tuple, list] = {}
        for r in rows:
            key = tuple(r[f] for f in fields)
            if None in key:
                yield Outcome(rp, r, None, None, None, tuple(f for f, v in zip(fields, key) if v is None))
            else:
                buckets.setdefault(key, []).append(r)
        for key, members in buckets.items():
            key_record = dict(zip(fields, key))
            A = {rp.slot: tuple(v for w in windows
                                for v in w.finish(w.filter_group(members, key_record, as_of, G), key_record, as_of, G))}
            yield Outcome(rp, key_record, condition(key_record, as_of, A, G), A[rp.slot], key_record)

    def evidence(self, outcome: Outcome, as_of, G) -> dict:
        """The values that decided an outcome: fields, lets, facts and aggregates it reads."""
        rp = outcome.plan
        kind = self.kinds[rp.rule.kind.name]
        A = {rp.slot: outcome.aggregates} if outcome.aggregates is not None else None
        if outcome.missing_key:
            return {f: None for f in outcome.missing_key}
        if outcome.group is not None:
            fn = next(g[2] for g in kind.groups if g[0] is rp)
        else:
            fn = kind.evidence[rp.slot]
        named = fn(outcome.record, as_of, A, G)
        return {n: named[n] if n in named else outcome.record.get(n) for n in rp.evidence}

    def missing(self, outcome: Outcome, evidence: dict) -> list[str]:
        if outcome.missing_key:
            return list(outcome.missing_key)
        rp = outcome.plan
        names = [*rp.empty_fields, *rp.empty_names]
        return [n for n in names if evidence.get(n, outcome.record.get(n)) is None]


def _compile(plan: Plan, calendar: WorkdayCalendar) -> dict:
    """Generated code compiled once per (rulebook content, calendar version)."""
    key = (plan.fingerprint, calendar.version)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None:
        generated = generate(plan)
        code = compile(generated.source, f"<rulebooks {plan.fingerprint}>", "exec")
        namespace = {"__builtins__": {"len": len, "abs": abs, "min": min, "max": max, "None": None}, **EXPORTED,
                     **{f"K{i}": value for i, value in enumerate(generated.constants)},
                     "CAL": calendar, "__source__": generated.source, "__global_facts__": generated.global_facts}
        exec(code, namespace)  # generated from the checked model only; see expressions.py
        with _CACHE_LOCK:
            _CACHE[key] = namespace
        cached = namespace
    return cached

