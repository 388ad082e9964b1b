"""Parse rulebook text into an AST module. The only place (with builder.py) that imports Lark.

Syntax errors become diagnostics (E01xx) with the place and what was expected; after an
error the parser restarts at the next top-level declaration so one run reports every
broken declaration, not just the first. Comments are skipped by the grammar but collected
by a lexer callback and handed to the builder, which attaches them to the module (for fmt).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from .. import ast
from ..diagnostics import Diagnostics
from ..source import Source, Span
from .builder import BuildError, build_module

_TOP_LEVEL = re.compile(r"^(rule|record|enum|fact|link|defaults|import)\b", re.M)

# What an officer should read instead of Lark's terminal names.
_EXPECTED_WORDS = {
    "NAME": "名称", "STRING": "带引号的文本", "WORD": "编号", "NUMBER": "数字", "INT": "整数",
    "DATE": "日期", "DATETIME": "日期时间", "LINE": "文本", "COMPARE": "比较运算符",
    "RBRACE": "`}`", "LBRACE": "`{`", "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`",
    "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "UNIT": "时间单位", "OUTCOME": "fired/passed/undetermined",
    "$END": "文件结束",
}
_EXPECTED_PATTERNS = {"ADD_OP": "`+` `-`", "MUL_OP": "`*` `/`", "OPTIONAL": "`?`", "KEY": "`key`",
                      "META_KEY": "元数据关键字"}


def grammar_text() -> str:
    """The grammar shipped in the wheel, or the repository's `grammar/` in a source checkout."""
    packaged = resources.files("compliance_engine").joinpath("grammar/rulebook.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "rulebook.lark").read_text(encoding="utf-8")


# Where the lexer callback puts the comments of the parse running in this thread (the Lark
# instance is shared, so the list cannot be).
_comment_sink: ContextVar[list[Token] | None] = ContextVar("_comment_sink", default=None)


def _keep_comment(token: Token) -> Token:
    sink = _comment_sink.get()
    if sink is not None:
        sink.append(token)
    return token


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
                lexer_callbacks={"COMMENT": _keep_comment})


def parse(source: Source, diags: Diagnostics) -> ast.Module | None:
    """Parse one file. Returns None (and reports) when any part of it has a syntax error."""
    comments: list[Token] = []
    token = _comment_sink.set(comments)
    try:
        return _parse(source, diags, comments)
    finally:
        _comment_sink.reset(token)


def _parse(source: Source, diags: Diagnostics, comments: list[Token]) -> ast.Module | None:
    offset, failed, module = 0, False, None
    while True:
        chunk = source.text[offset:]
        comments.clear()
        try:
            tree = _lark().parse(chunk)
            if not failed:
                module = build_module(tree, source.path, comments, source.text)
            break
        except UnexpectedInput as err:
            failed = True
            _report(err, source, offset, diags)
            offset = _restart_point(source.text, offset + _error_offset(err, chunk))
            if offset is None:
                break
        except VisitError as err:  # a builder check (e.g. a bad date literal)
            if not isinstance(err.orig_exc, BuildError):
                raise
            failed = True
            e = err.orig_exc
            span = e.span if e.span.path else Span(source.path, e.span.line, e.span.column, e.span.end_line, e.span.end_column)
            diags.add(e.code, e.message, span, e.hint)
            break
    return None if failed else module


def _error_offset(err: UnexpectedInput, chunk: str) -> int:
    pos = getattr(err, "pos_in_stream", None)
    if pos is None and isinstance(err, UnexpectedToken):
        pos = err.token.start_pos
    return len(chunk) if pos is None else pos


def _restart_point(text: str, error_pos: int) -> int | None:
    line_end = text.find("\n", error_pos)
    if line_end < 0:
        return None
    m = _TOP_LEVEL.search(text, line_end + 1)
    return m.start() if m else None


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _report(err: UnexpectedInput, source: Source, offset: int, diags: Diagnostics) -> None:
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        line, col = _line_col(source.text, len(source.text))
        span = Span(source.path, line, col, line, col + 1)
        diags.add("E0103", "文件在声明结束之前就结束了", span, "检查是否缺少右花括号 `}` 或右括号 `)`")
        return
    pos = offset + _error_offset(err, source.text[offset:])
    line, col = _line_col(source.text, pos)
    if isinstance(err, UnexpectedCharacters):
        ch = source.text[pos] if pos < len(source.text) else ""
        span = Span(source.path, line, col, line, col + 1)
        hint = _char_hint(ch, _describe(err.allowed or ()))
        diags.add("E0101", f"无法识别的字符 `{ch}`", span, hint)
        return
    assert isinstance(err, UnexpectedToken)
    tok: Token = err.token
    expected = _describe(err.expected)
    if tok.type in _CATCH_ALL and tok.type not in err.expected:
        # Lark's fallback lexer matched a catch-all terminal (a metadata line): report the first
        # word, or the stray character, that the officer actually typed here.
        word = re.match(r"\w+", str(tok))
        if word is None:
            ch = str(tok)[:1]
            diags.add("E0101", f"无法识别的字符 `{ch}`", Span(source.path, line, col, line, col + 1), _char_hint(ch, expected))
            return
        tok = Token(tok.type, word.group(0))
    span = Span(source.path, line, col, line, col + max(1, len(str(tok))))
    hint = _FULLWIDTH_HINT if any(c in _FULLWIDTH for c in str(tok)) else f"这里需要: {_shown(expected)}"
    diags.add("E0102", f"此处不应出现 `{tok}`", span, hint)


_CATCH_ALL = {"LINE", "WORD"}
_FULLWIDTH = "，（）：；“”"
_FULLWIDTH_HINT = "请使用半角标点（, ( ) : ;）书写规则语法；中文标点只能出现在引号内的文本中"


def _describe(terminals) -> list[str]:
    """Terminal names as an officer reads them: `and`, `+`, 名称 … (never Lark's internal names)."""
    words = set()
    for name in terminals:
        if name.startswith("_"):
            continue
        if name in _EXPECTED_WORDS:
            words.add(_EXPECTED_WORDS[name])
            continue
        term = next((t for t in _lark().terminals if t.name == name), None)
        pattern = getattr(term, "pattern", None)
        if pattern is not None and pattern.type == "str":
            words.add(f"`{pattern.value}`")
        elif name in _EXPECTED_PATTERNS:
            words.add(_EXPECTED_PATTERNS[name])
    return sorted(words)


def _shown(words: list[str]) -> str:
    return "、".join(words[:8]) + (" 等" if len(words) > 8 else "")


def _char_hint(ch: str, expected: list[str]) -> str:
    if ch in "\"'":
        return "文本缺少结束引号；文本必须写在同一行内"
    if ch in _FULLWIDTH:
        return _FULLWIDTH_HINT
    return "这里需要: " + _shown(expected) if expected else "删除这个字符，或把它放进引号内的文本中"
