"""A third hand-written baseline: what a careful programmer would write in plain Python for the
200 rules over OUR typed records (Decimal kWh and money, datetime times), i.e. exact like our
engine and on exactly the records our compiled function gets.

The peers' reference (run_python.py) works on floats and epoch-second ints; its `decimal=True`
variant converts each float with `Decimal(repr(x))` at every ratio test, which no one would
write against records that already hold Decimals. This one keeps run_python.py's structure
(one function, one `if` per rule, fields read into locals once) and differs only where the
representation does: constants are module-level Decimal / timedelta names built once, and
"not yet replied" is measured against an AS_OF datetime.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import workload as W

R = W.peer_rules
DECIMAL_FIELDS = {"kwh_this", "kwh_last", "kwh_avg3", "amount"}


class _Source:
    def __init__(self):
        self.consts: dict[str, object] = {}

    def const(self, value) -> str:
        name = "C%d" % len(self.consts)
        for n, v in self.consts.items():
            if type(v) is type(value) and v == value:
                return n
        self.consts[name] = value
        return name

    def lit(self, field: str, v) -> str:
        if field in DECIMAL_FIELDS:
            return self.const(Decimal(repr(v)))
        return repr(v)

    def limit(self, ef: str, pairs) -> str:
        s = self.const(timedelta(seconds=pairs[-1][1]))
        for v, sec in reversed(pairs[:-1]):
            s = "(%s if %s == %r else %s)" % (self.const(timedelta(seconds=sec)), ef, v, s)
        return s

    def py(self, n) -> str:
        k = n[0]
        if k == "cmp":
            return "%s %s %s" % (n[1], n[2], self.lit(n[1], n[3]))
        if k == "in":
            return "%s in %r" % (n[1], tuple(n[2]))
        if k in ("isnull", "notnull"):
            return "%s is %sNone" % (n[1], "not " if k == "notnull" else "")
        if k == "flag":
            return n[1]
        if k in ("and", "or"):
            return "(" + (" %s " % k).join(self.py(x) for x in n[1]) + ")"
        if k == "not":
            return "not (%s)" % self.py(n[1])
        if k == "dur_gt":
            end, start, ef, pairs, coalesce = n[1:]
            lim = self.limit(ef, pairs)
            if coalesce:
                return "((AS_OF if %s is None else %s) - %s > %s)" % (end, end, start, lim)
            return "(%s is not None and %s - %s > %s)" % (end, end, start, lim)
        if k in ("ratio_gt", "growth_gt"):
            a, b, p = n[1:]
            d = "abs(%s - %s)" % (a, b) if k == "ratio_gt" else "(%s - %s)" % (a, b)
            return "(%s is not None and %s > 0 and %s / %s > %s)" % (b, b, d, b, self.const(Decimal(repr(p))))
        raise ValueError(k)


def source(rules) -> tuple[str, dict]:
    s = _Source()
    lines = ["def evaluate(r):"]
    lines += ["    %s = r[%r]" % (f, f) for f in R.FIELDS]
    lines.append("    fired = []")
    for r in rules:
        lines.append("    if %s:" % s.py(r["expr"]))
        lines.append("        fired.append(%r)" % r["id"])
    lines.append("    return fired")
    return "\n".join(lines), s.consts


def compile_rules(rules):
    text, consts = source(rules)
    ns = {"AS_OF": W.AS_OF, **consts}
    exec(compile(text, "<handwritten_typed>", "exec"), ns)
    return ns["evaluate"]
