"""An SMS is one line of at most 160 GSM-7 characters, whatever the alert: never multi-part."""

from hypothesis import given, settings
from hypothesis import strategies as st

from models.vocabulary.media import Medium
from tasks.core.alerting.messages import AlertView, Links
from tasks.core.notify.shape import Notice, Override, shape
from tasks.core.notify.sms import GSM_BASIC, GSM_EXTENDED, SMS_LIMIT, sms_units
from tests.alerting.helpers import T0

FP = "3f2a9c0d1e2b4a5f8c7d6e5f4a3b2c1d"
LINKS = Links("https://vigil.operations.example.com:8501/", None)
LINK = f"https://vigil.operations.example.com:8501/alerts?fingerprint={FP}"


def assert_one_sms(text: str) -> None:
    assert "\n" not in text and "\r" not in text
    assert all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)  # no switch to UCS-2
    assert sms_units(text) <= SMS_LIMIT


def test_the_longest_alert_name_and_label_set_stay_within_one_sms():
    name = "Very_long_rule_name_" * 20  # rule names have no length limit
    labels = {f"label_{i}": "välue-ünicode-✓-{[~]}" * 5 for i in range(50)}
    labels |= {
        "alertname": name,
        "severity": "critical",
        "target": "database-primary-eu-west-1.internal.example.com-✓" * 4,
    }
    alert = AlertView(FP, labels, 1e300, T0, T0 + 86400 * 400, {"summary": "x" * 5000})
    for notice in (
        Notice("escalation", [alert], [], LINKS),
        Notice("resolved", [], [alert], LINKS),
        Notice("firing", [alert] * 30, [], LINKS),
    ):
        shaped = shape(Medium.SMS, notice)
        assert_one_sms(shaped.body)
        assert shaped.title == ""  # apprise would put a title on its own line
    body = shape(Medium.SMS, Notice("firing", [alert], [], LINKS)).body
    assert body.startswith("CRIT Very_long_rule_name_") and body.endswith(f"... {LINK}")
    assert len(body) == SMS_LIMIT  # clipped to fill exactly one SMS, the link kept whole


def test_a_users_sms_template_is_clipped_to_one_sms_too():
    alert = AlertView(FP, {"alertname": "Cpu", "target": "web-1"}, 0.97, T0)
    override = Override(body="{% for a in alerts %}{{ a.summary }} {{ a.labels }}\n{% endfor %}")
    body = shape(Medium.SMS, Notice("firing", [alert] * 40, [], LINKS), override).body
    assert_one_sms(body)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=400),
    target=st.text(max_size=400),
    dashboard=st.text(alphabet="abcdefghij.:/", min_size=1, max_size=120),
)
def test_any_alert_makes_one_sms(name: str, target: str, dashboard: str):
    alert = AlertView(FP, {"alertname": name, "target": target}, None, T0)
    assert_one_sms(shape(Medium.SMS, Notice("firing", [alert], [], Links(dashboard))).body)
