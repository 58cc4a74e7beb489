"""Annotation and message templates: ``{{ labels.target }} at {{ value }}`` (sandboxed Jinja)."""

from collections.abc import Mapping
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
VARIABLES = frozenset({"labels", "value"})
"""What a template may use besides Jinja's own globals (``range``, ``dict``, …)."""


@lru_cache(maxsize=4096)
def compile_template(text: str):  # type: ignore[no-untyped-def]
    """Compile ``text``; raise ValueError saying what is wrong with it."""
    try:
        return _ENV.from_string(text)
    except TemplateError as exc:
        hint = "write it like {{ labels.target }}"
        raise ValueError(f"bad template {_short(text)}: {exc}; {hint}") from None
    except RecursionError:  # Jinja's parser recurses once per nesting level
        raise ValueError(f"template {_short(text)} is nested too deeply") from None


def _short(text: str) -> str:
    return repr(text) if len(text) <= 80 else f"{text[:80]!r}…"


def unknown_variables(text: str, known: frozenset[str] = VARIABLES) -> list[str]:
    """Return the names ``text`` uses that no alert provides (sorted); compile it first.

    >>> unknown_variables("{{ lables.host }} at {{ value }}")
    ['lables']
    """
    names = meta.find_undeclared_variables(_ENV.parse(text))
    return sorted(names - known - set(_ENV.globals))


def render(text: str, labels: Mapping[str, str], value: float | None) -> str:
    """Render ``text`` over ``labels`` and ``value``; a broken template renders as a note.

    >>> render("{{ labels.target }} is at {{ value | round(1) }}", {"target": "web-1"}, 0.934)
    'web-1 is at 0.9'
    """
    try:
        return compile_template(text).render(labels=dict(labels), value=value)
    except (TemplateError, ValueError, TypeError) as exc:
        return f"{text} (template error: {exc})"


def render_context(text: str, context: Mapping[str, object]) -> str:
    """Render a message template over ``context``; a broken one renders as a note."""
    try:
        return compile_template(text).render(**context)
    except (TemplateError, ValueError, TypeError) as exc:
        return f"{text} (template error: {exc})"
