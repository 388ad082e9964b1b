"""Turn a Lark parse tree into AST nodes with spans. One method per grammar rule; no name
resolution and no types here (that is the checker's job).

Also attaches the file's comments to the nodes they annotate (`ast.Module.comments`), so the
formatter (printer.py) can put every comment back next to the same code: see `anchors`.
"""

from __future__ import annotations

import ast as pyast
import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Sequence

from lark import Token, Transformer, Tree, v_args

from .. import ast
from ..source import Span

UNITS = {
    "minutes": "minutes", "minute": "minutes", "min": "minutes",
    "hours": "hours", "hour": "hours", "h": "hours",
    "days": "days", "day": "days", "d": "days",
    "workdays": "workdays", "workday": "workdays",
    "weeks": "weeks", "week": "weeks",
    "months": "months", "month": "months",
    "years": "years", "year": "years",
    "seconds": "seconds", "second": "seconds", "s": "seconds",
}


class BuildError(Exception):
    def __init__(self, code: str, message: str, span: Span, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.span, self.hint = code, message, span, hint


def build_module(tree: Tree, path: str, comments: Sequence[Token] = (), text: str = "") -> ast.Module:
    """The module of a parse tree; `comments` (COMMENT tokens) and `text` give it its layout."""
    builder = _Builder(path)
    module = builder.transform(tree)
    blank = frozenset(n for n, line in enumerate(text.split("\n"), 1) if not line.strip())
    attached = _Attacher(builder.extents, text, path).attach(module, comments)
    return dataclasses.replace(module, comments=attached, blank_lines=blank)


def _unquote(token: Token) -> str:
    text = str(token)
    if text[:1] == "'":
        text = '"' + text[1:-1].replace('"', '\\"') + '"'
    try:
        value = pyast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, str) or "\0" in value:
        span = Span("", token.line, token.column, token.end_line, token.end_column)
        raise BuildError("E0106", f"文本 {text[:40]} 中的反斜杠转义写法不对", span,
                         "反斜杠 \\ 要写成两个 \\\\；或去掉反斜杠")
    return value


