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


def test_the_starter_watches_this_host_and_vigil_itself_with_every_part():
    from models.config.starter import StarterPorts

    ports = StarterPorts(prefect=4300, push=9300, dashboard=8600)
    config = parse_config(starter_config(host="web-1", ports=ports))
    kinds = {c.name: c.type for c in config.checks}
    assert kinds == {
        "prefect-api": "http",
        "dashboard": "http",
        "vigil-ready": "http",
        "vigil-serve-process": "process",
    }
    urls = {c.name: getattr(c, "url", None) for c in config.checks}
    assert urls["prefect-api"] == "http://127.0.0.1:4300/api/health"
    assert urls["dashboard"] == "http://127.0.0.1:8600/_stcore/health"
    assert urls["vigil-ready"] == "http://127.0.0.1:9300/readyz"
    rules = {r.name: r for r in config.rules}
    for name in ("HostDiskFull", "HostMemoryHigh", "HostCpuBusy"):
        assert [t.severity for t in rules[name].tiers] == ["warning", "critical"]
        assert all(t.clear is not None for t in rules[name].tiers)
    assert (rules["DiskFullWithin24h"].kind, rules["DiskFullWithin24h"].within) == (
        "forecast",
        timedelta(hours=24),
    )
    assert rules["CpuUnusual"].min_history == timedelta(hours=1)
    assert rules["HostMetricsMissing"].kind == "absence"
    assert {"VigilNotificationsFailing", "VigilChecksLate", "VigilNotReady"} <= set(rules)
    assert config.collectors.scrapes[0].url == "http://127.0.0.1:9300/metrics"
    assert [c.url for c in config.channels] == [
        "vigil://inbox",
        "vigil://log/.vigil/notifications.log",
    ]
    (procedure,) = config.procedures
    assert procedure.dry_run and rules["VigilNotReady"].procedure == procedure.name
    assert set(config.analytics.series) == {"host_disk_used_percent", "host_cpu_percent"}


def test_the_starter_checks_a_postgresql_store_over_tcp():
    on_pg = starter_config(database_url="postgresql://vigil@10.0.0.9:5433/vigil")
    (store,) = [c for c in parse_config(on_pg).checks if c.name == "store"]
    assert (store.type, store.host, store.port) == ("tcp", "10.0.0.9", 5433)
    assert "store" not in {c.name for c in parse_config(starter_config()).checks}


def test_a_vigil_channel_url_is_the_inbox_or_a_log_file(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text(
        "channels:\n  - {name: a, url: 'vigil://inbox'}\n  - {name: b, url: 'vigil://mail'}\n"
    )
    with pytest.raises(ConfigError, match=r"vigil.yaml:3: channels\[1\].url: .*vigil://inbox and"):
        load_config(path)
