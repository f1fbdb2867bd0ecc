"""Inspector sessions: opaque ids, kept by digest, that expire and end."""

from __future__ import annotations

from emitflow.api.auth import Principal, Scope
from emitflow.ui.session import Sessions

ADMIN = Principal(token_id="tok_a", scopes=frozenset({Scope.ADMIN}))
READER = Principal(token_id="tok_r", scopes=frozenset({Scope.READ}))


def test_a_session_is_found_by_its_cookie_and_ends() -> None:
    sessions = Sessions()
    cookie = sessions.start(ADMIN)
    found = sessions.find(cookie)
    assert found is not None and found.principal == ADMIN and found.can_write
    assert len(found.csrf) >= 24
    assert cookie not in repr(sessions.__dict__)  # kept by digest only
    sessions.end(cookie)
    assert sessions.find(cookie) is None


def test_unknown_empty_and_expired_cookies_find_nothing() -> None:
    sessions = Sessions(ttl=-1.0)
    cookie = sessions.start(READER)
    assert sessions.find(cookie) is None  # already past its time
    assert Sessions().find(None) is None and Sessions().find("made-up") is None


def test_a_read_token_cannot_write() -> None:
    sessions = Sessions()
    found = sessions.find(sessions.start(READER))
    assert found is not None and not found.can_write