@v_args(meta=True)
class _Builder(Transformer):
    def __init__(self, path: str):
        super().__init__()
        self.path = path
        # Where nodes whose span is only their name token really start and end (for comments).
        self.extents: dict[int, tuple[int, int, int, int]] = {}

    def _whole(self, node, meta):
        self.extents[id(node)] = (meta.line, meta.column, meta.end_line, meta.end_column)
        return node

    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.path, tok.line, tok.column, tok.end_line, tok.end_column)

    # ---- module and declarations ---------------------------------------------------------
    def start(self, meta, items):
        header = items[0] if items and isinstance(items[0], ast.RulebookHeader) else None
        decls = tuple(i for i in items if i is not None and not isinstance(i, ast.RulebookHeader))
        return ast.Module(self.path, header, decls, self._span(meta))

    def rulebook_header(self, meta, items):
        name, title, *options = items
        opts = dict(options)
        return ast.RulebookHeader(str(name), _unquote(title) if title else "", opts.get("version", ""),
                                  opts.get("effective"), False, self._span(meta))

    def module_header(self, meta, items):
        name, title = items
        return ast.RulebookHeader(str(name), _unquote(title) if title else "", is_module=True, span=self._span(meta))

    def version(self, meta, items):
        return ("version", _unquote(items[0]))

    def effective(self, meta, items):
        return ("effective", self._date(items[0]))

    def import_decl(self, meta, items):
        return ast.Import(_unquote(items[0]), self._span(meta))

    def member(self, meta, items):
        tok = items[0]
        text = _unquote(tok) if tok.type == "STRING" else str(tok)
        return ast.Member(text, self._tok_span(tok))

    def enum_decl(self, meta, items):
        return ast.EnumDecl(str(items[0]), tuple(items[1:]), self._span(meta))

    def named_type(self, meta, items):
        return ast.NamedType(str(items[0]), self._span(meta))

    def inline_enum(self, meta, items):
        return ast.InlineEnum(tuple(items), self._span(meta))

    def list_type(self, meta, items):
        return ast.ListType(items[0], self._span(meta))

    def field_decl(self, meta, items):
        name, type_ref, *rest = items
        optional = any(isinstance(t, Token) and t.type == "OPTIONAL" for t in rest)
        key = any(isinstance(t, Token) and t.type == "KEY" for t in rest)
        label = next((_unquote(t) for t in rest if isinstance(t, Token) and t.type == "STRING"), "")
        return self._whole(ast.FieldDecl(str(name), type_ref, optional, key, label, self._tok_span(name)), meta)

    def record_decl(self, meta, items):
        name, label, *fields = items
        return self._whole(ast.RecordDecl(str(name), _unquote(label) if label else "", tuple(fields),
                                          self._tok_span(name)), meta)

    def fact_decl(self, meta, items):
        name, kind, type_ref, value = items
        return self._whole(ast.FactDecl(str(name), str(kind) if kind else None, type_ref, value,
                                        self._tok_span(name)), meta)

    def link_decl(self, meta, items):
        link_id, title, *options = items
        opts = dict(o for o in options if o is not None)
        return self._whole(ast.LinkDecl(str(link_id), _unquote(title) if title else "", opts.get("order"),
                                        opts.get("category", ""), self._tok_span(link_id)), meta)

    def link_order(self, meta, items):
        return ("order", int(items[0]))

    def link_category(self, meta, items):
        return ("category", items[0][0])

    def defaults_decl(self, meta, items):
        return ast.DefaultsDecl(str(items[0]), items[1], self._span(meta))

    def record_literal(self, meta, items):
        return tuple(i for i in items if i is not None)

    def field_value(self, meta, items):
        return self._whole(ast.FieldValue(str(items[0]), items[1], self._tok_span(items[0])), meta)

    # ---- rules -----------------------------------------------------------------------------
    def rule_decl(self, meta, items):
        rule_id, title, *body = items
        return self._whole(ast.RuleDecl(str(rule_id), _unquote(title), tuple(body), self._tok_span(rule_id)), meta)

    def subject(self, meta, items):
        kind, group = items
        return ast.Subject(str(kind), group or (), self._span(meta))

    def _names(self, tokens) -> tuple[ast.Name, ...]:
        return tuple(ast.Name(str(t), self._tok_span(t)) for t in tokens)

    def group_by(self, meta, items):
        return self._names(items)

    def meta(self, meta, items):
        key, (value, quoted) = items
        return ast.Meta(key, value, quoted, self._span(meta))

    def meta_key(self, meta, items):
        return str(items[0])

    def meta_value(self, meta, items):
        tok = items[0]
        if tok.type == "STRING":
            return (_unquote(tok), True)
        return (str(tok).strip(), False)

    def depends(self, meta, items):
        return ast.DependsOn(tuple(ast.RuleRef(str(t), self._tok_span(t)) for t in items), self._span(meta))

    def window(self, meta, items):
        over, by, where, within, *aggregates = items
        return ast.Window(over, by or (), where, within, tuple(aggregates), self._span(meta))

    def window_over(self, meta, items):
        return ast.Name(str(items[0]), self._tok_span(items[0]))

    def window_by(self, meta, items):
        return self._names(items)

    def window_where(self, meta, items):
        return items[0]

    def window_within(self, meta, items):
        return items[0]

    def aggregate(self, meta, items):
        return self._whole(ast.Let(str(items[0]), items[1], self._tok_span(items[0])), meta)

    def range_interval(self, meta, items):
        name, _in, open_b, low, _comma, high, close_b = items
        return ast.Interval(ast.Name(str(name), self._tok_span(name)), low, high,
                            str(open_b) == "[", str(close_b) == "]", self._span(meta))

    def range_compare(self, meta, items):
        name, op, value = items
        return ast.Bound(ast.Name(str(name), self._tok_span(name)), str(op), value, self._span(meta))

    def let(self, meta, items):
        return self._whole(ast.Let(str(items[0]), items[1], self._tok_span(items[0])), meta)

    def when(self, meta, items):
        return ast.When(items[0], self._span(meta))

    def empty_means(self, meta, items):
        return ast.EmptyMeans(self._names(items), self._span(meta))

    def test(self, meta, items):
        name, *body = items
        return ast.TestDecl(_unquote(name), tuple(body), self._span(meta))

    def test_as_of(self, meta, items):
        return ast.TestAsOf(items[0], self._span(meta))

    def given(self, meta, items):
        return ast.Given(str(items[0]), items[1], self._span(meta))

    def expect(self, meta, items):
        outcome, missing = items
        return ast.Expect(str(outcome), missing or (), self._span(meta))

    def missing(self, meta, items):
        return self._names(items)

    # ---- expressions -----------------------------------------------------------------------
    def or_(self, meta, items):
        return ast.Binary("or", items[0], items[1], self._span(meta))

    def and_(self, meta, items):
        return ast.Binary("and", items[0], items[1], self._span(meta))

    def not_(self, meta, items):
        return ast.Unary("not", items[0], self._span(meta))

    def compare(self, meta, items):
        return ast.Binary(str(items[1]), items[0], items[2], self._span(meta))

    def is_empty(self, meta, items):
        return ast.IsEmpty(items[0], False, self._span(meta))

    def is_not_empty(self, meta, items):
        return ast.IsEmpty(items[0], True, self._span(meta))

    def in_list(self, meta, items):
        return ast.InList(items[0], tuple(items[1:]), False, self._span(meta))

    def not_in_list(self, meta, items):
        return ast.InList(items[0], tuple(items[1:]), True, self._span(meta))

    def coalesce(self, meta, items):
        return ast.Binary("??", items[0], items[1], self._span(meta))

    def arith(self, meta, items):
        return ast.Binary(str(items[1]), items[0], items[2], self._span(meta))

    def neg(self, meta, items):
        return ast.Unary("-", items[0], self._span(meta))

    def attr(self, meta, items):
        return ast.Attr(items[0], str(items[1]), self._span(meta))

    def number(self, meta, items):
        return ast.Literal(Decimal(str(items[0])), "number", self._span(meta))

    def string(self, meta, items):
        return ast.Literal(_unquote(items[0]), "string", self._span(meta))

    def date(self, meta, items):
        return ast.Literal(self._date(items[0]), "date", self._span(meta))

    def datetime(self, meta, items):
        tok = items[0]
        try:
            value = datetime.fromisoformat(str(tok))
        except ValueError:
            raise BuildError("E0104", f"`{tok}` 不是有效的日期时间", self._tok_span(tok),
                             "日期时间写作 2026-03-01T10:00 或 2026-03-01T10:00:00") from None
        return ast.Literal(value, "datetime", self._span(meta))

    def true(self, meta, items):
        return ast.Literal(True, "bool", self._span(meta))

    def false(self, meta, items):
        return ast.Literal(False, "bool", self._span(meta))

    def empty(self, meta, items):
        return ast.Literal(None, "empty", self._span(meta))

    def duration(self, meta, items):
        return ast.DurationLit(Decimal(str(items[0])), UNITS[str(items[1])], self._span(meta))

    def name(self, meta, items):
        return ast.Name(str(items[0]), self._span(meta))

    def call(self, meta, items):
        name, *args = items
        return ast.Call(str(name), tuple(a for a in args if a is not None), False, self._span(meta))

    def call_star(self, meta, items):
        return ast.Call(str(items[0]), (), True, self._span(meta))

    def tuple(self, meta, items):
        return ast.ListLit(tuple(i for i in items if i is not None), self._span(meta))

    def match(self, meta, items):
        return ast.Match(items[0], tuple(items[1:]), self._span(meta))

    def match_arm(self, meta, items):
        *patterns, value = items
        pats = tuple(p for p in patterns if not (isinstance(p, Tree) and p.data == "default_pattern"))
        return ast.MatchArm(pats, value, self._span(meta))

    def default_pattern(self, meta, items):
        return Tree("default_pattern", [])

    def _date(self, tok: Token) -> date:
        try:
            return date.fromisoformat(str(tok))
        except ValueError:
            raise BuildError("E0104", f"`{tok}` 不是有效的日期", self._tok_span(tok),
                             "日期写作 YYYY-MM-DD，例如 2026-03-01") from None


