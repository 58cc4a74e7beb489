"""Read vigil.yaml and turn every problem into ``file:line: field.path: what was expected``."""

import reprlib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.config.base import LocatedValueError
from models.config.root import VigilConfig
from models.config.yaml_reader import MAX_BYTES, decode_config, read_yaml
from models.errors import ConfigError
from models.vocabulary.redact import redact_urls

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
MAX_PROBLEMS = 50
"""Problems listed at most; a file with thousands of them needs the first ones fixed."""
_SHORT = reprlib.Repr()  # a bounded repr: a 1 MB value is shown as its first characters
_SHORT.maxstring = _SHORT.maxother = 60


def load_config(path: str | Path) -> VigilConfig:
    """Read and validate the config file at ``path``.

    Raises:
        ConfigError: listing every problem as ``file:line: field.path: message``.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; `vigil init` writes a starter config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    return parse_config(decode_config(raw, source=str(path)), source=str(path))


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
    data, root = read_yaml(text, source=source)
    lines = _line_map(root)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the file must be a mapping of {what}")
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        errors = exc.errors()
        problems = [_describe(err, data, lines, source) for err in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            problems.append(f"{source}: … and {len(errors) - MAX_PROBLEMS:,} more problems")
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
        got = f" (got {redact_urls(_SHORT.repr(err['input']))})"
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
    """Return the 1-based line of every mapping key and list item, by data path.

    Iterative and linear in the (bounded) number of values, however deep they nest.
    """
    lines: dict[Loc, int] = {}
    todo: list[tuple[yaml.Node, Loc]] = [] if node is None else [(node, ())]
    while todo:
        node, path = todo.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value)
                lines[child] = key.start_mark.line + 1
                todo.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            todo += [(item, (*path, index)) for index, item in enumerate(node.value)]
    return lines
