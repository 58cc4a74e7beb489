"""The schema of a rule test file (``vigil rules test FILE``), modelled on promtool's."""

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from models.config.alerting import Rule
from models.config.base import Duration, Labels, StrictModel
from models.errors import MatcherError
from models.vocabulary.selectors import parse_selector
from models.vocabulary.series_notation import expand_values


class InputSeries(StrictModel):
    """One series and its values, one every ``interval`` from time 0."""

    series: str = Field(description='The series, e.g. cpu{host="a"} (equality labels only).')
    values: str = Field(description="Values in promtool notation: '50 60 90x5 _ 70'.")

    @field_validator("series")
    @classmethod
    def _series_ok(cls, text: str) -> str:
        try:
            selector = parse_selector(text)
        except MatcherError as exc:
            raise ValueError(str(exc)) from None
        if selector.name is None or any(m.op != "=" for m in selector.matchers):
            raise ValueError(
                f'{text!r}: write a metric name and exact labels, like cpu{{host="a"}}'
            )
        return text

    @field_validator("values")
    @classmethod
    def _values_ok(cls, text: str) -> str:
        expand_values(text)
        return text


class ExpectedAlert(StrictModel):
    """A firing alert expected at ``eval_time``."""

    exp_labels: Labels = Field(default_factory=dict, description="Every label but alertname.")
    exp_annotations: dict[str, str] | None = Field(
        None, description="Rendered annotations (checked only when given)."
    )


class AlertTest(StrictModel):
    """At ``eval_time``, the firing alerts of ``alertname`` are exactly ``exp_alerts``."""

    eval_time: Duration = Field(description="Time since the first sample, e.g. 10m.")
    alertname: str = Field(description="The rule whose firing alerts are checked.")
    exp_alerts: list[ExpectedAlert] = Field(default_factory=list, description="[]: none firing.")


class RuleTestCase(StrictModel):
    """Input series and the alerts expected from them."""

    name: str = Field("", description="Shown in the report.")
    interval: Duration = Field(timedelta(minutes=1), description="Time between two values.")
    input_series: list[InputSeries] = Field(default_factory=list)
    alert_rule_test: list[AlertTest] = Field(default_factory=list)


class RuleTestFile(StrictModel):
    """Rules (inline or from vigil.yaml files) and the test cases run against them."""

    rule_files: list[str] = Field(
        default_factory=list, description="vigil.yaml files (relative to this file)."
    )
    rules: list[Rule] = Field(default_factory=list, description="Rules written here.")
    evaluation_interval: Duration = Field(
        timedelta(seconds=15), description="How often the engine is swept (alert-sweep)."
    )
    tests: list[RuleTestCase] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_rules(self) -> "RuleTestFile":
        if not self.rule_files and not self.rules:
            raise ValueError("name the rules to test: `rule_files: [vigil.yaml]` or `rules:`")
        return self
