"""What each service receives: notices shaped per medium, sent through apprise's own plugins.

Mattermost, ntfy and Gotify are self-hostable, so their URLs point at a loopback receiver.
Slack and Twilio have fixed cloud hosts, unreachable offline: their requests are redirected
to the loopback receiver at the HTTP layer (tests/notify/receivers.py, the one fake here).
"""

import email
import json

import pytest

from models.config import parse_config
from models.errors import ConfigError
from models.vocabulary.media import Medium
from tasks.core.alerting.messages import AlertView, Links
from tasks.core.notify.shape import Notice, shape
from tasks.notify.channels import ChannelSpec, deliver
from tests.alerting.helpers import T0, outbox, write
from tests.notify.receivers import Receiver, redirect_to

FP = "3f2a9c0d1e2b4a5f8c7d6e5f4a3b2c1d"
LABELS = {
    "alertname": "DiskFull",
    "severity": "critical",
    "target": "db-1",
    "instance": "db-1:9100",
    "job": "node",
}
LINKS = Links("http://vigil.example:8501", "http://prefect.example/runs/flow-run/7f3c")
TIMELINE = f"http://vigil.example:8501/alerts?fingerprint={FP}"
RUN = "http://prefect.example/runs/flow-run/7f3c"
FIRING = AlertView(FP, LABELS, 97.0, T0, None, {"summary": "disk at 97%"})
RESOLVED = AlertView(FP, LABELS, 41.0, T0, T0 + 754, {"summary": "disk at 97%"}, "recovery run 42")
SLACK_URL = "slack://T1ABCDEFG/B2ABCDEFG/abcdefghijklmnopqrstuvwx"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_URL = f"twilio://{TWILIO_SID}:authtoken0123456789abcdef01234567@+15551234567/+15557654321"
ICONS = "https://github.com/caronc/apprise/raw/master/apprise/assets/themes/default"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def send(medium: Medium, url: str, notice: Notice) -> None:
    shaped = shape(medium, notice)
    deliver(ChannelSpec(url, medium, timeout_s=5), shaped.title, shaped.body, shaped.notify_type)


def test_slack_gets_a_red_attachment_with_fields_and_both_links(receiver, monkeypatch):
    redirect_to(monkeypatch, receiver, {"hooks.slack.com"})
    send(Medium.SLACK, SLACK_URL, Notice("firing", [FIRING], [], LINKS))
    (got,) = receiver.answered
    assert (got.host, got.path) == (
        "hooks.slack.com",
        "/services/T1ABCDEFG/B2ABCDEFG/abcdefghijklmnopqrstuvwx",
    )
    payload = got.json()
    assert isinstance(payload["attachments"][0].pop("ts"), float)  # apprise stamps the time
    assert payload == {
        "mrkdwn": True,
        "attachments": [
            {
                "title": "[FIRING:1] DiskFull on db-1",
                "text": "\n".join(
                    [
                        "🔥 *DiskFull* on db-1: disk at 97%",
                        "*severity:* critical | *target:* db-1 | *instance:* db-1:9100"
                        " | *job:* node | *value:* 97",
                        f"<{TIMELINE}|Timeline>",
                        f"<{RUN}|Prefect run (approve here)>",
                    ]
                ),
                "color": "#A32037",  # critical: apprise's failure colour
                "footer_icon": f"{ICONS}/apprise-failure-72x72.png",
                "footer": "Apprise",
            }
        ],
        "icon_url": f"{ICONS}/apprise-failure-72x72.png",
    }


def test_a_slack_resolve_notice_is_green_and_says_how_long_and_what_fixed_it(receiver, monkeypatch):
    redirect_to(monkeypatch, receiver, {"hooks.slack.com"})
    send(Medium.SLACK, SLACK_URL, Notice("resolved", [], [RESOLVED], LINKS))
    (attachment,) = receiver.answered[0].json()["attachments"]
    assert attachment["title"] == "[RESOLVED] DiskFull on db-1"
    assert attachment["color"] == "#3AA337"  # apprise's success colour
    assert attachment["text"].splitlines() == [
        "✅ *DiskFull* on db-1: disk at 97%",
        "*severity:* critical | *target:* db-1 | *instance:* db-1:9100 | *job:* node | *value:* 41",
        "resolved after 12m 34s, fixed by recovery run 42",
        f"<{TIMELINE}|Timeline>",
        f"<{RUN}|Prefect run (approve here)>",
    ]


def test_mattermost_gets_markdown_with_the_same_facts(receiver):
    send(
        Medium.CHAT,
        f"mmost://{receiver.address}/abcdefghijklmnopqrstuvwxyz",
        Notice("firing", [FIRING], [], LINKS),
    )
    (got,) = receiver.answered
    assert got.path == "/hooks/abcdefghijklmnopqrstuvwxyz"
    assert got.json() == {
        "text": "\r\n".join(  # Mattermost has no title: apprise puts it on the first line
            [
                "[FIRING:1] DiskFull on db-1",
                "\n".join(
                    [
                        "🔥 **DiskFull** on db-1: disk at 97%",
                        "**severity:** critical | **target:** db-1 | **instance:** db-1:9100"
                        " | **job:** node | **value:** 97",
                        f"[Timeline]({TIMELINE})",
                        f"[Prefect run (approve here)]({RUN})",
                    ]
                ),
            ]
        ),
        "icon_url": f"{ICONS}/apprise-failure-72x72.png",
        "username": "Apprise",
    }


