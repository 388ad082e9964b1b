"""Typed, resolved expressions: what the checker hands to the planner and the backends.

Every node knows its `type` and `empty_by`: the names (optional fields, keys, aggregates)
whose emptiness can make the node empty. A node with an empty `empty_by` is never empty,
so backends can skip null checks for it. Names are resolved: a `FieldRef` says whose field
(the record under test, or the scanned row of a window), a `LetRef` names a let, a fact or
a window aggregate. Every construct here has a Python and a SQL meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .source import Span
from .types import Kind, Type

_span = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Const:
    value: object
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class FieldRef:
    """A field of the record under test (`scope="this"`) or of a window's scanned row (`"row"`)."""

    name: str
    scope: str
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class LetRef:
    """A named value: a rule's `let`, a window aggregate (`origin="aggregate"`) or a fact."""

    name: str
    origin: str  # "let", "aggregate", "fact"
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class AsOf:
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Unary:
    op: str  # "neg", "not"
    operand: Node
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Binary:
    """op: add sub mul div (numbers, durations, dates), eq ne lt le gt ge, and, or."""

    op: str
    left: Node
    right: Node
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Coalesce:
    left: Node
    right: Node
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class IsEmpty:
    operand: Node
    negated: bool
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class InList:
    operand: Node
    items: tuple[Node, ...]
    negated: bool
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Call:
    """A builtin function (see builtins.py) applied to arguments."""

    func: str
    args: tuple[Node, ...]
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Case:
    """`match`: the first arm whose values contain the subject; `default` may be None (empty)."""

    subject: Node
    arms: tuple[tuple[tuple[Node, ...], Node], ...]
    default: Node | None
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class Aggregate:
    """count/sum/avg/min/max over a window's rows; `arg` None means count(*)."""

    func: str
    arg: Node | None
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


@dataclass(frozen=True)
class ListConst:
    items: tuple[Node, ...]
    type: Type
    empty_by: frozenset[str] = frozenset()
    span: Span | None = _span


Node = Union[Const, FieldRef, LetRef, AsOf, Unary, Binary, Coalesce, IsEmpty, InList, Call, Case, Aggregate, ListConst]


def children(node: Node) -> tuple[Node, ...]:
    match node:
        case Unary(operand=o) | IsEmpty(operand=o):
            return (o,)
        case Binary(left=a, right=b) | Coalesce(left=a, right=b):
            return (a, b)
        case InList(operand=o, items=items):
            return (o, *items)
        case Call(args=args) | ListConst(items=args):
            return args
        case Case(subject=s, arms=arms, default=d):
            out = [s]
            for values, result in arms:
                out.extend(values)
                out.append(result)
            if d is not None:
                out.append(d)
            return tuple(out)
        case Aggregate(arg=a):
            return (a,) if a is not None else ()
    return ()


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from walk(child)


def is_nullable(node: Node) -> bool:
    return bool(node.empty_by)


FLIPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}  # sides swapped
_NUMBERS = frozenset({Kind.INT, Kind.DECIMAL, Kind.MONEY, Kind.NUMBER})


def quotient_comparison(node: Binary) -> tuple[Node, Node, Node, str] | None:
    """(x, y, z, op) when `node` compares a quotient of numbers with a number — `x / y op z`,
    or `z op' x / y` turned round — else None. Backends compare `x` with `z·y` instead of
    dividing (y's sign decides the direction; y = 0 makes it empty, as the division does)."""
    left, right, op = node.left, node.right, node.op
    if not _number_division(left):
        if not _number_division(right):
            return None
        left, right, op = right, left, FLIPPED[op]
    if right.type.kind not in _NUMBERS:
        return None
    return left.left, left.right, right, op


def _number_division(node: Node) -> bool:
    return (isinstance(node, Binary) and node.op == "div" and node.left.type.kind in _NUMBERS
            and node.right.type.kind in _NUMBERS)
