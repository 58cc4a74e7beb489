"""An alert's email carries the last hour of its breaching series as an inline (cid:) chart,
sent by the sweep through apprise to a real SMTP server on loopback and parsed as received."""

import email
import io
from email.message import Message

from PIL import Image

from models.store import NewSample
from tests.alerting.helpers import T0, outbox, write

YAML = """
rules:
  - {{name: DiskFull, series: disk_used, value: 90, severity: critical}}
channels:
  - name: mail
    url: "mailto://127.0.0.1:{port}?from=vigil@example.com&to=ops@example.com&mode=insecure"
alerting:
  default: {{group_wait: 0s}}
"""
DISK = {"target": "db-1", "mount": "/"}


def parts_of(raw: str) -> tuple[Message, dict[str, Message]]:
    message = email.message_from_string(raw)
    return message, {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}


def test_the_firing_email_shows_the_series_last_hour_as_an_inline_image(make_alert_engine, smtp):
    box, port = smtp
    engine = make_alert_engine(YAML.format(port=port))
    history = [NewSample("disk_used", DISK, T0 - 3600 + 60 * i, 50.0 + i) for i in range(60)]
    engine.store.write(history)
    write(engine, T0, [("disk_used", DISK, 97.0)])
    engine.sweep(T0 + 1)
    (_, _, raw) = box.messages[0]
    message, parts = parts_of(raw)
    assert message.get_content_type() == "multipart/related"  # RFC 2387: parts shown in place
    assert set(parts) == {"text/plain", "text/html", "image/png"}
    html = parts["text/html"].get_payload(decode=True).decode()
    assert '<img src="cid:chart-1.png" alt="the last hour of DiskFull&#x27;s series">' in html
    image = parts["image/png"]
    assert image["Content-ID"] == "<chart-1.png>"
    assert image["Content-Disposition"].startswith("inline")
    picture = Image.open(io.BytesIO(image.get_payload(decode=True)))
    assert picture.size == (480, 176)
    assert len(picture.convert("RGB").getcolors(10_000) or []) > 20  # a drawn chart, not blank
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "DiskFull" in text and "base64" not in text
    assert "data:image/png" in outbox(engine)[0]["body"]  # the stored row keeps the chart


def test_an_alert_without_history_gets_its_email_without_a_chart(make_alert_engine, smtp):
    box, port = smtp
    engine = make_alert_engine(YAML.format(port=port))
    write(engine, T0, [("disk_used", DISK, 97.0)])  # one point: nothing to draw
    engine.sweep(T0 + 1)
    (_, _, raw) = box.messages[0]
    message, parts = parts_of(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert set(parts) == {"text/plain", "text/html"}
    assert "<img" not in parts["text/html"].get_payload(decode=True).decode()
