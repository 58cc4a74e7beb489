"""The session cookie's one-time tickets: each works once, for a minute, and only itself."""

from app.cookie_handoff import TICKET_LIFETIME_S, Cookie, park, take


def test_a_ticket_hands_over_its_cookie_once():
    cookie = Cookie("vigil_session", "signed", 3600)
    ticket = park(cookie, now=100.0)
    assert take("not-" + ticket, now=100.0) is None
    assert take(ticket, now=101.0) == cookie
    assert take(ticket, now=101.0) is None


def test_a_ticket_expires_after_a_minute():
    ticket = park(Cookie("vigil_session", "", 0), now=100.0)
    assert take(ticket, now=100.0 + TICKET_LIFETIME_S) is None