# ---- comments ----------------------------------------------------------------------------------
# An *anchor* is a node the formatter starts on a line of its own (a declaration, a rule item, a
# record field, a test record's field, an operand of a broken `and`/`or` chain, a `match` arm …);
# every comment is attached to one anchor. `anchors(node)` lists a node's anchors in source order.

def chain_operands(expr: ast.Binary) -> tuple[ast.Expr, ...]:
    """`a and b and c` (left-nested, one operator) as (a, b, c); a right operand of the same
    operator stays one operand (it was written in parentheses)."""
    left = expr.left
    head = chain_operands(left) if isinstance(left, ast.Binary) and left.op == expr.op else (left,)
    return (*head, expr.right)


def is_chain(expr) -> bool:
    return isinstance(expr, ast.Binary) and expr.op in ("and", "or")


def _expr_anchors(expr) -> tuple:
    if is_chain(expr):
        return chain_operands(expr)
    if isinstance(expr, ast.Match):
        return (*_expr_anchors(expr.subject), *expr.arms)
    return tuple(a for child in ast.children(expr) for a in _expr_anchors(child))


_ANCHORS: dict[type, Callable[..., tuple]] = {
    ast.Module: lambda m: (m.header, *m.decls),
    ast.EnumDecl: lambda d: d.members,
    ast.RecordDecl: lambda d: d.fields,
    ast.FactDecl: lambda d: _expr_anchors(d.value),
    ast.DefaultsDecl: lambda d: d.values,
    ast.FieldValue: lambda f: _expr_anchors(f.value),
    ast.RuleDecl: lambda r: r.items,
    ast.Window: lambda w: (w.where, w.within, *w.aggregates),
    ast.Let: lambda let: _expr_anchors(let.value),
    ast.When: lambda w: _expr_anchors(w.condition),
    ast.TestDecl: lambda t: t.items,
    ast.Given: lambda g: g.values,
    ast.MatchArm: lambda a: (*(x for p in a.patterns for x in _expr_anchors(p)), *_expr_anchors(a.value)),
}
_EXPRESSIONS = (ast.Literal, ast.DurationLit, ast.Name, ast.Attr, ast.Call, ast.Unary, ast.Binary, ast.IsEmpty,
                ast.InList, ast.ListLit, ast.Match)


