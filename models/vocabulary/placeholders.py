"""The ``{placeholder}`` syntax of recovery procedures: ``{name}`` or ``{labels.NAME}``.

``{{`` and ``}}`` are literal braces. Filling values in is ``tasks/core/recovery/template.py``;
the config checks which names a procedure uses (``models/config/recovery_placeholders.py``).
"""

import re

PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")


def placeholder_names(template: str) -> list[str]:
    """Return the placeholders ``template`` uses, in order (``{{`` and ``}}`` are literal).

    >>> placeholder_names("{{x}} {target}/{labels.job}")
    ['target', 'labels.job']
    """
    return [m.group(1) for m in PLACEHOLDER_RE.finditer(template) if m.group(1)]
