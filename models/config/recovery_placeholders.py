"""Check a procedure's ``{placeholders}`` when the config is loaded, not when it runs.

Every placeholder must be one Vigil fills in. Values that come from alerts (``{target}`` and
``{labels.NAME}``, chosen by anyone who can push samples) may not name the program to run or
sit in the script of a shell or interpreter (``models/vocabulary/argv_code.py``), unless the
procedure pins them: ``allowed_labels`` lists a label's values, ``targets`` the targets.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from models.vocabulary.argv_code import code_positions
from models.vocabulary.placeholders import placeholder_names

if TYPE_CHECKING:
    from models.config.recovery import Procedure

Loc = tuple[str | int, ...]
_ARGV_FIELDS = ("argv", "start", "command")  # fields holding a whole argv
_FILLED = ("target", "procedure", "address")


def placeholder_problem(procedure: "Procedure") -> tuple[Loc, str] | None:
    """Return (field path, message) of the first unknown or unsafe placeholder, or None."""
    for loc, value, is_scale in _templates(procedure):
        texts = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, text in texts:
            for name in placeholder_names(text):
                if not _is_known(name, is_scale):
                    return (loc if index is None else (*loc, index)), _unknown(name, is_scale)
        for index in code_positions(value) if isinstance(value, list) else ():
            for name in placeholder_names(value[index]):
                if not _is_pinned(name, procedure):
                    return (*loc, index), _unsafe(name, is_program=index == 0)
    return None


def _templates(procedure: "Procedure") -> Iterator[tuple[Loc, str | list[str], bool]]:
    """Every templated string or argv in the procedure, with its path and whether it scales."""
    for field in ("preconditions", "steps", "verify"):
        yield from _walk(getattr(procedure, field), (field,), is_scale=False)


def _walk(value: Any, loc: Loc, *, is_scale: bool) -> Iterator[tuple[Loc, Any, bool]]:
    if isinstance(value, BaseModel):
        is_scale = is_scale or getattr(value, "type", None) == "scale"
        for name, info in type(value).model_fields.items():
            item, key = getattr(value, name), info.alias or name
            if name in _ARGV_FIELDS and isinstance(item, list):
                yield (*loc, key), item, is_scale
            else:
                yield from _walk(item, (*loc, key), is_scale=is_scale)
    elif isinstance(value, str):
        yield loc, value, is_scale
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index), is_scale=is_scale)
    elif isinstance(value, dict):  # values only: keys of JSON bodies are not filled in
        for key, item in value.items():
            yield from _walk(item, (*loc, key), is_scale=is_scale)


def _is_known(name: str, is_scale: bool) -> bool:
    return name in _FILLED or name.startswith("labels.") or (is_scale and name == "replicas")


def _is_pinned(name: str, procedure: "Procedure") -> bool:
    """True for a placeholder whose every possible value the config fixes."""
    if name == "target":
        return bool(procedure.targets)
    if name.startswith("labels."):
        return name.removeprefix("labels.") in procedure.allowed_labels
    return True


def _unknown(name: str, is_scale: bool) -> str:
    known = "{target}, {procedure}, {address}, {labels.NAME}" + (", {replicas}" if is_scale else "")
    return f"unknown placeholder {{{name}}}; Vigil fills {known} (write {{{{ }}}} for braces)"


def _unsafe(name: str, *, is_program: bool) -> str:
    where = "name the program to run" if is_program else "name a program or become script code"
    if name == "target":
        pin = "list the procedure's `targets:`"
    else:
        label = name.removeprefix("labels.")
        pin = f"list its values in the procedure's `allowed_labels: {{{label}: [...]}}`"
    return (
        f"{{{name}}} comes from an alert and would {where}: {pin}, or pass it as an argument "
        f'of the script, e.g. [sh, -c, \'echo "$1"\', sh, "{{{name}}}"]'
    )
