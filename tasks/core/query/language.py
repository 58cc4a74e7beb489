"""The PromQL subset Vigil evaluates, as small plain nodes parsed by ``promql-parser``.

Supported: selectors with ``=``, ``!=``, ``=~``, ``!~`` (and ``offset``); ``rate``, ``irate``,
``increase`` and the ``*_over_time`` functions; ``sum|avg|min|max|count`` with ``by`` or
``without``; arithmetic and comparisons with a scalar or between two vectors matched
one-to-one (``on``/``ignoring``); unary minus; parentheses. Anything else is refused with
a ``QueryError`` that says what and why.
"""

from dataclasses import dataclass

import promql_parser as pp

from models.errors import MatcherError, QueryError
from models.vocabulary.selectors import LabelMatcher, Selector, label_matcher

RATE_FUNCTIONS = ("rate", "irate", "increase")
OVER_TIME_FUNCTIONS = (
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
)
AGGREGATIONS = ("sum", "avg", "min", "max", "count")
ARITHMETIC = ("+", "-", "*", "/", "%", "^")
COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")
_MATCH_OPS = {
    str(pp.MatchOp.Equal): "=",
    str(pp.MatchOp.NotEqual): "!=",
    str(pp.MatchOp.Re): "=~",
    str(pp.MatchOp.NotRe): "!~",
}
SUPPORTED = (
    "selectors (=, !=, =~, !~, offset), rate/irate/increase, *_over_time, "
    "sum/avg/min/max/count by|without, arithmetic and comparisons (one-to-one between vectors)"
)


@dataclass(frozen=True)
class Number:
    """A scalar literal."""

    value: float


@dataclass(frozen=True)
class VectorSelect:
    """An instant vector selector: each series' newest sample within the lookback."""

    selector: Selector
    offset_s: float = 0.0


@dataclass(frozen=True)
class RangeSelect:
    """A range vector selector ``sel[range]``: each series' samples in ``(t - range, t]``."""

    selector: Selector
    range_s: float
    offset_s: float = 0.0


@dataclass(frozen=True)
class RangeCall:
    """``rate``, ``irate``, ``increase`` or an ``*_over_time`` function of a range selector."""

    name: str
    arg: RangeSelect
    param: float | None = None  # quantile_over_time's quantile


@dataclass(frozen=True)
class Aggregate:
    """``op by|without (labels) (expr)``."""

    op: str
    expr: "Node"
    labels: tuple[str, ...] = ()
    is_without: bool = False
    is_grouped: bool = False  # a by/without clause was written


@dataclass(frozen=True)
class Binary:
    """``lhs op rhs``: with a scalar, or between two vectors matched one-to-one."""

    op: str
    lhs: "Node"
    rhs: "Node"
    return_bool: bool = False
    on: tuple[str, ...] | None = None  # on(...): match on these labels only
    ignoring: tuple[str, ...] = ()  # ignoring(...): match on all labels but these


@dataclass(frozen=True)
class Negate:
    """``-expr``."""

    expr: "Node"


Node = Number | VectorSelect | RangeSelect | RangeCall | Aggregate | Binary | Negate


def parse_query(text: str) -> Node:
    """Parse ``text`` into nodes; raise QueryError for bad syntax or unsupported features.

    >>> parse_query('sum by (job) (rate(http_total{code!="500"}[5m]))').op
    'sum'
    >>> parse_query("topk(3, x)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    models.errors.QueryError: aggregation 'topk' is not supported; Vigil evaluates sum, ...
    """
    if not text.strip():
        raise QueryError("the query is empty; write a PromQL expression such as up")
    try:
        parsed = pp.parse(text)
    except ValueError as exc:
        raise QueryError(f"cannot parse the query: {exc}") from None
    return _convert(parsed)


def parse_series_selector(text: str) -> Selector:
    """Parse a ``match[]`` argument: a plain instant vector selector."""
    node = parse_query(text)
    if not isinstance(node, VectorSelect) or node.offset_s:
        raise QueryError(f"match[] {text!r} is not a series selector; write name{{label=...}}")
    return node.selector


def is_scalar(node: Node) -> bool:
    """True when ``node`` evaluates to a scalar."""
    if isinstance(node, Number):
        return True
    if isinstance(node, Negate):
        return is_scalar(node.expr)
    if isinstance(node, Binary):
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


