from datetime import timedelta

import pytest
from synthetic import seed_series
from typer.testing import CliRunner

from models.config import load_config
from models.db import make_engine
from models.errors import ConfigError
from models.store import MetricStore
from vigil.cli import app

runner = CliRunner()


def test_the_analytics_section_reads_durations_and_choices(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text("analytics:\n  series: [disk_used_ratio]\n  horizon: 3d\n  detector: cusum\n")
    analytics = load_config(path).analytics
    assert analytics.horizon == timedelta(days=3) and analytics.detector == "cusum"
    assert analytics.retrain_every == timedelta(days=1) and analytics.dask_address is None


def test_a_bad_analytics_value_names_file_line_and_field(tmp_path):
    path = tmp_path / "vigil.yaml"
    path.write_text("analytics:\n  horizon: 1d\n  drift_threshold: 0.5\n  detector: magic\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{path}:3: analytics.drift_threshold: Input should be greater")
    assert lines[1].startswith(f"{path}:4: analytics.detector: Input should be 'contextual'")


def test_forecast_and_models_list_commands(sqlite_url_with_series):
    url = sqlite_url_with_series
    empty = runner.invoke(app, ["models", "list", "--db", url])
    assert empty.exit_code == 0 and "no model versions yet" in empty.output
    result = runner.invoke(app, ["forecast", "disk_used_ratio", "--db", url, "--threshold", "0.9"])
    assert result.exit_code == 0, result.output
    assert 'disk_used_ratio{host="web-1",mount="/"}: backtest choice' in result.output
    assert "crosses 0.9:" in result.output and "probability" in result.output
    missing = runner.invoke(app, ["forecast", "nothing_here", "--db", url])
    assert missing.exit_code == 1 and "must match exactly one series" in missing.output


@pytest.fixture
def sqlite_url_with_series(tmp_path):
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_series(MetricStore(engine))
    engine.dispose()
    return url


def test_a_dask_address_selects_the_dask_task_runner():
    from prefect.task_runners import ThreadPoolTaskRunner

    dask_runner = pytest.importorskip("prefect_dask", reason="optional extra `dask`")

    from tasks.analytics.runners import analytics_task_runner

    assert isinstance(analytics_task_runner("tcp://127.0.0.1:8786"), dask_runner.DaskTaskRunner)
    assert isinstance(analytics_task_runner(None), ThreadPoolTaskRunner)
