import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.vocabulary.redact import redact_url, redact_urls, url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "mailtos://ops:pw@mail.example.com?to=ops@example.com",
            "mailtos://***@mail.example.com?to=ops@example.com",
        ),
        ("json://u:p@ss:w@rd@127.0.0.1:8080/x", "json://***@***/***"),  # unencoded @: all masked
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/***"),
        ("tgram://123456789:abcdefg_hijklmnop/lead2gold/", "tgram://***/***"),
        (
            "json://[::1]:9/x?password=a&b=c&api_key=d",
            "json://[::1]:9/***?password=***&b=c&api_key=***",
        ),
        ("json://u:p#frag@host.example/x", "json://***@host.example/***"),
        ("json://host.example:8080/x?to=a@b.c", "json://***@b.c"),  # over-masked, never leaks
        ("json://localhost", "json://localhost"),
    ],
)
def test_a_url_keeps_its_scheme_and_host_and_loses_its_credentials(url, shown):
    assert redact_url(url) == shown


def test_urls_in_text_are_redacted_and_the_text_around_them_kept():
    text = "failed: json://bob:s3cr3t@alerts.example.com/hook. Retry (ntfy://tok3nXYZ)."
    assert redact_urls(text) == "failed: json://***@alerts.example.com/***. Retry (ntfy://***)."


def test_the_secret_parts_of_a_url_are_listed_for_scrubbing_bare_mentions():
    assert url_secrets("mailtos://ops:pw9@mail.example.com/notify?to=a@b.c&token=x1") == [
        "ops:pw9",
        "pw9",
        "x1",
    ]


# anything a URL password may hold unencoded, and more ("@", "/" and spaces must be encoded)
_PASSWORD = st.text(
    st.characters(blacklist_categories=["Cs", "Cc", "Zs", "Zl", "Zp"], blacklist_characters="@/"),
    min_size=4,
    max_size=30,
)


@given(password=_PASSWORD, scheme=st.sampled_from(["json", "mailtos", "foo", "https"]))
def test_a_password_never_survives_redaction_of_a_url_or_a_text(password, scheme):
    url = f"{scheme}://admin:{password}@mail.example.com/x"
    assert password not in redact_url(url).removeprefix(f"{scheme}://")
    scrubbed = redact_urls(f"error at {url}: denied")
    for secret in url_secrets(url):
        scrubbed = scrubbed.replace(secret, "***")
    assert password not in scrubbed.removeprefix("error at ").removeprefix(f"{scheme}://")
