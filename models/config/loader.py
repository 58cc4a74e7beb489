"""Read vigil.yaml and turn every problem into ``file:line: field.path: what was expected``."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.config.root import LocatedValueError, VigilConfig
from vigil.errors import ConfigError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


def load_config(path: str | Path) -> VigilConfig:
    """Read and validate the config file at ``path``.

    Raises:
        ConfigError: listing every problem as ``file:line: field.path: message``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; `vigil init` writes a starter config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str = "vigil.yaml") -> VigilConfig:
    """Validate config ``text``; ``source`` names it in error messages."""
    config, _lines = parse_located(
        text, VigilConfig, source=source, what="sections (targets:, checks:, …)"
    )
    return config


def parse_located(
    text: str, model: type[M], *, source: str, what: str = "keys"
) -> tuple[M, dict[Loc, int]]:
    """Validate YAML ``text`` as ``model``; also return the line of every key and list item.

    Raises:
        ConfigError: listing every problem as ``source:line: field.path: message``.
    """
    try:
        data = yaml.safe_load(text)
        lines = _line_map(yaml.compose(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{source}:{line}: not valid YAML: {exc.problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the file must be a mapping of {what}")
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        problems = [_describe(err, data, lines, source) for err in exc.errors()]
        raise ConfigError("\n".join(problems)) from None


def _describe(err: Any, data: Any, lines: dict[Loc, int], source: str) -> str:
    loc: Loc = tuple(err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, LocatedValueError):
        loc = loc + cause.loc
    path = _data_path(loc, data)
    line = next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)
    shown = _format_path(path) or "(top level)"
    got = ""
    if err["type"] not in ("missing", "value_error", "extra_forbidden") and "input" in err:
        got = f" (got {err['input']!r})"
    if err["type"] == "extra_forbidden":
        message = "unknown field; check its spelling against the documented keys"
    return f"{source}:{line}: {shown}: {message}{got}"


def _data_path(loc: Loc, data: Any) -> Loc:
    """Keep the parts of a pydantic ``loc`` that name places in the data (drop union tags)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]  # type: ignore[index]
        elif index == len(loc) - 1 and isinstance(node, dict):
            node = None  # a missing field: name it, the line is its parent's
        else:
            continue
        path.append(part)
    return tuple(path)


def _format_path(path: Loc) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_map(node: yaml.Node | None) -> dict[Loc, int]:
    """Return the 1-based line of every mapping key and list item, by data path."""
    return dict(_walk(node, ())) if node is not None else {}


def _walk(node: yaml.Node, path: Loc) -> Iterator[tuple[Loc, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            yield from _walk(value, child)
            yield child, key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index))
