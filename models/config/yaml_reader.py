"""Read vigil.yaml text into plain data, turning every hazard into a ``file:line`` error.

A config file is written by people and read by long-running services, so a mistake or a
hostile file must fail fast and say where: the size, the nesting depth and the size after
alias expansion are bounded ("billion laughs" and recursive aliases), duplicate keys are
refused instead of the later one silently winning, and scalars that would crash or
poison later code (huge integers, impossible dates, control characters) are refused here.
"""

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from models.errors import ConfigError

MAX_BYTES = 512 * 1024
"""The largest config file read (512 KiB, thousands of checks); read in about a second."""
MAX_DEPTH = 64
"""The deepest nesting, counting what aliases bring in; vigil.yaml needs about 12."""
MAX_NODES = 200_000
"""The most values after alias expansion (each alias counts its whole collection)."""
MAX_NUMBER_CHARS = 40
"""Longer numbers are no setting (and Python refuses to read ints over 4,300 digits)."""

_BAD_CHAR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# libyaml parses and composes in C, several times faster, and stops nesting at 1,000 levels;
# its error positions count UTF-8 bytes. PyYAML's own loader is the fallback.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COUNTS_BYTES = _BaseLoader is not yaml.SafeLoader


class _Refused(Exception):
    """A problem found while reading, with its 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def decode_config(raw: bytes, *, source: str) -> str:
    """Return the text of a config file's bytes; refuse an oversized or non-UTF-8 file."""
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{source}:1: the file has {len(raw):,} bytes; the limit is 512 KiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}:{line}: byte {raw[exc.start]:#04x} is not UTF-8 text; "
            "save the file as UTF-8 (is it a binary file?)"
        ) from None


def read_yaml(text: str, *, source: str) -> tuple[Any, Node | None]:
    """Return the data in YAML ``text`` and its node tree (for line numbers).

    Raises:
        ConfigError: ``source:line: what is wrong``, for broken YAML and every bound above.
    """
    if len(text) > MAX_BYTES:
        raise ConfigError(
            f"{source}:1: the text has {len(text):,} characters; the limit is 512 KiB"
        )
    try:
        loader = _Loader(text)  # PyYAML's own reader checks the characters here
        node = loader.get_single_node()
        if node is None:
            return None, None
        _measure(node, {}, set(), 1)
        return loader.construct_document(node), node
    except _Refused as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{source}:{line}: not valid YAML: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"{source}:{_reader_line(text, exc)}: {_reader_problem(exc)}") from None


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader with stricter scalars (and a depth-bounded Python composer)."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """Only PyYAML's own composer calls this; libyaml bounds nesting by itself."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: ScalarNode) -> int:
        _short_number(node)
        return _explicit(super().construct_yaml_int, node)  # type: ignore[no-any-return]

    def construct_yaml_float(self, node: ScalarNode) -> float:
        _short_number(node)
        return _explicit(super().construct_yaml_float, node)  # type: ignore[no-any-return]

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        return _explicit(super().construct_yaml_bool, node)  # type: ignore[no-any-return]

    def construct_yaml_str(self, node: ScalarNode) -> str:
        value: str = super().construct_yaml_str(node)
        bad = _BAD_CHAR_RE.search(value)
        if bad:
            raise _Refused(
                node.start_mark.line + 1,
                f"control character U+{ord(bad.group()):04X} in a string; remove it",
            )
        return value

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        return _explicit(super().construct_yaml_timestamp, node)

    def construct_yaml_binary(self, node: ScalarNode) -> bytes:
        raise _Refused(node.start_mark.line + 1, "binary values (!!binary) have no use here")


for _tag, _method in {
    "int": _Loader.construct_yaml_int,
    "float": _Loader.construct_yaml_float,
    "bool": _Loader.construct_yaml_bool,
    "str": _Loader.construct_yaml_str,
    "timestamp": _Loader.construct_yaml_timestamp,
    "binary": _Loader.construct_yaml_binary,
}.items():
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _method)


def _reader_line(text: str, exc: yaml.reader.ReaderError) -> int:
    """The line of a reader error: libyaml counts UTF-8 bytes, PyYAML's reader characters."""
    if _COUNTS_BYTES:
        return text.encode()[: exc.position].count(b"\n") + 1
    return text[: exc.position].count("\n") + 1


def _reader_problem(exc: yaml.reader.ReaderError) -> str:
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return f"character U+{code:04X} is not allowed in YAML text; remove it"


def _explicit(construct: Any, node: ScalarNode) -> Any:
    """Construct a typed scalar; refuse one that does not fit its type.

    Implicit scalars always fit (the resolver matched them), but an explicit tag does not
    (``!!int abc``, ``!!timestamp 2024-13-45``) and PyYAML then raises plain Python errors.
    """
    try:
        return construct(node)
    except (ValueError, TypeError, LookupError, AttributeError, OverflowError):
        kind = node.tag.rsplit(":", 1)[-1]
        line = node.start_mark.line + 1
        raise _Refused(line, f"{node.value[:40]!r} is not a valid {kind}") from None


def _short_number(node: ScalarNode) -> None:
    if len(node.value) > MAX_NUMBER_CHARS:
        raise _Refused(
            node.start_mark.line + 1,
            f"the number {node.value[:12]}… has {len(node.value):,} characters; "
            f"numbers here have at most {MAX_NUMBER_CHARS}",
        )


def _measure(
    node: Node, seen: dict[int, tuple[int, int]], active: set[int], depth: int
) -> tuple[int, int]:
    """Return (values once aliases expand, nesting height) of ``node``; refuse past the bounds.

    ``seen`` keeps each collection's result, so a shared anchor is measured once and a bomb
    of nested aliases costs as little as its text.
    """
    key = id(node)
    line = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
    if key in active:
        raise _Refused(line, "an alias refers to the collection that contains it (a loop)")
    size, height = seen.get(key) or _measure_children(node, seen, active, depth)
    if depth + height - 1 > MAX_DEPTH:
        raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep once aliases expand")
    seen[key] = size, height
    return size, height


def _measure_children(
    node: Node, seen: dict[int, tuple[int, int]], active: set[int], depth: int
) -> tuple[int, int]:
    children: list[Node] = []
    if isinstance(node, SequenceNode):
        children = node.value
    elif isinstance(node, MappingNode):
        _refuse_repeated_keys(node)
        children = [part for pair in node.value for part in pair]
    active.add(id(node))
    size, height = 1, 1
    for child in children:
        if isinstance(child, ScalarNode):  # most values: no need to recurse
            size, height = size + 1, max(height, 2)
            continue
        child_size, child_height = _measure(child, seen, active, depth + 1)
        size, height = size + child_size, max(height, child_height + 1)
        if size > MAX_NODES:
            line = node.start_mark.line + 1
            raise _Refused(line, f"more than {MAX_NODES:,} values once aliases expand")
    active.discard(id(node))
    return size, height


def _refuse_repeated_keys(node: MappingNode) -> None:
    """Refuse a key written twice in one mapping (merge keys ``<<`` may be overridden)."""
    seen: dict[tuple[str, str], int] = {}
    for key, _value in node.value:
        if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        first = seen.get((key.tag, key.value))
        if first is not None:
            raise _Refused(
                line,
                f"key {key.value!r} is written twice (lines {first} and {line}); "
                "the later one would silently replace the first: keep one",
            )
        seen[key.tag, key.value] = line
