"""Print a parsed module back as canonical rulebook text: AST + comments → text (`compliance fmt`).

The style is documented in docs/fmt.md. In short: two-space indentation; metadata values in
one column; a record's fields in aligned columns; a blank line around every rule and record and
before a rule's first test, other blank lines kept (at most one); a condition longer than 100
columns breaks before `and`/`or`, each continuation line starting with the operator under the
condition's first column; a test record (`given`) stays on one line; parentheses only where
the grammar needs them, plus around `and` inside `or`, around `??` inside another operator and
around arithmetic inside `??` (where readers misjudge the precedence).

Comments come from `ast.Module.comments` (attached by builder.py): "before" comments are printed
on their own lines above their anchor, "after"/"head" comments at the end of the line (a
pending line suffix, flushed when the line ends), "end" comments above the closing `}`. A list
or chain holding comments is broken so that no code follows a comment on its line.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Callable, Sequence

from .. import ast
from .builder import anchors, is_chain

WIDTH = 100  # columns (a CJK character counts two, as terminals and editors show it)
META_WIDTH = len("supervisor")  # the longest metadata key: values start in one column

_NAME = re.compile(r"[^\W\d]\w*")
_PLAIN_LINE = re.compile(r"[^\s\"'{}#][^\n#{}]*")
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}
_LEVEL = {"or": 1, "and": 2, "??": 5, "+": 6, "-": 6, "*": 7, "/": 7} | dict.fromkeys(_COMPARE, 4)
_ATOM = 9


class FormatError(Exception):
    """The printer could not place something (a bug of ours, never the officer's)."""


def format_module(module: ast.Module) -> str:
    """The canonical text of `module` (parsed with its comments by syntax/parser.py)."""
    return _Printer(module).module(module)


def width(text: str) -> int:
    """Display columns of `text`: wide (CJK) characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# ---- literals ------------------------------------------------------------------------------------
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """A string literal that reads back as `value`: double quotes, or single quotes when the
    text holds double quotes and no single ones (fewer backslashes)."""
    q = "'" if '"' in value and "'" not in value else '"'
    body = "".join(_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 32 or ord(ch) == 127 else ch)
                   for ch in value)
    return q + body.replace(q, "\\" + q) + q


def number(value: Decimal) -> str:
    return format(value, "f")


def duration(lit: ast.DurationLit) -> str:
    """`45 minutes`, `1 workday`: the full unit name, singular for exactly one."""
    unit = lit.unit[:-1] if lit.amount == 1 else lit.unit
    return f"{number(lit.amount)} {unit}"


def literal(lit: ast.Literal) -> str:
    value = lit.value
    if lit.tag == "number":
        return number(value)
    if lit.tag == "string":
        return quote(value)
    if lit.tag == "datetime":
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if lit.tag == "bool":
        return "true" if value else "false"
    if lit.tag == "empty":
        return "empty"
    return value.isoformat()  # date


def _line_value(value: str) -> str:
    """A metadata-like value unquoted when it reads back the same (runs to the end of the line)."""
    return value if _PLAIN_LINE.fullmatch(value) and value == value.strip() else quote(value)


# ---- the output ----------------------------------------------------------------------------------
class _Writer:
    """Lines under construction. Comments at the end of a line are *suffixes*: queued, and written
    when the line ends, so code can still be added to the line after a comment was attached."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line = ""
        self.suffixes: list[str] = []
        self.started = False
        self.blank = False  # a blank line is wanted before the next line
        self.opened = True  # at the top of the file or just after `{`: no blank line here

    @property
    def col(self) -> int:
        return width(self.line)

    @property
    def indent(self) -> int:
        return len(self.line) - len(self.line.lstrip(" "))

    def write(self, text: str) -> None:
        self.line += text

    def suffix(self, text: str) -> None:
        self.suffixes.append(text)

    def start(self, indent: int) -> None:
        """End the current line and begin a new one at `indent`."""
        if self.started:
            self.lines.append(self._finished())
        if self.blank and not self.opened:
            self.lines.append("")
        self.blank = self.opened = False
        self.started = True
        self.line = " " * indent

    def _finished(self) -> str:
        line = self.line.rstrip()
        if self.suffixes:
            line = (line + "  " if line else self.line) + "  ".join(self.suffixes)
            self.suffixes = []
        return line

    def text(self) -> str:
        if self.started:
            self.lines.append(self._finished())
        return "".join(line.rstrip() + "\n" for line in self.lines)


# ---- the printer ---------------------------------------------------------------------------------
class _Printer:
    def __init__(self, module: ast.Module):
        self.w = _Writer()
        self.blank_lines = module.blank_lines
        self.pending: dict[tuple[int, str], list[ast.Comment]] = {}
        for c in module.comments:
            self.pending.setdefault((id(c.anchor), c.place), []).append(c)
        self.commented = {id(c.anchor) for c in module.comments}
        self.attached = set(self.pending)  # (anchor id, place) pairs, before any is printed
        self._inner: dict[int, bool] = {}
        self._breaks: dict[int, bool] = {}
        self._flat: dict[int, str] = {}

    # ---- comments ----------------------------------------------------------------------------
    def take(self, node, place: str) -> list[ast.Comment]:
        return self.pending.pop((id(node), place), [])

    def has(self, node, place: str) -> bool:
        return (id(node), place) in self.pending

    def inner(self, node) -> bool:
        """Whether a comment is attached to an anchor inside `node`."""
        if not self.commented:
            return False
        key = id(node)
        if key not in self._inner:
            self._inner[key] = any(id(a) in self.commented or self.inner(a) for a in anchors(node))
        return self._inner[key]

    def must_break(self, e) -> bool:
        """Whether `e` cannot go on one line: a comment inside it is followed by more of `e`
        (then that comment ends a line, and the text read back again breaks there too), or
        one stands above a part that is not the first. Comments at the very end of `e` do not
        count: on one line they end the line anyway."""
        if not self.commented:
            return False
        key = id(e)
        if key not in self._breaks:
            self._breaks[key] = self._must_break(e)
        return self._breaks[key]

    def _must_break(self, e) -> bool:
        if isinstance(e, ast.Match):  # its `}` follows the last arm: any comment inside breaks it
            return self.inner(e) or (id(e), "end") in self.attached
        parts = _parts(e)
        for i, part in enumerate(parts):
            above = (id(part), "before") in self.attached
            if (i and above) or (i < len(parts) - 1 and self.holds(part)):
                return True
        return bool(parts) and self.must_break(parts[-1])

    def holds(self, node) -> bool:
        return id(node) in self.commented or self.inner(node)

    def flat_out(self, e) -> None:
        """`e` on one line; the comments inside it go to the end of the line, in order."""
        self.w.write(self.flat(e))
        if self.commented:
            self._flush_inside(e)

    def _flush_inside(self, node) -> None:
        for a in anchors(node):
            self.inline_begin(a)
            self._flush_inside(a)
            self.finish(a)

    def blank_above(self, line: int | None) -> bool:
        return line is not None and line - 1 in self.blank_lines

    def comment_lines(self, comments: Sequence[ast.Comment], indent: int, keep_blanks: bool) -> None:
        for c in comments:
            if keep_blanks and self.blank_above(c.span.line):
                self.w.blank = True
            self.w.start(indent)
            self.w.write(c.text)

    def begin(self, node, indent: int, *, blank: bool = False, keep_blanks: bool = True) -> None:
        """Start `node` on a line of its own: its comments above it, blank lines as decided."""
        self.w.blank = self.w.blank or blank
        self.comment_lines(self.take(node, "before"), indent, keep_blanks)
        if keep_blanks and self.blank_above(_first_line(node)):
            self.w.blank = True
        self.w.start(indent)
        self.inline_begin(node)

    def inline_begin(self, node) -> None:
        """Start `node` where the line already is: comments meant above it go to the line's end."""
        for c in (*self.take(node, "before"), *self.take(node, "head")):
            self.w.suffix(c.text)

    def finish(self, node) -> None:
        for c in (*self.take(node, "end"), *self.take(node, "after")):
            self.w.suffix(c.text)

    def dangling(self, node, indent: int) -> None:
        """Comments above the closing `}` of `node` (or at the end of the file)."""
        self.comment_lines(self.take(node, "end"), indent, keep_blanks=True)
        self.w.blank = False

    # ---- blocks and lists --------------------------------------------------------------------
    def block(self, node, indent: int, head: str, items: Sequence, visit: Callable,
              blank_before: Callable | None = None) -> None:
        """`head {`, the items one per line, `}`."""
        self.w.write(head + " {")
        self.w.opened = True
        for i, item in enumerate(items):
            self.begin(item, indent + 2, blank=bool(blank_before and blank_before(i, item)))
            visit(item, indent + 2)
            self.finish(item)
        self.dangling(node, indent + 2)
        self.w.start(indent)
        self.w.write("}")

    def braced(self, owner, items: Sequence, flat: Callable, write: Callable, *, layout: str,
               reserve: int = 0) -> None:
        """`{ a, b }` on one line when it fits (always, for layout "line"), else by `layout`:
        "fill" continues under the first item (when every item fits there and no comment ends
        the line), "block" puts the items, filled, on lines of their own with `}` below. Holding
        comments, the items go one per line (packed for "block")."""
        comments = self.inner(owner) or self.has(owner, "end")
        one_line = "{ " + ", ".join(map(flat, items)) + " }" if items else "{ }"
        room = self.w.col + 2 + max((width(flat(i)) for i in items), default=0) + 2 <= WIDTH
        if not comments and (layout == "line" or self.fits(one_line, reserve)):
            self.w.write(one_line)
        elif layout == "fill" and not comments and room and not self.w.suffixes:
            self.w.write("{ ")
            self.fill(items, flat, write, reserve=reserve + 2)
            self.w.write(" }")
        else:
            self.block_items(owner, items, flat, write, pack=layout != "fill")

    def block_items(self, owner, items: Sequence, flat: Callable, write: Callable, *, pack: bool) -> None:
        indent = self.w.indent + 2
        self.w.write("{")
        self.w.opened = True
        broke = True
        for item in items:
            alone = broke or not pack or self.has(item, "before")
            if alone or not self.fits(f" {flat(item)},"):
                self.begin(item, indent, keep_blanks=False)
            else:
                self.w.write(" ")
                self.inline_begin(item)
            lines = len(self.w.lines)
            write(item, 1)
            self.w.write(",")
            self.finish(item)
            broke = len(self.w.lines) != lines or bool(self.w.suffixes)
        self.dangling(owner, indent)
        self.w.start(indent - 2)
        self.w.write("}")

    def fill(self, items: Sequence, flat: Callable, write: Callable, *, reserve: int = 0) -> None:
        """Items separated by commas, as many per line as fit; continuation lines start under the
        first item. A comment after an item ends its line; one above an item starts a line."""
        align = self.w.col
        broke = False
        for i, item in enumerate(items):
            room = reserve if i == len(items) - 1 else 1
            if i:
                self.w.write(",")
                alone = broke or self.has(item, "before")
                if alone or not self.fits(" " + flat(item), room):
                    self.comment_lines(self.take(item, "before"), align, keep_blanks=False)
                    self.w.start(align)
                else:
                    self.w.write(" ")
            lines = len(self.w.lines)
            self.inline_begin(item)
            write(item, room)
            self.finish(item)
            broke = len(self.w.lines) != lines or bool(self.w.suffixes)

    def fits(self, text: str, reserve: int = 0) -> bool:
        return self.w.col + width(text) + reserve <= WIDTH

    # ---- the module and its declarations -----------------------------------------------------
    def module(self, module: ast.Module) -> str:
        prev = None
        for item in (module.header, *module.decls):
            if item is None:
                continue
            apart = (prev is not None and isinstance(item, _BLOCKS)) or isinstance(prev, _BLOCKS)
            self.begin(item, 0, blank=apart)
            self.visit(item, 0)
            self.finish(item)
            prev = item
        self.w.blank = self.w.blank or isinstance(prev, _BLOCKS)
        self.dangling(None, 0)
        if any(self.pending.values()):
            raise FormatError("a comment could not be placed")
        return self.w.text()

    def visit(self, node, indent: int) -> None:
        getattr(self, f"visit_{type(node).__name__}")(node, indent)

    def visit_RulebookHeader(self, h: ast.RulebookHeader, indent: int) -> None:
        text = f"{'module' if h.is_module else 'rulebook'} {h.name}"
        text += f" {quote(h.title)}" if h.title else ""
        text += f" version {quote(h.version)}" if h.version else ""
        text += f" effective {h.effective.isoformat()}" if h.effective else ""
        self.w.write(text)

    def visit_Import(self, d: ast.Import, indent: int) -> None:
        self.w.write(f"import {quote(d.path)}")

    def member(self, m: ast.Member) -> str:
        return m.name if _NAME.fullmatch(m.name) else quote(m.name)  # keywords read back as members

    def visit_EnumDecl(self, d: ast.EnumDecl, indent: int) -> None:
        self.w.write(f"enum {d.name} ")
        self.braced(d, d.members, self.member, lambda m, room: self.w.write(self.member(m)), layout="fill")

    def type_ref(self, t) -> str:
        if isinstance(t, ast.NamedType):
            return t.name
        if isinstance(t, ast.ListType):
            return f"list of {self.type_ref(t.item)}"
        return f"enum({', '.join(self.member(m) for m in t.members)})"

    def visit_RecordDecl(self, d: ast.RecordDecl, indent: int) -> None:
        types = {id(f): self.type_ref(f.type) + ("?" if f.optional else "") + (" key" if f.key else "")
                 for f in d.fields}
        name_col = max((width(f.name) + 2 for f in d.fields), default=0)
        type_col = max((width(t) + 2 for t in types.values()), default=0)
        labelled = any(f.label for f in d.fields)

        def field(f: ast.FieldDecl, indent: int) -> None:
            text = _pad(f.name + ":", name_col) + (_pad(types[id(f)], type_col) if labelled else types[id(f)])
            self.w.write(text + (quote(f.label) if f.label else ""))

        head = f"record {d.name}" + (f" {quote(d.label)}" if d.label else "")
        self.block(d, indent, head, d.fields, field)

    def visit_FactDecl(self, d: ast.FactDecl, indent: int) -> None:
        text = f"fact {d.name}" + (f" on {d.kind}" if d.kind else "")
        text += f": {self.type_ref(d.type)}" if d.type is not None else ""
        self.w.write(text + " = ")
        self.expr(d.value)

    def visit_LinkDecl(self, d: ast.LinkDecl, indent: int) -> None:
        options = ([f"order {d.order}"] if d.order is not None else [])
        options += [f"category {_line_value(d.category)}"] if d.category else []
        text = f"link {d.id}" + (f" {quote(d.title)}" if d.title else "")
        self.w.write(text + (f" {{ {'  '.join(options)} }}" if options else ""))

    def visit_DefaultsDecl(self, d: ast.DefaultsDecl, indent: int) -> None:
        self.w.write(f"defaults {d.kind} ")
        self.record_literal(d, d.values, "block")

    def record_literal(self, owner, values: Sequence[ast.FieldValue], layout: str) -> None:
        """Values are never broken (a record is data); a value holding a comment is the exception."""
        def write(v: ast.FieldValue, room: int) -> None:
            self.w.write(f"{v.name}: ")
            if self.must_break(v.value):
                self.expr(v.value, room)
            else:
                self.flat_out(v.value)

        self.braced(owner, values, lambda v: f"{v.name}: {self.flat(v.value)}", write, layout=layout)

    # ---- rules -------------------------------------------------------------------------------
    def visit_RuleDecl(self, r: ast.RuleDecl, indent: int) -> None:
        def first_test(i: int, item) -> bool:
            return isinstance(item, ast.TestDecl) and i > 0 and not isinstance(r.items[i - 1], ast.TestDecl)

        self.block(r, indent, f"rule {r.id} {quote(r.title)}", r.items, self.visit, first_test)

    def visit_Subject(self, s: ast.Subject, indent: int) -> None:
        self.w.write(f"on {s.kind}" + (f" group by {_names(s.group_by)}" if s.group_by else ""))

    def visit_Meta(self, m: ast.Meta, indent: int) -> None:
        self.w.write(f"{m.key.ljust(META_WIDTH)} {quote(m.value) if m.quoted else m.value}")

    def visit_DependsOn(self, d: ast.DependsOn, indent: int) -> None:
        self.w.write("depends on " + ", ".join(r.id for r in d.rules))

    def visit_Let(self, let: ast.Let, indent: int) -> None:
        self.w.write(f"let {let.name} = ")
        self.expr(let.value)

    def visit_When(self, w: ast.When, indent: int) -> None:
        self.w.write("when ")
        self.expr(w.condition)

    def visit_EmptyMeans(self, e: ast.EmptyMeans, indent: int) -> None:
        self.w.write(f"empty {_names(e.names)} means undetermined")

    def visit_Window(self, win: ast.Window, indent: int) -> None:
        head = "window" + (f" over {win.over.name}" if win.over else "") + (f" by {_names(win.by)}" if win.by else "")
        clauses = [c for c in (self._where(win), self._within(win), self._compute(win)) if c is not None]
        self.w.write(head)
        if not (win.over or win.by):
            flat = " ".join(text for _, text, _ in clauses)
            if not self.must_break(win) and self.fits(" " + flat):
                self.w.write(" " + flat)
                self._flush_inside(win)
                return
            anchor, _, write = clauses.pop(0)
            self.w.write(" ")
            self.inline_begin(anchor)
            write()
            self.finish(anchor)
        for anchor, _, write in clauses:
            self.begin(anchor, indent + 2, keep_blanks=False)
            write()
            self.finish(anchor)

    def _where(self, win: ast.Window):
        if win.where is None:
            return None

        def write() -> None:
            self.w.write("where ")
            self.expr(win.where)

        return win.where, f"where {self.flat(win.where)}", write

    def _within(self, win: ast.Window):
        if win.within is None:
            return None
        text = f"within {self.range(win.within)}"
        return win.within, text, lambda: self.w.write(text)

    def _compute(self, win: ast.Window):
        def write() -> None:
            self.w.write("compute ")
            self.fill(win.aggregates, self.aggregate_flat, self.aggregate)

        flat = "compute " + ", ".join(map(self.aggregate_flat, win.aggregates))
        return win.aggregates[0], flat, write

    def aggregate_flat(self, a: ast.Let) -> str:
        return f"{a.name} = {self.flat(a.value)}"

    def aggregate(self, a: ast.Let, room: int) -> None:
        self.w.write(f"{a.name} = ")
        self.expr(a.value, room)

    def range(self, r) -> str:
        if isinstance(r, ast.Bound):
            return f"{r.field.name} {r.op} {self.flat(r.value)}"
        low, high = "[" if r.low_closed else "(", "]" if r.high_closed else ")"
        return f"{r.field.name} in {low}{self.flat(r.low)}, {self.flat(r.high)}{high}"

    def visit_TestDecl(self, t: ast.TestDecl, indent: int) -> None:
        self.block(t, indent, f"test {quote(t.name)}", t.items, self.visit)

    def visit_TestAsOf(self, a: ast.TestAsOf, indent: int) -> None:
        self.w.write("as_of ")
        self.expr(a.value)

    def visit_Given(self, g: ast.Given, indent: int) -> None:
        self.w.write(f"given {g.kind} ")
        self.record_literal(g, g.values, "line")

    def visit_Expect(self, e: ast.Expect, indent: int) -> None:
        self.w.write(f"expect {e.outcome}" + (f" missing {_names(e.missing)}" if e.missing else ""))

    # ---- expressions -------------------------------------------------------------------------
    def expr(self, e, reserve: int = 0) -> None:
        """Write `e` from the current column: on one line when it fits and holds no comment,
        else broken by the rule for its kind (`break_<Class>`)."""
        text = self.flat(e)
        breaker = getattr(self, f"break_{type(e).__name__}", None)
        if breaker is None or (not self.must_break(e) and self.fits(text, reserve)):
            self.flat_out(e)
        else:
            breaker(e, reserve)

    def sub(self, parent, child, side: str, reserve: int = 0) -> None:
        if _parens(parent, child, side):
            self.w.write("(")
            self.expr(child, reserve + 1)
            self.w.write(")")
        else:
            self.expr(child, reserve)

    def flat(self, e) -> str:
        key = id(e)
        if key not in self._flat:
            self._flat[key] = getattr(self, f"flat_{type(e).__name__}")(e)
        return self._flat[key]

    def flat_sub(self, parent, child, side: str) -> str:
        text = self.flat(child)
        return f"({text})" if _parens(parent, child, side) else text

    def flat_Literal(self, e: ast.Literal) -> str:
        return literal(e)

    def flat_DurationLit(self, e: ast.DurationLit) -> str:
        return duration(e)

    def flat_Name(self, e: ast.Name) -> str:
        return e.name

    def flat_Attr(self, e: ast.Attr) -> str:
        return f"{self.flat_sub(e, e.obj, 'obj')}.{e.name}"

    def flat_Call(self, e: ast.Call) -> str:
        return f"{e.func}(*)" if e.star else f"{e.func}({', '.join(map(self.flat, e.args))})"

    def flat_Unary(self, e: ast.Unary) -> str:
        return ("not " if e.op == "not" else "-") + self.flat_sub(e, e.operand, "operand")

    def flat_Binary(self, e: ast.Binary) -> str:
        return "".join((f" {op} " if op else "") + self.flat_sub(parent, o, side)
                       for op, o, parent, side in _sequence(e))

    def flat_IsEmpty(self, e: ast.IsEmpty) -> str:
        return self.flat_sub(e, e.operand, "operand") + (" is not empty" if e.negated else " is empty")

    def flat_InList(self, e: ast.InList) -> str:
        op = "not in" if e.negated else "in"
        return f"{self.flat_sub(e, e.operand, 'operand')} {op} ({', '.join(map(self.flat, e.items))})"

    def flat_ListLit(self, e: ast.ListLit) -> str:
        return f"[{', '.join(map(self.flat, e.items))}]"

    def flat_Match(self, e: ast.Match) -> str:
        return f"match {self.flat(e.subject)} {{ {', '.join(map(self.flat_arm, e.arms))} }}"

    def flat_arm(self, arm: ast.MatchArm) -> str:
        patterns = " | ".join(map(self.flat, arm.patterns)) or "else"
        return f"{patterns} => {self.flat(arm.value)}"

    def break_Binary(self, e: ast.Binary, reserve: int) -> None:
        """`a and b and c`, `a + b - c`: as many operands per line as fit; a continuation line
        starts with the operator, under the first operand. A comparison breaks inside its sides."""
        if e.op in _COMPARE:
            self.sub(e, e.left, "left")
            self.w.write(f" {e.op} ")
            self.sub(e, e.right, "right", reserve)
            return
        align, steps, broke = self.w.col, _sequence(e), False
        for i, (op, o, parent, side) in enumerate(steps):
            room = reserve if i == len(steps) - 1 else 0
            if i:
                alone = broke or self.has(o, "before")
                if alone or not self.fits(f" {op} {self.flat_sub(parent, o, side)}", room):
                    self.comment_lines(self.take(o, "before"), align, keep_blanks=False)
                    self.w.start(align)
                    self.w.write(f"{op} ")
                else:
                    self.w.write(f" {op} ")
            lines = len(self.w.lines)
            self.inline_begin(o)
            self.sub(parent, o, side, room)
            self.finish(o)
            broke = len(self.w.lines) != lines or bool(self.w.suffixes)

    def break_Unary(self, e: ast.Unary, reserve: int) -> None:
        self.w.write("not " if e.op == "not" else "-")
        self.sub(e, e.operand, "operand", reserve)

    def break_IsEmpty(self, e: ast.IsEmpty, reserve: int) -> None:
        tail = " is not empty" if e.negated else " is empty"
        self.sub(e, e.operand, "operand", reserve + len(tail))
        self.w.write(tail)

    def break_InList(self, e: ast.InList, reserve: int) -> None:
        self.sub(e, e.operand, "operand")
        self.w.write(" not in (" if e.negated else " in (")
        self.fill(e.items, self.flat, self.expr, reserve=reserve + 1)
        self.w.write(")")

    def break_Call(self, e: ast.Call, reserve: int) -> None:
        if e.star:
            self.w.write(self.flat(e))
            return
        self.w.write(f"{e.func}(")
        self.fill(e.args, self.flat, self.expr, reserve=reserve + 1)
        self.w.write(")")

    def break_ListLit(self, e: ast.ListLit, reserve: int) -> None:
        self.w.write("[")
        self.fill(e.items, self.flat, self.expr, reserve=reserve + 1)
        self.w.write("]")

    def break_Match(self, e: ast.Match, reserve: int) -> None:
        self.w.write("match ")
        self.expr(e.subject)
        self.w.write(" ")
        self.braced(e, e.arms, self.flat_arm, self.arm, layout="fill", reserve=reserve)

    def arm(self, arm: ast.MatchArm, room: int) -> None:
        if not arm.patterns:
            self.w.write("else")
        for i, p in enumerate(arm.patterns):
            self.w.write(" | " if i else "")
            self.expr(p)
        self.w.write(" => ")
        self.expr(arm.value, room)


_BLOCKS = (ast.RuleDecl, ast.RecordDecl)


def _sequence(e: ast.Binary) -> list[tuple[str, object, ast.Binary, str]]:
    """A left-nested run of one precedence level (`a + b - c`, `a and b and c`) as steps
    (operator, operand, the Binary it is an operand of, its side); the first operator is ''."""
    left = e.left
    if e.op not in _COMPARE and isinstance(left, ast.Binary) and _LEVEL[left.op] == _LEVEL[e.op]:
        head = _sequence(left)
    else:
        head = [("", left, e, "left")]
    return [*head, (e.op, e.right, e, "right")]


def _parts(e) -> list:
    """The sub-expressions of `e` in the order they are printed."""
    if isinstance(e, ast.Binary):
        return [o for _, o, _, _ in _sequence(e)]
    if isinstance(e, ast.MatchArm):
        return [*e.patterns, e.value]
    if isinstance(e, ast.Window):
        return [p for p in (e.where, e.within) if p is not None] + list(e.aggregates)
    if isinstance(e, ast.Let):
        return [e.value]
    return list(ast.children(e))


def _first_line(node) -> int | None:
    span = getattr(node, "span", None)
    return span.line if span is not None else None


def _pad(text: str, columns: int) -> str:
    return text + " " * max(1, columns - width(text))


def _names(names: Sequence[ast.Name]) -> str:
    return ", ".join(n.name for n in names)


# ---- precedence ----------------------------------------------------------------------------------
def _level(e) -> int:
    """How tightly `e` binds (grammar: or 1, and 2, not 3, comparisons 4, ?? 5, + - 6, * / 7,
    unary minus 8, atoms 9)."""
    if isinstance(e, ast.Binary):
        return _LEVEL[e.op]
    if isinstance(e, ast.Unary):
        return 3 if e.op == "not" else 8
    if isinstance(e, (ast.IsEmpty, ast.InList)):
        return 4
    return _ATOM


def _parens(parent, child, side: str) -> bool:
    """Whether `child` needs parentheses under `parent`: where the grammar needs them to read
    the same tree back, and where readers misjudge precedence (documented in docs/fmt.md)."""
    level = _level(child)
    if level == 5 and isinstance(parent, (ast.Binary, ast.Unary, ast.IsEmpty, ast.InList, ast.Attr)):
        return not (getattr(parent, "op", "") == "??" and side == "left")  # but `a ?? b ?? c`
    if isinstance(parent, ast.Binary):
        if parent.op in ("and", "or"):
            return is_chain(child)  # `a or (b and c)`: always spelled out
        if parent.op == "??":
            return level < 8  # `a ?? (b + c)`
        if parent.op in _COMPARE:
            return level <= 4  # comparisons do not chain
        mine = _LEVEL[parent.op]
        return level < mine or (side == "right" and level == mine)
    if isinstance(parent, ast.Unary):
        return level < 3 if parent.op == "not" else level <= 8
    if isinstance(parent, (ast.IsEmpty, ast.InList)):
        return level < 5
    if isinstance(parent, ast.Attr):
        return level < _ATOM
    return False
