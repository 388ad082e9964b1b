"""The ground-truth oracle: the catalog's conditions, read and evaluated here, independently of
the engine (it never imports the engine's parser, checker or backends; it takes only the record
schemas, for field types, and the working-day calendar).

Each catalog item (rulebooks/catalog/*.yaml) becomes a `Rule`: its `condition`, its `window`
(kind, key, range, where, aggregates) and its `group_by`, compiled from the catalog's notation
(the header of each catalog file) into Python functions with three-valued logic as records.md
§ Semantics defines it: None is "empty/unknown", `false and unknown` is false, `true or unknown`
is true, `x / 0` is empty, `a ?? b` is a unless a is empty, count(pred) counts rows where pred
is true, sum/min/max skip empties and are empty over no values, months are calendar months,
`a - b > N months` means `a > b + N months`, a date where a datetime is expected is 00:00.

Where an item's `empty` sentence gives an empty field a meaning that its condition text does not
already spell out, the meaning is applied here too (FIELD_DEFAULTS, EMPTY_KEY_DEFAULTS below);
where the sentence only says "→ undetermined", three-valued logic decides (records.md is the
authority: an item is undetermined only when its truth depends on the empty value).
"""

from __future__ import annotations

import calendar as _pycal
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

# ---- empty meanings the catalog states in words (the condition text alone would say unknown) --
# item → {field: value an empty field stands for}
FIELD_DEFAULTS: dict[str, dict[str, object]] = {
    # "adjust_approved empty on an adjusted bill = no approval → rule fires"
    "BP-044": {"adjust_approved": False},
    # "satisfaction empty = not yet revisited → rule passes"
    "TS-010": {"satisfaction": ""},
    "TS-060": {"satisfaction": ""},
}
# item → {aggregate: value when the record's window key is empty}
EMPTY_KEY_DEFAULTS: dict[str, dict[str, object]] = {
    # "cons_no empty or no customer record → n_important = 0"
    "TS-006": {"n_important": 0},
    "BP-069": {"n_important": 0},
}

# ---- values ---------------------------------------------------------------------------------


class Mon(int):
    """A calendar month as an ordinal (year * 12 + month - 1)."""

    __slots__ = ()

    @staticmethod
    def of(y: int, m: int) -> "Mon":
        return Mon(y * 12 + m - 1)

    @property
    def year(self) -> int:
        return self // 12

    @property
    def month(self) -> int:
        return self % 12 + 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    __repr__ = __str__


_MON_CACHE: dict[str, Mon] = {}


def to_mon(v) -> Mon | None:
    if v is None or isinstance(v, Mon):
        return v
    m = _MON_CACHE.get(v)
    if m is None:
        m = _MON_CACHE[v] = Mon.of(int(v[:4]), int(v[5:7]))
    return m


@dataclass(frozen=True)
class CalDur:
    """N calendar months (a year is 12)."""

    months: int


def add_months(t, n: int):
    if isinstance(t, Mon):
        return Mon(t + n)
    y, m = divmod(t.month - 1 + n, 12)
    y += t.year
    m += 1
    d = min(t.day, _pycal.monthrange(y, m)[1])
    return t.replace(year=y, month=m, day=d)


def _norm2(a, b):
    """Make a date comparable with a datetime (a date is 00:00)."""
    ta, tb = type(a), type(b)
    if ta is tb:
        return a, b
    if ta is date and tb is datetime:
        return datetime(a.year, a.month, a.day), b
    if ta is datetime and tb is date:
        return a, datetime(b.year, b.month, b.day)
    return a, b


