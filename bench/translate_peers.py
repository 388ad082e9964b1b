"""Translate the peers' 200 work-order rules (rules.json, a small JSON AST) into ONE rulebook in
our language, bench/data/workorders.rules, then prove it means the same thing: per-rule fire
counts over the workload must equal the peers' plain-Python reference with decimal arithmetic
(`run_python.compile_rules(rules, decimal=True)`). Exits 1 when any count differs.

    .venv/bin/python bench/translate_peers.py [--records 100000] [--no-verify] [--out PATH]

Meaning of each JSON node, and how it is written here (the reference is run_python.py):

  ["cmp", f, op, c]      f op c           money/decimal/int literal; enum member for enum fields
  ["in", f, [v...]]      f in (v, ...)
  ["isnull", f]          f is empty
  ["notnull", f]         f is not empty
  ["flag", f]            f                (a bool field)
  ["and"|"or", [...]]    (a and b ...)    the JSON tree's grouping is kept with parentheses
  ["not", n]             not (n)
  ["dur_gt", end, start, ef, pairs, coalesce]
        coalesce: (end ?? as_of) - start > match ef { v1 => lim1, ..., else => lim_last }
        else:     end is not empty and end - start > match ef { ... }
        (the reference's limit is an if-chain whose LAST pair is the else branch: same here)
  ["ratio_gt", a, b, p]  b is not empty and b > 0 and abs(a - b) / b > p
  ["growth_gt", a, b, p] b is not empty and b > 0 and (a - b) / b > p
                         (`b is not empty` only for an optional b: the checker rightly warns
                         (W0203) that a required field's `is empty` test is constant)

Datetimes are our `datetime` (the reference uses epoch seconds: differences are the same whole
seconds); amounts are `money`, kWh `decimal` (exact: 425.37 vs 283.58 is exactly 50 %, not more).
Where an optional field is read outside `is empty` / `??`, the rule says
`empty <field> means undetermined`, so `compliance check` is silent; every such use is guarded
as in the reference, so no outcome is actually undetermined (the verification counts them).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload as W  # noqa: E402

R = W.peer_rules

TEMPLATE_TITLES = {
    "threshold": "金额/电量超阈值", "enum": "工单类型×区域×电价组合", "arrival": "故障抢修到达超时",
    "reply": "工单回复超时", "close": "工单办结超时", "ratio": "电量异常波动",
    "satisfaction": "不满意且重复诉求", "combo": "组合风险",
}
ENUMS = {  # field → (enum name, members in the generator's order)
    "cust_type": ("客户类型", R.CUST),
    "ticket_type": ("工单类型", R.TICKET),
    "area": ("区域", R.AREA),
    "channel": ("受理渠道", R.CHANNEL),
    "tariff_code": ("电价代码", R.TARIFF),
    "unit_code": ("供电单位", R.UNITS),
}
TYPES = {
    "order_id": "text key", "accept_time": "datetime", "arrive_time": "datetime", "reply_time": "datetime",
    "close_time": "datetime", "kwh_this": "decimal", "kwh_last": "decimal", "kwh_avg3": "decimal",
    "amount": "money", "satisfaction": "int", "repeat_count": "int",
    "is_urgent": "bool", "is_vip": "bool", "is_sensitive": "bool",
}
COMMENTS = {
    "order_id": "工单编号", "unit_code": "供电单位编码", "cust_type": "客户类型", "ticket_type": "工单类型",
    "area": "区域", "channel": "受理渠道", "accept_time": "受理时间", "arrive_time": "到达现场时间",
    "reply_time": "回复时间", "close_time": "办结时间", "kwh_this": "本期电量", "kwh_last": "上期电量",
    "kwh_avg3": "近三月平均电量", "tariff_code": "电价代码", "amount": "电费金额", "satisfaction": "满意度(1-5)",
    "repeat_count": "重复诉求次数", "is_urgent": "紧急", "is_vip": "重要客户", "is_sensitive": "敏感",
}


def member(value: str) -> str:
    """An enum member as written in an expression: bare when it is a name, else quoted."""
    return value if value.isidentifier() else '"%s"' % value


def number(value) -> str:
    text = repr(value)
    assert "e" not in text.lower(), text  # the grammar's NUMBER has no exponent
    return text


def duration(seconds: int) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"


def literal(field: str, value) -> str:
    if field in ENUMS:
        return member(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    return '"%s"' % value


class Translator:
    def __init__(self):
        self.nullable: set[str] = set()  # optional fields this rule reads where empty propagates

    def use(self, field: str) -> str:
        if field in R.NULLABLE:
            self.nullable.add(field)
        return field

    def expr(self, n, top: bool = False) -> str:
        k = n[0]
        if k == "cmp":
            _, f, op, c = n
            return f"{self.use(f)} {op} {literal(f, c)}"
        if k == "in":
            _, f, values = n
            return f"{self.use(f)} in ({', '.join(literal(f, v) for v in values)})"
        if k in ("isnull", "notnull"):
            return f"{n[1]} is {'not ' if k == 'notnull' else ''}empty"
        if k == "flag":
            return self.use(n[1])
        if k in ("and", "or"):
            text = f" {k} ".join(self.expr(x) for x in n[1])
            return text if top or len(n[1]) == 1 else f"({text})"
        if k == "not":
            return f"not ({self.expr(n[1], top=True)})"
        if k == "dur_gt":
            _, end, start, ef, pairs, coalesce = n
            arms = [f"{member(v)} => {duration(s)}" for v, s in pairs[:-1]] + [f"else => {duration(pairs[-1][1])}"]
            limit = f"match {self.use(ef)} {{ {', '.join(arms)} }}"
            if coalesce:
                return f"({end} ?? as_of) - {self.use(start)} > {limit}"
            return f"({end} is not empty and {self.use(end)} - {self.use(start)} > {limit})"
        if k in ("ratio_gt", "growth_gt"):
            _, a, b, p = n
            change = f"abs({self.use(a)} - {b})" if k == "ratio_gt" else f"({self.use(a)} - {b})"
            guard = f"{b} is not empty and " if b in R.NULLABLE else ""  # kwh_avg3 is required: no guard
            return f"({guard}{self.use(b)} > 0 and {change} / {b} > {number(p)})"
        raise ValueError(f"unknown node {k!r}")


def translate(rules: list[dict]) -> str:
    out = [
        "# Generated by bench/translate_peers.py from the peers' rules.json (200 rules); do not edit.",
        'rulebook 工单基准 "95598工单 200 条规则（基准测试）" version "bench-1" effective 2026-01-01',
        "",
    ]
    for field, (name, members) in ENUMS.items():
        out.append(f"enum {name} {{ {', '.join(member(m) for m in members)} }}")
    out += ["", f'record {W.KIND} "工单" {{']
    for field in R.FIELDS:
        typ = ENUMS[field][0] if field in ENUMS else TYPES[field]
        if field in R.NULLABLE:
            typ = typ.replace(" key", "") + "?"
        out.append(f'  {field}: {typ} "{COMMENTS[field]}"')
    out += ["}", ""]
    for rule in rules:
        t = Translator()
        when = t.expr(rule["expr"], top=True)
        out += [
            f'rule {rule["id"]} "{TEMPLATE_TITLES[rule["template"]]}" {{',
            f"  on {W.KIND}",
            "  level 三级",
            "  owner 营销部(客户服务中心) / 客户服务班 / 工单专责",
            f"  when {when}",
        ]
        if t.nullable:
            out.append(f"  empty {', '.join(sorted(t.nullable))} means undetermined")
        out += ["}", ""]
    return "\n".join(out)


def write(path: Path = W.RULES_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(translate(W.load_rules()), encoding="utf-8")
    return path


def verify(path: Path, n: int) -> dict:
    """Our fire counts vs the decimal reference on the first n records of the workload."""
    from compliance_engine.api import load_rulebooks

    rules = W.load_rules()
    rb = load_rulebooks([path])
    table = W.load_table(n)
    ref = W.reference_counts(rules, W.reference_rows(table), decimal=True)
    ref_float = W.reference_counts(rules, W.reference_rows(table), decimal=False)
    records = [rb.coerce(W.KIND, r) for r in W.native_rows(table)]
    index = {r["id"]: i for i, r in enumerate(rules)}
    slots = [index[rp.rule.id] for rp in rb.plan.kind(W.KIND).record_rules]  # outcome order → rules.json order
    fn, G = rb.backend.kinds[W.KIND].evaluate, rb.backend.global_facts(W.AS_OF)
    fired, undetermined = [0] * len(rules), [0] * len(rules)
    for record in records:  # the compiled kind function: positions of the fired / undetermined rules
        fired_at, undetermined_at = fn(record, W.AS_OF, None, G)
        for i in fired_at:
            fired[slots[i]] += 1
        for i in undetermined_at:  # counted as "not fired", as the reference's False
            undetermined[slots[i]] += 1
    differ = [(rules[i]["id"], ours, theirs) for i, (ours, theirs) in enumerate(zip(fired, ref)) if ours != theirs]
    float_differ = [(rules[i]["id"], ours, theirs) for i, (ours, theirs) in enumerate(zip(fired, ref_float)) if ours != theirs]
    return {
        "records": n, "rules": len(rules), "warnings": [f"{d.code} {d.message}" for d in rb.warnings],
        "fires": sum(fired), "undetermined": sum(undetermined),
        "undetermined_rules": sum(1 for u in undetermined if u), "identical_to_decimal_reference": not differ,
        "differ_from_decimal_reference": differ, "differ_from_float_reference": float_differ,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=W.RULES_FILE)
    ap.add_argument("--no-verify", action="store_true")
    a = ap.parse_args(argv)
    path = write(a.out)
    text = path.read_text(encoding="utf-8")
    print(f"wrote {path} ({text.count(chr(10)) + 1} lines, {len(text.encode())} bytes, "
          f"{Counter(line.split()[0] for line in text.splitlines() if line.startswith('rule '))['rule']} rules)")
    if a.no_verify:
        return 0
    t0 = time.perf_counter()
    v = verify(path, a.records)
    print(f"checked: {len(v['warnings'])} warnings" + "".join(f"\n  {w}" for w in v["warnings"]))
    print(f"{v['records']} records: {v['fires']} fires; undetermined outcomes (counted as not fired): "
          f"{v['undetermined']} in {v['undetermined_rules']} rules")
    print(f"vs float reference: {len(v['differ_from_float_reference'])} rules differ "
          f"{[f'{i} {a} vs {b}' for i, a, b in v['differ_from_float_reference']]} (expected: binary-float ties)")
    if v["identical_to_decimal_reference"]:
        print(f"fire counts identical to the decimal reference for all {v['rules']} rules "
              f"({time.perf_counter() - t0:.1f} s)")
        return 0
    print(f"MISMATCH vs decimal reference in {len(v['differ_from_decimal_reference'])} rules:", file=sys.stderr)
    for rid, ours, theirs in v["differ_from_decimal_reference"]:
        print(f"  {rid}: ours {ours}, reference {theirs}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
