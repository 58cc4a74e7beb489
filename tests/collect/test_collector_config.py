from datetime import timedelta

import pytest

from models.config import load_config, parse_config
from models.errors import ConfigError


def test_collector_sections_default_to_the_issue_retention_and_read_durations():
    config = parse_config(
        "collectors:\n"
        "  processes:\n"
        "    watch:\n"
        "      - {name: web, process_name: nginx}\n"
        "  scrapes:\n"
        "    - {job: node, url: 'http://127.0.0.1:9100/metrics', interval: 30s}\n"
        "  push: {enabled: true, tokens: [{name: ci, token_env: CI_TOKEN}]}\n"
    )
    section = config.collectors
    assert section.retention.raw == timedelta(days=7)
    assert section.retention.rollup_1m == timedelta(days=14)
    assert section.retention.rollup_1h == timedelta(days=400)
    assert section.scrapes[0].interval == timedelta(seconds=30)
    assert section.processes.watch[0].process_name == "nginx"
    assert section.push.max_ahead == timedelta(minutes=5)


def test_collector_mistakes_are_reported_with_file_line_and_field(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "collectors:\n"
        "  processes:\n"
        "    watch:\n"
        "      - name: web\n"
        "        process_name: nginx\n"
        "        cmdline: nginx.*master\n"
        "  scrapes:\n"
        "    - job: node\n"
        "      url: 127.0.0.1:9100\n"
        "  retention:\n"
        "    raw: 60d\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}:4: collectors.processes.watch[0]: "
        "give exactly one of process_name, cmdline or pid_file",
        f"{path}:9: collectors.scrapes[0].url: String should match pattern '^https?://' "
        "(got '127.0.0.1:9100')",
        f"{path}:10: collectors.retention: "
        "keep rollup_1h at least as long as rollup_1m, and that as raw",
    ]