def _eq(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a == b


def _ne(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a != b


def _lt(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a < b


def _le(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a <= b


def _gt(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a > b


def _ge(a, b):
    if a is None or b is None:
        return None
    a, b = _norm2(a, b)
    return a >= b


_CMP = {"==": _eq, "!=": _ne, "<": _lt, "<=": _le, ">": _gt, ">=": _ge}


def _add(a, b):
    if a is None or b is None:
        return None
    if isinstance(b, CalDur):
        return add_months(a, b.months)
    if isinstance(a, CalDur):
        return add_months(b, a.months)
    return a + b


def _sub(a, b):
    if a is None or b is None:
        return None
    if isinstance(b, CalDur):
        return add_months(a, -b.months)
    ta, tb = type(a), type(b)
    if ta is not tb and {ta, tb} == {date, datetime}:
        a, b = _norm2(a, b)
    return a - b


def _mul(a, b):
    if a is None or b is None:
        return None
    return a * b


def _div(a, b):
    if a is None or b is None or b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        a = Decimal(a)
    return a / b


def _neg(a):
    return None if a is None else -a


def _cmpdiff(op: str, a, b, x):
    """`a - b OP x`, where x may be calendar months: then `a OP b + x`."""
    if isinstance(x, CalDur):
        return _CMP[op](a, _add(b, x))
    return _CMP[op](_sub(a, b), x)


def _in(a, items):
    if a is None:
        return None
    return a in items


def _coal(a, b):
    return b if a is None else a


def _match(v, arms):
    if v is None:
        return None
    for pat, val in arms:
        if v == pat:
            return val
    return None


def _datetime(v):
    if v is None:
        return None
    if type(v) is date:
        return datetime(v.year, v.month, v.day)
    return v


class Functions:
    def __init__(self, cal):
        self.cal = cal

    def workdays_between(self, a, b):
        if a is None or b is None:
            return None
        return self.cal.workdays_between(a, b)

    def is_workday(self, d):
        return None if d is None else self.cal.is_workday(d)

    @staticmethod
    def date(t):
        if t is None:
            return None
        return t.date() if isinstance(t, datetime) else t

    @staticmethod
    def hour(t):
        return None if t is None else (t.hour if isinstance(t, datetime) else 0)

    @staticmethod
    def month(t):
        return None if t is None else Mon.of(t.year, t.month)

    @staticmethod
    def period_start(p):
        return None if p is None else date(p.year, p.month, 1)

    @staticmethod
    def period_end(p):
        return None if p is None else date(p.year, p.month, _pycal.monthrange(p.year, p.month)[1])

    @staticmethod
    def count(lst):
        return None if lst is None else len(lst)

    @staticmethod
    def contains(lst, x):
        return None if lst is None or x is None else x in lst

    @staticmethod
    def contains_any(lst, xs):
        return None if lst is None else any(x in lst for x in xs)

    @staticmethod
    def abs(x):
        return None if x is None else abs(x)

    @staticmethod
    def earliest(*vs):
        vs = [v for v in vs if v is not None]
        return min(vs) if vs else None

    @staticmethod
    def latest(*vs):
        vs = [v for v in vs if v is not None]
        return max(vs) if vs else None


# ---- the catalog notation: tokens and parser ---------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'[^']*'|"[^"]*")
  | (?P<num>\d+(?:\.\d+)?)(?![\w])
  | (?P<word>\w+)
  | (?P<op>\?\?|==|!=|<=|>=|=>|[<>+\-*/(),{}\[\].])
)""", re.X)

_UNITS = {"minute": ("m", 1), "minutes": ("m", 1), "min": ("m", 1), "hour": ("h", 1), "hours": ("h", 1),
          "day": ("d", 1), "days": ("d", 1), "month": ("M", 1), "months": ("M", 1),
          "year": ("M", 12), "years": ("M", 12)}


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SyntaxError(f"cannot read {text[pos:]!r} in {text!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else (None, None)

    def at(self, *values) -> bool:
        return self.peek()[1] in values and self.peek()[0] in ("op", "word")

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise SyntaxError(f"expected {value!r} at token {self.i} in {self.text!r}, got {tok}")
        self.i += 1
        return tok

    def parse(self):
        node = self.expr()
        if self.i != len(self.toks):
            raise SyntaxError(f"trailing {self.toks[self.i:]} in {self.text!r}")
        return node

    def expr(self):
        return self.or_()

    def or_(self):
        node = self.and_()
        while self.at("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.at("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.at("not") and not (self.peek(1)[1] == "in"):
            self.take()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self):
        left = self.coal()
        if self.at("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            return ("cmp", op, left, self.coal())
        if self.at("in"):
            self.take()
            if self.at("["):
                self.take()
                lo = self.expr()
                self.take(",")
                hi = self.expr()
                self.take("]")
                return ("inrange", left, lo, hi)
            return ("in", left, self.tuple_(), False)
        if self.at("not") and self.peek(1)[1] == "in":
            self.take()
            self.take()
            return ("in", left, self.tuple_(), True)
        if self.at("is"):
            self.take()
            neg = False
            if self.at("not"):
                self.take()
                neg = True
            self.take("empty")
            return ("isempty", left, neg)
        return left

    def tuple_(self):
        self.take("(")
        items = [self.expr()]
        while self.at(","):
            self.take()
            items.append(self.expr())
        self.take(")")
        return items

    def coal(self):
        node = self.add()
        while self.at("??"):
            self.take()
            node = ("coal", node, self.add())
        return node

    def add(self):
        node = self.mul()
        while self.at("+", "-"):
            op = self.take()[1]
            node = ("arith", op, node, self.mul())
        return node

    def mul(self):
        node = self.unary()
        while self.at("*", "/") and not (self.at("*") and self.peek(1)[1] == ")"):
            op = self.take()[1]
            node = ("arith", op, node, self.unary())
        return node

    def unary(self):
        if self.at("-"):
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.peek()
        if kind == "num":
            self.take()
            nk, nv = self.peek()
            if nk == "word" and nv in _UNITS:
                self.take()
                unit, factor = _UNITS[nv]
                n = int(Decimal(value))
                if unit == "M":
                    return ("cal", n * factor)
                return ("dur", timedelta(minutes=n) if unit == "m" else timedelta(hours=n) if unit == "h"
                        else timedelta(days=n))
            num = Decimal(value) if "." in value else int(value)
            return ("num", num, value)
        if kind == "str":
            self.take()
            return ("str", value[1:-1])
        if kind == "op" and value == "(":
            self.take()
            first = self.expr()
            if self.at(","):
                items = [first]
                while self.at(","):
                    self.take()
                    items.append(self.expr())
                self.take(")")
                return ("tuple", items)
            self.take(")")
            return first
        if kind == "op" and value == "*":
            self.take()
            return ("star",)
        if kind == "word":
            self.take()
            if value == "match":
                subject = self.coal()
                self.take("{")
                arms = []
                while True:
                    pat = self.primary()
                    self.take("=>")
                    arms.append((pat, self.coal()))
                    if self.at(","):
                        self.take()
                        continue
                    break
                self.take("}")
                return ("match", subject, arms)
            if value in ("true", "false"):
                return ("bool", value == "true")
            if value == "this":
                self.take(".")
                return ("this", self.take()[1])
            if self.at("("):
                self.take()
                args = []
                if not self.at(")"):
                    args.append(self.expr())
                    while self.at(","):
                        self.take()
                        args.append(self.expr())
                self.take(")")
                return ("call", value, args)
            return ("name", value)
        raise SyntaxError(f"unexpected {value!r} in {self.text!r}")


def parse(text: str):
    return Parser(text).parse()


# ---- compiling to Python ------------------------------------------------------------------------

_FUNCS = {"workdays_between", "is_workday", "date", "hour", "month", "period_start", "period_end",
          "count", "contains", "contains_any", "abs", "earliest", "latest"}


class Scope:
    """Which names are fields, of which record, and of what type."""

    def __init__(self, r_kind, t_kind=None, aggs=(), only_fields=None, defaults=None):
        self.r_kind = r_kind  # the record `r` (record under test, or scanned row)
        self.t_kind = t_kind  # `this` (the record under test) in a window
        self.aggs = set(aggs)
        self.only_fields = only_fields  # group rules: only the group_by fields
        self.defaults = defaults or {}
        self.used_fields: set[str] = set()
        self.used_this: set[str] = set()


class Compiler:
    def __init__(self, kinds):
        self.kinds = kinds  # name -> RecordKind (compliance_engine.schema)
        self.n = 0

    def fresh(self) -> str:
        self.n += 1
        return f"_v{self.n}"

    def ftype(self, kind, name):
        f = kind.field(name)
        return None if f is None else f.type.kind.value

    def is_enum_side(self, node, scope) -> bool:
        if node[0] == "name" and scope.r_kind is not None and self.ftype(scope.r_kind, node[1]) == "enum":
            return True
        if node[0] == "this" and scope.t_kind is not None and self.ftype(scope.t_kind, node[1]) == "enum":
            return True
        return False

    def literal(self, node, scope, enum=False):
        """A literal item (enum member, text, number, bool) as Python source."""
        if node[0] == "num":
            return repr(node[2]) if enum else self.num(node)
        if node[0] == "str":
            return repr(node[1])
        if node[0] == "bool":
            return repr(node[1])
        if node[0] == "name" and not self.is_name_ref(node[1], scope):
            return repr(node[1])
        return None

    @staticmethod
    def num(node) -> str:
        v = node[1]
        return f"Decimal({node[2]!r})" if isinstance(v, Decimal) else repr(v)

    def is_name_ref(self, name, scope) -> bool:
        if name == "as_of" or name in scope.aggs:
            return True
        if scope.only_fields is not None:
            return name in scope.only_fields
        return scope.r_kind is not None and scope.r_kind.field(name) is not None

    def compile(self, node, scope) -> str:
        k = node[0]
        if k == "num":
            return self.num(node)
        if k == "str":
            return repr(node[1])
        if k == "bool":
            return repr(node[1])
        if k == "dur":
            return f"timedelta(seconds={int(node[1].total_seconds())})"
        if k == "cal":
            return f"CalDur({node[1]})"
        if k == "name":
            name = node[1]
            if name == "as_of":
                return "as_of"
            if name in scope.aggs:
                return f"A({name!r})"
            if self.is_name_ref(name, scope):
                scope.used_fields.add(name)
                src = f"r[{name!r}]"
                if scope.r_kind is not None and self.ftype(scope.r_kind, name) == "month":
                    src = f"to_mon({src})"
                if name in scope.defaults:
                    src = f"_coal({src}, {scope.defaults[name]!r})"
                return src
            return repr(name)  # an enum member or a text written bare
        if k == "this":
            scope.used_this.add(node[1])
            src = f"t[{node[1]!r}]"
            if scope.t_kind is not None and self.ftype(scope.t_kind, node[1]) == "month":
                src = f"to_mon({src})"
            return src
        if k == "and":
            a, b = self.fresh(), self.fresh()
            return (f"(False if ({a} := {self.compile(node[1], scope)}) is False else "
                    f"(False if ({b} := {self.compile(node[2], scope)}) is False else "
                    f"(True if {a} is True and {b} is True else None)))")
        if k == "or":
            a, b = self.fresh(), self.fresh()
            return (f"(True if ({a} := {self.compile(node[1], scope)}) is True else "
                    f"(True if ({b} := {self.compile(node[2], scope)}) is True else "
                    f"(False if {a} is False and {b} is False else None)))")
        if k == "not":
            a = self.fresh()
            return f"(None if ({a} := {self.compile(node[1], scope)}) is None else not {a})"
        if k == "cmp":
            op, left, right = node[1], node[2], node[3]
            enum = self.is_enum_side(left, scope) or self.is_enum_side(right, scope)
            ls = self.literal(left, scope, enum) if left[0] in ("num", "str") and enum else None
            rs = self.literal(right, scope, enum) if right[0] in ("num", "str") and enum else None
            if left[0] == "arith" and left[1] == "-" and ls is None:
                return (f"_cmpdiff({op!r}, {self.compile(left[2], scope)}, {self.compile(left[3], scope)}, "
                        f"{rs or self.compile(right, scope)})")
            if right[0] == "arith" and right[1] == "-" and rs is None and op in ("<", "<=", ">", ">="):
                flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
                return (f"_cmpdiff({flip!r}, {self.compile(right[2], scope)}, {self.compile(right[3], scope)}, "
                        f"{ls or self.compile(left, scope)})")
            return f"{_CMP[op].__name__}({ls or self.compile(left, scope)}, {rs or self.compile(right, scope)})"
        if k == "in":
            enum = self.is_enum_side(node[1], scope)
            items = []
            for item in node[2]:
                lit = self.literal(item, scope, enum)
                if lit is None:
                    raise SyntaxError(f"non-literal in (…) item {item}")
                items.append(lit)
            src = f"_in({self.compile(node[1], scope)}, frozenset(({', '.join(items)},)))"
            if node[3]:
                a = self.fresh()
                return f"(None if ({a} := {src}) is None else not {a})"
            return src
        if k == "isempty":
            src = f"({self.compile(node[1], scope)} is None)"
            return f"(not {src})" if node[2] else src
        if k == "coal":
            return f"_coal({self.compile(node[1], scope)}, {self.compile(node[2], scope)})"
        if k == "arith":
            fn = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div"}[node[1]]
            return f"{fn}({self.compile(node[2], scope)}, {self.compile(node[3], scope)})"
        if k == "neg":
            return f"_neg({self.compile(node[1], scope)})"
        if k == "call":
            name, args = node[1], node[2]
            if name not in _FUNCS:
                raise SyntaxError(f"unknown function {name}")
            if name == "contains_any":
                lst = self.compile(args[0], scope)
                items = args[1][1] if args[1][0] == "tuple" else [args[1]]
                lits = [self.literal(i, scope) or self.compile(i, scope) for i in items]
                return f"F.contains_any({lst}, ({', '.join(lits)},))"
            if name == "contains":
                return f"F.contains({self.compile(args[0], scope)}, {self.literal(args[1], scope) or self.compile(args[1], scope)})"
            return f"F.{name}({', '.join(self.compile(a, scope) for a in args)})"
        if k == "match":
            subject = node[1]
            enum = self.is_enum_side(subject, scope)
            arms = []
            for pat, val in node[2]:
                lit = self.literal(pat, scope, enum)
                if lit is None:
                    raise SyntaxError(f"bad match pattern {pat}")
                arms.append(f"({lit}, {self.compile(val, scope)})")
            return f"_match({self.compile(subject, scope)}, ({', '.join(arms)},))"
        raise SyntaxError(f"cannot compile {node}")


# ---- rules ---------------------------------------------------------------------------------------


@dataclass
class Aggregate:
    name: str
    func: str  # count, sum, min, max, avg
    arg: Callable | None  # (row, this, as_of) -> value; None for count(*)


@dataclass
class Window:
    kind: str
    key: tuple[str, ...]
    range_field: str | None
    lo: Callable | None  # (this, as_of) -> bound
    lo_closed: bool
    hi: Callable | None
    hi_closed: bool
    where: Callable | None  # (row, this, as_of) -> bool | None
    aggregates: list[Aggregate]
    all_range: bool  # 'all (…)': no range
    fields: set[str] = field(default_factory=set)  # fields of the scanned kind it reads


@dataclass
class Rule:
    id: str
    kind: str
    condition: Callable  # (r, A, as_of) -> True | False | None
    window: Window | None
    group_by: tuple[str, ...]
    empty_key_defaults: dict
    fields: set[str]  # fields of the record under test it reads (condition + window `this` + key)
    text: str

    @property
    def is_group(self) -> bool:
        return bool(self.group_by)


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


class Catalog:
    """All items of the three catalogs, compiled."""

    def __init__(self, catalog_dir: Path, kinds, cal):
        from ruamel.yaml import YAML

        self.kinds = kinds
        self.F = Functions(cal)
        self.rules: dict[str, Rule] = {}
        self.items: dict[str, dict] = {}
        self.books: dict[str, str] = {}
        compiler = Compiler(kinds)
        for path in sorted(Path(catalog_dir).glob("*.yaml")):
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
            for item in data["items"]:
                self.items[item["id"]] = item
                self.books[item["id"]] = path.stem
                self.rules[item["id"]] = self._compile(compiler, item)
        self.by_kind: dict[str, list[Rule]] = {}
        for rule in self.rules.values():
            self.by_kind.setdefault(rule.kind, []).append(rule)

    def _namespace(self) -> dict:
        return {"Decimal": Decimal, "timedelta": timedelta, "CalDur": CalDur, "to_mon": to_mon, "F": self.F,
                "_eq": _eq, "_ne": _ne, "_lt": _lt, "_le": _le, "_gt": _gt, "_ge": _ge, "_in": _in,
                "_coal": _coal, "_add": _add, "_sub": _sub, "_mul": _mul, "_div": _div, "_neg": _neg,
                "_cmpdiff": _cmpdiff, "_match": _match}

    def _fn(self, params: str, src: str):
        ns = self._namespace()
        exec(f"def _f({params}):\n    return {src}\n", ns)  # noqa: S102 - our own generated source
        return ns["_f"]

    def _compile(self, c: Compiler, item: dict) -> Rule:
        kind = self.kinds[item["record"]]
        win_spec = item.get("window")
        group_by = tuple(item.get("group_by") or ())
        window = None
        aggs: list[str] = []
        this_fields: set[str] = set()
        if win_spec:
            wkind = self.kinds[win_spec["kind"]]
            key = tuple(k.strip() for k in str(win_spec["key"]).split(","))
            where = None
            wfields: set[str] = set(key)
            if win_spec.get("where"):
                s = Scope(wkind, kind)
                src = c.compile(parse(win_spec["where"]), s)
                where = self._fn("r, t, as_of", src)
                wfields |= s.used_fields
                this_fields |= s.used_this
            agg_objs = []
            for part in _split_top(win_spec["aggregate"]):
                name, _, rhs = part.partition("=")
                name, rhs = name.strip(), rhs.strip()
                node = parse(rhs)
                assert node[0] == "call", part
                func, args = node[1], node[2]
                if args and args[0][0] == "star":
                    agg_objs.append(Aggregate(name, func, None))
                else:
                    s = Scope(wkind, kind)
                    src = c.compile(args[0], s)
                    wfields |= s.used_fields
                    this_fields |= s.used_this
                    agg_objs.append(Aggregate(name, func, self._fn("r, t, as_of", src)))
                aggs.append(name)
            rng = str(win_spec.get("range", "all")).strip()
            range_field, lo, hi, lo_c, hi_c, all_range = None, None, None, True, True, rng.startswith("all")
            if not all_range:
                node = parse(rng)
                s = Scope(None, kind)

                def bound(n):
                    return self._fn("t, as_of", c.compile(n, s))

                if node[0] == "inrange":
                    range_field, lo, hi = node[1][1], bound(node[2]), bound(node[3])
                elif node[0] == "cmp" and node[1] in (">=", ">"):
                    range_field, lo, lo_c = node[2][1], bound(node[3]), node[1] == ">="
                elif node[0] == "cmp" and node[1] == "==":
                    range_field = node[2][1]
                    lo = hi = bound(node[3])
                elif node[0] == "and" and node[1][0] == "cmp" and node[2][0] == "cmp":
                    a, b = node[1], node[2]
                    range_field = a[2][1]
                    lo, lo_c = bound(a[3]), a[1] == ">="
                    hi, hi_c = bound(b[3]), b[1] == "<="
                else:
                    raise SyntaxError(f"range not understood: {rng}")
                this_fields |= s.used_this
                wfields.add(range_field)
            window = Window(win_spec["kind"], key, range_field, lo, lo_c, hi, hi_c, where, agg_objs, all_range, wfields)
            this_fields |= set(key)
        scope = Scope(kind, None, aggs, only_fields=set(group_by) if group_by else None,
                      defaults=FIELD_DEFAULTS.get(item["id"], {}))
        src = c.compile(parse(item["condition"]), scope)
        cond = self._fn("r, A, as_of", src)
        fields = scope.used_fields | this_fields | set(group_by)
        return Rule(item["id"], item["record"], cond, window, group_by,
                    EMPTY_KEY_DEFAULTS.get(item["id"], {}), fields, item["condition"])

    # ---- evaluation ------------------------------------------------------------------------

    def aggregates(self, rule: Rule, t: dict, rows_of: Callable, as_of) -> dict:
        """The window's named results for the record under test `t`; rows_of(kind, key, values)
        gives the scanned kind's rows with those key values."""
        w = rule.window
        values = tuple(t[k] for k in w.key)
        if None in values:
            out = {a.name: None for a in w.aggregates}
            out.update(rule.empty_key_defaults)
            return out
        rows = rows_of(w.kind, w.key, values)
        if w.range_field is not None:
            lo = w.lo(t, as_of) if w.lo else None
            hi = w.hi(t, as_of) if w.hi else None
            if (w.lo and lo is None) or (w.hi and hi is None):
                return {a.name: None for a in w.aggregates}
            f = w.range_field
            kept = []
            for row in rows:
                v = row[f]
                if v is None:
                    continue
                if isinstance(lo, Mon) or isinstance(hi, Mon):
                    v = to_mon(v)
                if lo is not None:
                    a, b = _norm2(v, lo)
                    if a < b or (a == b and not w.lo_closed):
                        continue
                if hi is not None:
                    a, b = _norm2(v, hi)
                    if a > b or (a == b and not w.hi_closed):
                        continue
                kept.append(row)
            rows = kept
        if w.where is not None:
            rows = [row for row in rows if w.where(row, t, as_of) is True]
        return self.fold(w, rows, t, as_of)

    @staticmethod
    def fold(w: Window, rows: list, t, as_of) -> dict:
        out = {}
        for a in w.aggregates:
            if a.func == "count":
                out[a.name] = len(rows) if a.arg is None else sum(1 for row in rows if a.arg(row, t, as_of) is True)
                continue
            vals = [v for v in (a.arg(row, t, as_of) for row in rows) if v is not None]
            if not vals:
                out[a.name] = None
            elif a.func == "sum":
                s = vals[0]
                for v in vals[1:]:
                    s = s + v
                out[a.name] = s
            elif a.func == "min":
                out[a.name] = min(vals)
            elif a.func == "max":
                out[a.name] = max(vals)
            elif a.func == "avg":
                s = sum(vals, Decimal(0))
                out[a.name] = s / len(vals)
            else:
                raise ValueError(a.func)
        return out

    def evaluate(self, rule: Rule, r: dict, rows_of: Callable | None, as_of):
        """A record rule's outcome for r: True (fired), False (passed), None (undetermined)."""
        if rule.window is None:
            return rule.condition(r, None, as_of)
        cache: dict = {}

        def A(name):
            if not cache:
                cache.update(self.aggregates(rule, r, rows_of, as_of))
            return cache[name]

        return rule.condition(r, A, as_of)

    def undecided_without_window(self, rule: Rule, r: dict, as_of) -> bool:
        """False when the rule is false for r whatever its window says (the aggregates unknown):
        then r need not be kept for a deferred window."""
        return rule.condition(r, lambda name: None, as_of) is not False

    def evaluate_group(self, rule: Rule, key: tuple, rows: list, as_of):
        """A group rule's outcome for the group `key` (its records: `rows`)."""
        w = rule.window
        key_record = dict(zip(rule.group_by, key))
        if w.where is not None:
            rows = [row for row in rows if w.where(row, key_record, as_of) is True]
        aggs = self.fold(w, rows, key_record, as_of)
        return rule.condition(key_record, aggs.__getitem__, as_of)


class GroupAccumulator:
    """A group rule's aggregates folded record by record (count, sum, min, max), so a group of
    any size needs constant memory."""

    def __init__(self, catalog: Catalog, rule: Rule, as_of):
        self.catalog, self.rule, self.as_of = catalog, rule, as_of
        self.groups: dict[tuple, list] = {}

    def add(self, r: dict) -> tuple | None:
        """Fold r into its group; returns None when a group-key field is empty (no group)."""
        key = tuple(r[f] for f in self.rule.group_by)
        if None in key:
            return None
        w = self.rule.window
        state = self.groups.get(key)
        if state is None:
            state = self.groups[key] = [None if a.func in ("sum", "min", "max") else 0 for a in w.aggregates]
        key_record = dict(zip(self.rule.group_by, key))
        if w.where is not None and w.where(r, key_record, self.as_of) is not True:
            return key
        for i, a in enumerate(w.aggregates):
            if a.func == "count":
                if a.arg is None or a.arg(r, key_record, self.as_of) is True:
                    state[i] += 1
                continue
            v = a.arg(r, key_record, self.as_of)
            if v is None:
                continue
            s = state[i]
            state[i] = v if s is None else (s + v if a.func == "sum" else min(s, v) if a.func == "min" else max(s, v))
        return key

    def outcomes(self):
        for key, state in self.groups.items():
            key_record = dict(zip(self.rule.group_by, key))
            aggs = {a.name: state[i] for i, a in enumerate(self.rule.window.aggregates)}
            yield key, self.rule.condition(key_record, aggs.__getitem__, self.as_of)