def test_ntfy_and_gotify_get_a_title_and_one_line_per_alert(receiver):
    notice = Notice("firing", [FIRING], [], LINKS)
    send(Medium.PUSH, f"ntfy://{receiver.address}/vigil", notice)
    send(Medium.PUSH, f"gotify://{receiver.address}/abcdefghijklmno", notice)
    ntfy, gotify = receiver.answered
    line = f"DiskFull on db-1: disk at 97% {TIMELINE}"
    assert (ntfy.path, ntfy.json()) == (
        "/",
        {"topic": "vigil", "title": "[FIRING:1] DiskFull on db-1", "message": line},
    )
    assert (gotify.path, gotify.headers["X-Gotify-Key"]) == ("/message", "abcdefghijklmno")
    assert gotify.json() == {"priority": 5, "title": "[FIRING:1] DiskFull on db-1", "message": line}


def test_twilio_gets_one_sms_line(monkeypatch):
    twilio = Receiver(reply=b'{"sid": "SM1"}', status=201).start()
    redirect_to(monkeypatch, twilio, {"api.twilio.com"})
    try:
        send(Medium.SMS, TWILIO_URL, Notice("firing", [FIRING], [], LINKS))
        send(Medium.SMS, TWILIO_URL, Notice("resolved", [], [RESOLVED], LINKS))
    finally:
        twilio.stop()
    firing, resolved = twilio.answered
    assert (firing.host, firing.path) == (
        "api.twilio.com",
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
    )
    assert firing.form() == {
        "Body": [f"CRIT DiskFull db-1 {TIMELINE}"],
        "From": ["+15551234567"],
        "To": ["+15557654321"],
    }
    assert resolved.form()["Body"] == [f"OK DiskFull db-1 after 12m 34s {TIMELINE}"]


def test_the_webhook_gets_the_versioned_document(receiver):
    notice = Notice("resolved", [], [RESOLVED], LINKS)
    send(Medium.WEBHOOK, f"json://{receiver.address}/vigil", notice)
    (got,) = receiver.answered
    assert (got.path, got.headers["Content-Type"]) == ("/vigil", "application/json")
    assert got.json() == {
        "version": "1",
        "schema": "vigil.webhook",
        "kind": "resolved",
        "status": "resolved",
        "title": "[RESOLVED] DiskFull on db-1",
        "commonLabels": LABELS,
        "externalURL": "http://vigil.example:8501",
        "prefectRunURL": RUN,
        "alerts": [
            {
                "status": "resolved",
                "fingerprint": FP,
                "labels": LABELS,
                "annotations": {"summary": "disk at 97%"},
                "value": 41.0,
                "startsAt": "2026-03-01T12:00:00Z",
                "endsAt": "2026-03-01T12:12:34Z",
                "lastedSeconds": 754,
                "fixedBy": "recovery run 42",
                "timelineURL": TIMELINE,
            }
        ],
    }


def test_email_has_an_html_and_a_text_part_with_the_same_links(smtp):
    box, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=vigil@example.com&to=ops@example.com&mode=insecure"
    send(Medium.EMAIL, url, Notice("resolved", [], [RESOLVED], LINKS))
    (_, _, raw) = box.messages[0]
    message = email.message_from_string(raw)
    assert message["Subject"] == "[RESOLVED] DiskFull on db-1"
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in message.walk()
        if not p.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    html, text = parts["text/html"], parts["text/plain"]
    assert f'<a href="{TIMELINE}">Timeline</a>' in html
    assert f'<a href="{RUN}">Prefect run (approve here)</a>' in html
    assert "<th>resolved</th><td>resolved after 12m 34s, fixed by recovery run 42</td>" in html
    assert "resolved after 12m 34s, fixed by recovery run 42" in text and "<" not in text


def test_a_template_in_vigil_yaml_reshapes_a_medium_and_bad_ones_are_refused(
    make_alert_engine, receiver
):
    yaml = f"""
rules:
  - {{name: DiskFull, series: disk_used, value: 90, severity: critical}}
channels:
  - {{name: team, url: "mmost://{receiver.address}/abcdefghijklmnopqrstuvwxyz"}}
alerting:
  default: {{group_wait: 0s}}
  templates:
    chat:
      body: "{{{{ severity | upper }}}} {{{{ alertname }}}} at {{{{ target }}}}: {{{{ link }}}}"
"""
    engine = make_alert_engine(yaml)
    write(engine, T0, [("disk_used", {"target": "db-1"}, 97.0)])
    engine.sweep(T0 + 1)
    (got,) = receiver.answered
    text = got.json()["text"]
    assert text.startswith("[FIRING:1] DiskFull on db-1\r\nCRITICAL DiskFull at db-1: ")
    (fingerprint,) = json.loads(outbox(engine)[0]["fingerprints"])
    assert text.endswith(f"/alerts?fingerprint={fingerprint}")
    refused = "vigil.yaml:10: alerting.templates.chat.body: unknown variable 'colour' in template"
    with pytest.raises(ConfigError, match=refused):
        parse_config(yaml.replace("{{ target }}", "{{ colour }}"))
