"""No example rots: every YAML snippet in README.md and docs/*.md parses, and each one made
of vigil.yaml sections is a config `vigil validate` accepts (a snippet whose first line is
a comment naming another file, such as ``# prometheus.yml``, is only parsed)."""

import re
from pathlib import Path

import pytest
import yaml

from models.config import load_config
from models.config.root import VigilConfig
from models.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)


def snippets() -> list[tuple[str, str]]:
    """(file:line, text) of every ```yaml block in the README and docs/."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 2
            found.append((f"{path.relative_to(REPO)}:{line}", match.group(1)))
    return found


def test_the_docs_have_yaml_examples_to_check():
    assert len(snippets()) >= 8
    assert (REPO / "docs" / "configuration.md").exists()


@pytest.mark.parametrize(("where", "text"), snippets(), ids=[w for w, _ in snippets()])
def test_every_yaml_example_parses_and_configs_validate(where, text, tmp_path):
    data = yaml.safe_load(text)
    assert data, f"{where}: an empty example"
    is_other_file = re.match(r"# [\w.-]+\.ya?ml\b", text) and not text.startswith("# vigil.yaml")
    if isinstance(data, dict) and set(data) <= set(VigilConfig.model_fields) and not is_other_file:
        path = tmp_path / "vigil.yaml"
        path.write_text(text)
        try:
            load_config(path)
        except ConfigError as error:  # its line counts from the snippet's first line
            pytest.fail(f"{where}: {error}")
