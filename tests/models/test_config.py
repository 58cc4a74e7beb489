from datetime import timedelta

import pytest

from models.config import load_config, parse_config
from models.config.starter import starter_config
from models.errors import ConfigError


def test_the_starter_config_is_valid_and_watches_this_host():
    config = parse_config(starter_config(host="web-1"))
    assert [t.name for t in config.targets] == ["web-1"]
    assert config.collectors.host.target == "web-1"
    assert config.collectors.host.interval == timedelta(seconds=10)


def test_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "targets:\n"
        "  - name: web-1\n"
        "    kind: host\n"
        "  - name: db-1\n"
        "    kind: database\n"
        "collectors:\n"
        "  host:\n"
        "    interval: 5 seconds\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:5: targets[1].kind: Input should be 'host' or 'service' (got 'database')",
        f"{path}:8: collectors.host.interval: '5 seconds' is not a duration; "
        "write it like 30s, 5m, 1h30m or 7d",
    ]


def test_a_missing_field_points_at_its_parent():
    text = "targets:\n  - kind: host\n    address: 10.0.0.1\n"
    with pytest.raises(ConfigError, match=r"^vigil.yaml:2: targets\[0\].name: Field required$"):
        parse_config(text)


def test_unknown_keys_are_typos_not_silence():
    with pytest.raises(
        ConfigError, match=r"vigil.yaml:3: collectors.host.intervall: unknown field"
    ):
        parse_config("collectors:\n  host:\n    intervall: 10s\n")


def test_duplicate_and_unknown_targets_are_located():
    text = "targets:\n  - name: a\n  - name: b\n    depends_on: [c]\n"
    with pytest.raises(
        ConfigError, match=r"vigil.yaml:4: targets\[1\].depends_on: depends on unknown target 'c'"
    ):
        parse_config(text)
    with pytest.raises(
        ConfigError, match=r"vigil.yaml:3: targets\[1\].name: target 'a' is defined twice"
    ):
        parse_config("targets:\n  - name: a\n  - name: a\n")


def test_broken_yaml_names_the_line():
    with pytest.raises(ConfigError, match=r"^vigil.yaml:3: not valid YAML"):
        parse_config("targets:\n  - name: a\n   bad: [\n")


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="no such file; `vigil init` writes a starter config"):
        load_config(tmp_path / "absent.yaml")


def test_labels_are_checked_everywhere():
    with pytest.raises(ConfigError, match=r"vigil.yaml:2: labels.__x: label name '__x' must match"):
        parse_config("labels:\n  __x: y\n")


def test_an_empty_file_is_an_empty_config():
    assert parse_config("").targets == []