def anchors(node) -> tuple:
    """The anchors directly inside `node`, in source order."""
    found = _ANCHORS.get(type(node))
    if found is not None:
        return tuple(a for a in found(node) if a is not None)
    return _expr_anchors(node) if isinstance(node, _EXPRESSIONS) else ()


Pos = tuple[int, int]


class _Attacher:
    """Finds each comment its anchor and place (see `ast.Comment`), descending from the module
    into the innermost anchor whose extent holds the comment."""

    def __init__(self, extents: dict[int, tuple[int, int, int, int]], text: str, path: str):
        self.extents, self.text, self.path = extents, text, path

    def attach(self, module: ast.Module, tokens: Sequence[Token]) -> tuple[ast.Comment, ...]:
        out = []
        for tok in tokens:
            line_start = self.text.rfind("\n", 0, tok.start_pos) + 1
            own_line = not self.text[line_start:tok.start_pos].strip()
            text = str(tok).rstrip()
            span = Span(self.path, tok.line, tok.column, tok.line, tok.column + len(text))
            anchor, place = self._place(module, module, (tok.line, tok.column), own_line)
            out.append(ast.Comment(text, span, own_line, anchor, place))
        return tuple(out)

    def extent(self, node) -> tuple[Pos, Pos] | None:
        e = self.extents.get(id(node))
        if e is None:
            span = getattr(node, "span", None)
            if span is None:
                return None
            e = (span.line, span.column, span.end_line, span.end_column)
        return (e[0], e[1]), (e[2], e[3])

    def _place(self, module, node, pos: Pos, own_line: bool) -> tuple[object, str]:
        kids = [(k, e) for k in anchors(node) if (e := self.extent(k)) is not None]
        for kid, (start, end) in kids:
            if start < pos < end:
                return self._place(module, kid, pos, own_line)
        if not own_line:
            ending = [kid for kid, (_, end) in kids if end[0] == pos[0] and end <= pos]
            if ending:
                return ending[-1], "after"
            own = self.extent(node) if node is not module else None
            if own is not None and own[0][0] == pos[0]:
                return node, "head"
        following = next((kid for kid, (start, _) in kids if start > pos), None)
        if following is not None:
            return following, "before"
        return (None if node is module else node), "end"
