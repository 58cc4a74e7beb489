"""Fill ``{placeholders}`` into commands, URLs and paths without letting values change their shape.

Alert labels and target names come from outside and are untrusted. They are filled into one
argv element, one URL component or one path component at a time; nothing is ever split or
handed to a shell, so ``; rm -rf /`` stays one harmless argument. On top of that, an untrusted
value may not turn an argument into an option (``--force``), add path components (``../``)
or carry control characters.

A configured command that is itself a shell (``[sh, -c, "echo {labels.x}"]``) would undo all
that, so loading the config refuses untrusted placeholders in a program name or a script
(``models/config/recovery_placeholders.py``) unless the procedure lists the label's allowed
values, and ``check_allowed_labels`` holds every run to that list.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from models.errors import RecoveryError
from models.vocabulary.placeholders import PLACEHOLDER_RE

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TemplateContext:
    """Values for placeholders: ``trusted`` from vigil.yaml, ``untrusted`` from alerts."""

    trusted: dict[str, str] = field(default_factory=dict)
    untrusted: dict[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[str, bool]:
        """Return ``(value, is_trusted)`` for a placeholder name."""
        if name in self.trusted:
            return self.trusted[name], True
        if name in self.untrusted:
            return self.untrusted[name], False
        known = ", ".join(sorted({*self.trusted, *self.untrusted})) or "none"
        raise RecoveryError(f"unknown placeholder {{{name}}}; known: {known}")


def check_allowed_labels(ctx: TemplateContext, allowed: Mapping[str, Sequence[str]]) -> None:
    """Refuse label values outside the values a procedure declared for them.

    >>> ctx = TemplateContext(untrusted={"labels.tool": "rm -rf /"})
    >>> check_allowed_labels(ctx, {"tool": ["nginx"]})
    Traceback (most recent call last):
    ...
    models.errors.RecoveryError: label tool='rm -rf /' is not one of its allowed values (nginx)
    """
    for label, values in allowed.items():
        value = ctx.untrusted.get(f"labels.{label}")
        if value is not None and value not in values:
            raise RecoveryError(
                f"label {label}={value!r} is not one of its allowed values ({', '.join(values)})"
            )


def render_text(template: str, ctx: TemplateContext) -> str:
    """Fill placeholders verbatim (for JSON bodies and python kwargs); no control characters.

    >>> render_text("hi {target}", TemplateContext(untrusted={"target": "web-1"}))
    'hi web-1'
    """
    return _render(template, ctx, _check_text)


def render_arg(template: str, ctx: TemplateContext) -> str:
    """Fill one argv element; an untrusted value may not make it start with ``-``.

    >>> render_arg("--host={target}", TemplateContext(untrusted={"target": "a b;c"}))
    '--host=a b;c'
    >>> render_arg("{target}", TemplateContext(untrusted={"target": "--all"}))
    Traceback (most recent call last):
    ...
    models.errors.RecoveryError: value '--all' for {target} would turn an argument into an option
    """
    rendered = _render(template, ctx, _check_text)
    if rendered.startswith("-") and not template.startswith("-"):
        value = _first_value(template, ctx)
        name = _first_name(template)
        raise RecoveryError(f"value {value!r} for {{{name}}} would turn an argument into an option")
    return rendered


def render_argv(templates: list[str], ctx: TemplateContext) -> list[str]:
    """Fill every element of an argv list; the list keeps its length."""
    return [render_arg(t, ctx) for t in templates]


def render_url(template: str, ctx: TemplateContext) -> str:
    """Fill a URL; untrusted values are percent-encoded so they stay one component.

    >>> ctx = TemplateContext(untrusted={"labels.job": "a/../b&y=2"})
    >>> render_url("http://h/r/{labels.job}?x=1", ctx)
    'http://h/r/a%2F..%2Fb%26y%3D2?x=1'
    """
    return _render(
        template, ctx, lambda v, trusted: v if trusted else quote(_check_text(v, False), safe="")
    )


def render_path(template: str, ctx: TemplateContext) -> str:
    """Fill a filesystem path; an untrusted value must be a single plain path component.

    >>> render_path("/var/cache/{target}", TemplateContext(untrusted={"target": ".."}))
    Traceback (most recent call last):
    ...
    models.errors.RecoveryError: value '..' cannot be used in a path: it must be one plain name
    """
    return _render(template, ctx, _check_path_part)


def _render(template: str, ctx: TemplateContext, fill) -> str:  # type: ignore[no-untyped-def]
    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        value, trusted = ctx.lookup(match.group(1))
        return fill(value, trusted)

    return PLACEHOLDER_RE.sub(replace, template)


def _check_text(value: str, trusted: bool) -> str:
    if not trusted and _CONTROL_RE.search(value):
        raise RecoveryError(f"value {value!r} contains control characters; refusing to use it")
    return value


def _check_path_part(value: str, trusted: bool) -> str:
    _check_text(value, trusted)
    if not trusted and ("/" in value or "\\" in value or value in ("", ".", "..")):
        raise RecoveryError(f"value {value!r} cannot be used in a path: it must be one plain name")
    return value


def _first_name(template: str) -> str:
    match = next(m for m in PLACEHOLDER_RE.finditer(template) if m.group(1))
    return match.group(1)


def _first_value(template: str, ctx: TemplateContext) -> str:
    return ctx.lookup(_first_name(template))[0]
