"""Series selectors in Prometheus syntax: ``name{label="x", other=~"re.*", a!="b", c!~"d"}``.

The parser is hand-written so errors can point at the exact position.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from models.errors import MatcherError
from models.vocabulary.labels import LABEL_NAME_RE


class MatchOp(StrEnum):
    """How a label matcher compares."""

    EQ = "="  # the label equals the value (absent labels equal "")
    NE = "!="  # the label differs from the value
    RE = "=~"  # the whole label matches the regular expression
    NRE = "!~"  # the whole label does not match the regular expression


@dataclass(frozen=True)
class LabelMatcher:
    """One ``label op "value"`` condition."""

    label: str
    op: MatchOp
    value: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Return True when ``labels`` satisfy this matcher."""
        actual = labels.get(self.label, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NE:
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op is MatchOp.RE else not found

    def __str__(self) -> str:
        return f"{self.label}{self.op}{json.dumps(self.value, ensure_ascii=False)}"


@dataclass(frozen=True)
class Selector:
    """A metric name (optional) and label matchers; selects series."""

    name: str | None
    matchers: tuple[LabelMatcher, ...] = ()

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        """Return True when the series ``name`` with ``labels`` is selected."""
        if self.name is not None and name != self.name:
            return False
        with_name = {**labels, "__name__": name}
        return all(m.matches(with_name) for m in self.matchers)

    def __str__(self) -> str:
        inner = ", ".join(str(m) for m in self.matchers)
        if self.name and not inner:
            return self.name
        return f"{self.name or ''}{{{inner}}}"


def label_prefilters(selector: Selector) -> list[str]:
    """Return SQL LIKE patterns (escape ``\\``) that every selected canonical label text matches.

    Equality matchers on non-empty values appear verbatim in the canonical JSON, so a
    database can discard most series before Python checks the full selector.

    >>> label_prefilters(parse_selector('cpu{host="db_1", mode=~"i.*"}'))
    ['%"host":"db\\\\_1"%']
    """
    patterns = []
    for m in selector.matchers:
        if m.op is MatchOp.EQ and m.value and m.label != "__name__":
            pair = json.dumps({m.label: m.value}, separators=(",", ":"), ensure_ascii=False)[1:-1]
            escaped = pair.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            patterns.append(f"%{escaped}%")
    return patterns


def label_matcher(label: str, op: str, value: str) -> LabelMatcher:
    """Build a matcher, compiling its regular expression; raises MatcherError if it is bad."""
    match_op = MatchOp(op)
    pattern = None
    if match_op in (MatchOp.RE, MatchOp.NRE):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise MatcherError(
                f"bad regular expression {value!r} for label {label!r}: {exc}"
            ) from exc
    return LabelMatcher(label, match_op, value, pattern)


def parse_selector(text: str) -> Selector:
    """Parse ``text`` into a Selector; raise MatcherError naming the position of the problem.

    >>> str(parse_selector('cpu{ mode = "idle" }'))
    'cpu{mode="idle"}'
    """
    return _Parser(text).selector()


_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OP_RE = re.compile(r"=~|!~|!=|=")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", '"': '"', "'": "'"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> MatcherError:
        found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end"
        return MatcherError(
            f"bad selector {self.text!r}: expected {expected} at position {self.pos + 1}, "
            f'found {found}; write it like cpu_seconds{{mode="idle", host=~"db.*"}}'
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, regex: re.Pattern[str]) -> str | None:
        self.skip_space()
        found = regex.match(self.text, self.pos)
        if not found:
            return None
        self.pos = found.end()
        return found.group()

    def peek(self, char: str) -> bool:
        self.skip_space()
        return self.text.startswith(char, self.pos)

    def selector(self) -> Selector:
        name = self.take(_NAME_RE)
        matchers: list[LabelMatcher] = []
        if self.peek("{"):
            self.pos += 1
            matchers = self.matcher_list()
        elif name is None:
            raise self.fail("a metric name or '{'")
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("the end of the selector")
        if name is None and not matchers:
            raise MatcherError(
                f"bad selector {self.text!r}: it selects nothing; name a metric or a label"
            )
        return Selector(name, tuple(matchers))

    def matcher_list(self) -> list[LabelMatcher]:
        matchers: list[LabelMatcher] = []
        while not self.peek("}"):
            matchers.append(self.matcher())
            if self.peek(","):
                self.pos += 1
            elif not self.peek("}"):
                raise self.fail("',' or '}'")
        self.pos += 1
        return matchers

    def matcher(self) -> LabelMatcher:
        label = self.take(_NAME_RE)
        if label is None or not LABEL_NAME_RE.fullmatch(label):
            raise self.fail("a label name")
        op = self.take(_OP_RE)
        if op is None:
            raise self.fail("one of = != =~ !~")
        value = self.string()
        return label_matcher(label, op, value)

    def string(self) -> str:
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] not in "\"'":
            raise self.fail("a quoted string")
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char == "\\" and self.pos < len(self.text):
                escaped = self.text[self.pos]
                self.pos += 1
                if escaped == "u" and re.fullmatch(
                    r"[0-9a-fA-F]{4}", self.text[self.pos : self.pos + 4]
                ):
                    out.append(chr(int(self.text[self.pos : self.pos + 4], 16)))
                    self.pos += 4
                else:
                    out.append(_ESCAPES.get(escaped, "\\" + escaped))
            else:
                out.append(char)
        raise self.fail(f"a closing {quote}")
