"""The configuration audit: every `vigil up` records the hash of vigil.yaml and what changed."""

import hashlib

from sqlmodel import Session, select
from typer.testing import CliRunner

from models.access import ConfigLoad
from models.db import make_engine
from vigil.cli import app

BASE = """
channels:
  - {name: ops, url: "json://127.0.0.1:9/hook?token=ch-secret-1"}
rules:
  - {name: cpu_high, series: cpu, op: ">", value: 90}
  - {name: disk_full, series: disk, op: ">", value: 95}
"""


def up_check(tmp_path, monkeypatch, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "vigil.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    result = CliRunner().invoke(app, ["up", "--check", "--db", url])
    assert result.exit_code == 0, result.output
    return result, url


def loads(url: str) -> list[ConfigLoad]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.exec(select(ConfigLoad).order_by(ConfigLoad.id)))
    engine.dispose()
    return rows


def test_each_load_records_the_hash_and_what_changed_without_the_secrets(tmp_path, monkeypatch):
    up_check(tmp_path, monkeypatch, BASE)
    up_check(tmp_path, monkeypatch, BASE)  # unchanged: nothing new to record
    changed = BASE.replace("value: 95", "value: 97").replace("ch-secret-1", "ch-secret-2")
    changed = changed.replace(
        "  - {name: cpu_high",
        "  - {name: mem_high, series: mem, value: 1}\n  - {name: cpu_high",
    )
    changed = changed.replace('  - {name: cpu_high, series: cpu, op: ">", value: 90}\n', "")
    result, url = up_check(tmp_path, monkeypatch, changed)
    rows = loads(url)
    assert [r.process for r in rows] == ["vigil up", "vigil up"]
    first, second = rows
    assert first.diff == "first load: rules: added cpu_high, disk_full\nchannels: added ops"
    assert second.diff == (
        "rules: added mem_high; removed cpu_high; changed disk_full\nchannels: changed ops"
    )
    assert second.sha256 == hashlib.sha256(changed.encode()).hexdigest()
    assert "@" in second.started_by and second.path == str((tmp_path / "vigil.yaml").resolve())
    assert "config changed since the last load: rules: added mem_high" in result.output
    dumped = repr([r.model_dump() for r in rows])
    assert "ch-secret" not in dumped  # a channel's URL is fingerprinted, never kept