def _convert(expr: object) -> Node:
    if isinstance(expr, pp.ParenExpr):
        return _convert(expr.expr)
    if isinstance(expr, pp.NumberLiteral):
        return Number(float(expr.val))
    if isinstance(expr, pp.UnaryExpr):
        return Negate(_convert(expr.expr))  # the parser refuses a range here
    if isinstance(expr, pp.VectorSelector):
        return VectorSelect(_selector(expr), _offset(expr))
    if isinstance(expr, pp.MatrixSelector):
        vs = expr.vector_selector
        return RangeSelect(_selector(vs), expr.range.total_seconds(), _offset(vs))
    if isinstance(expr, pp.Call):
        return _call(expr)
    if isinstance(expr, pp.AggregateExpr):
        return _aggregate(expr)
    if isinstance(expr, pp.BinaryExpr):
        return _binary(expr)
    if isinstance(expr, pp.SubqueryExpr):
        raise QueryError(f"subqueries are not supported; Vigil evaluates {SUPPORTED}")
    if isinstance(expr, pp.StringLiteral):
        raise QueryError("string literals are not supported outside a selector")
    raise QueryError(f"{type(expr).__name__} is not supported; Vigil evaluates {SUPPORTED}")


def _selector(vs: object) -> Selector:
    if vs.at is not None:  # type: ignore[attr-defined]
        raise QueryError("the @ modifier is not supported; use the query's time instead")
    groups = vs.matchers  # type: ignore[attr-defined]
    if groups.or_matchers:
        raise QueryError("'or' inside a selector's braces is not supported; write two queries")
    matchers: list[LabelMatcher] = []
    try:
        for m in groups.matchers:
            matchers.append(label_matcher(m.name, _MATCH_OPS[str(m.op)], m.value))
    except MatcherError as exc:
        raise QueryError(str(exc)) from None
    return Selector(vs.name, tuple(matchers))  # type: ignore[attr-defined]


def _offset(vs: object) -> float:
    offset = vs.offset  # type: ignore[attr-defined]
    return 0.0 if offset is None else float(offset.total_seconds())


def _call(expr: object) -> RangeCall:
    name = expr.func.name  # type: ignore[attr-defined]
    args = list(expr.args)  # type: ignore[attr-defined]
    if name not in RATE_FUNCTIONS + OVER_TIME_FUNCTIONS:
        raise QueryError(
            f"function {name!r} is not supported; Vigil evaluates "
            f"{', '.join(RATE_FUNCTIONS + OVER_TIME_FUNCTIONS)}"
        )
    param = None
    if name == "quantile_over_time":
        first = _convert(args.pop(0))
        if not isinstance(first, Number):
            raise QueryError("quantile_over_time needs a number as its first argument")
        param = first.value
    arg = _convert(args[0])
    assert isinstance(arg, RangeSelect)  # the parser checks argument types; subqueries refused
    return RangeCall(name, arg, param)


def _aggregate(expr: object) -> Aggregate:
    op = str(expr.op)  # type: ignore[attr-defined]
    if op not in AGGREGATIONS:
        raise QueryError(
            f"aggregation {op!r} is not supported; Vigil evaluates {', '.join(AGGREGATIONS)}"
        )
    inner = _convert(expr.expr)  # type: ignore[attr-defined]  # a vector: the parser checks
    modifier = expr.modifier  # type: ignore[attr-defined]
    if modifier is None:
        return Aggregate(op, inner)
    is_without = modifier.type == pp.AggModifierType.Without
    return Aggregate(op, inner, tuple(modifier.labels), is_without, True)


def _binary(expr: object) -> Binary:
    op = str(expr.op)  # type: ignore[attr-defined]
    if op not in ARITHMETIC + COMPARISONS:
        raise QueryError(
            f"operator {op!r} is not supported; Vigil evaluates arithmetic with scalars"
        )
    lhs, rhs = _convert(expr.lhs), _convert(expr.rhs)  # type: ignore[attr-defined]
    modifier = expr.modifier  # type: ignore[attr-defined]
    return_bool = bool(modifier is not None and modifier.return_bool)
    if is_scalar(lhs) or is_scalar(rhs):
        return Binary(op, lhs, rhs, return_bool)
    if modifier is not None and modifier.card != pp.VectorMatchCardinality.OneToOne:
        raise QueryError(
            "group_left/group_right (many-to-one matching) is not supported; "
            "aggregate one side first so the match is one-to-one"
        )
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return Binary(op, lhs, rhs, return_bool)
    labels = tuple(matching.labels)
    if matching.type == pp.LabelModifierType.Include:
        return Binary(op, lhs, rhs, return_bool, on=labels)
    return Binary(op, lhs, rhs, return_bool, ignoring=labels)
