"""What changed in vigil.yaml: rules, procedures and channels, compared by fingerprint.

A fingerprint is a short hash per named item, so the audit can say "channel ops changed"
without keeping the item (a channel URL may hold a token).
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol

Fingerprint = dict[str, dict[str, str]]  # section -> item name -> short hash
SECTIONS = ("rules", "procedures", "channels")


class Named(Protocol):
    """A rule, procedure or channel of the config."""

    name: str

    def model_dump_json(self) -> str: ...


def fingerprint(sections: Mapping[str, Iterable[Named]]) -> Fingerprint:
    """Return the short hash of each item of each of ``SECTIONS``, by name."""
    return {
        section: {item.name: _short_hash(item.model_dump_json()) for item in sections[section]}
        for section in SECTIONS
    }


def describe_changes(before: Fingerprint | None, after: Fingerprint) -> str:
    """Say what was added, removed and changed, one line per section ("" when nothing).

    >>> describe_changes({"rules": {"a": "1", "b": "2"}}, {"rules": {"b": "3", "c": "4"}})
    'rules: added c; removed a; changed b'
    >>> describe_changes(None, {"rules": {"a": "1"}, "channels": {}})
    'first load: rules: added a'
    """
    old = before or {}
    lines = []
    for section in SECTIONS:
        was, now = old.get(section, {}), after.get(section, {})
        parts = [
            f"{verb} {', '.join(sorted(names))}"
            for verb, names in (
                ("added", now.keys() - was.keys()),
                ("removed", was.keys() - now.keys()),
                ("changed", {n for n in now.keys() & was.keys() if now[n] != was[n]}),
            )
            if names
        ]
        if parts:
            lines.append(f"{section}: {'; '.join(parts)}")
    text = "\n".join(lines)
    return f"first load: {text}" if before is None and text else text


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
