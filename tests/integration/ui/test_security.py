"""The inspector's guards: sign-in, the session cookie, CSRF, read-only tokens, secrets."""

from __future__ import annotations

import httpx

from emitflow.api.credentials import make_token
from emitflow.runtime.engine import Engine
from tests.integration.ui.conftest import ADMIN_TOKEN, SECRET, sign_in

LEAKY = """
document: {dsl: "1.0.0", namespace: test, name: leaky, version: "0.1.0"}
use:
  secrets: [apiKey]
do:
  - show:
      set:
        key: ${ $secrets.apiKey }
        shout: ${ "key=" + $secrets.apiKey }
"""


async def test_a_page_without_the_cookie_redirects_to_sign_in(
    anonymous: httpx.AsyncClient,
) -> None:
    for path in ("/ui", "/ui/events", "/ui/subscriptions", "/ui/runs/r_x", "/ui/workflows/p_x"):
        answer = await anonymous.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/ui/signin?next=")
    root = await anonymous.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/ui"


async def test_signing_in_sets_a_strict_http_only_cookie_and_never_echoes_the_token(
    anonymous: httpx.AsyncClient,
) -> None:
    answer = await anonymous.post("/ui/signin", data={"token": ADMIN_TOKEN, "next": "/ui"})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert ADMIN_TOKEN not in answer.headers["set-cookie"]
    page = await anonymous.get("/ui")
    assert page.status_code == 200 and ADMIN_TOKEN not in page.text


async def test_a_wrong_token_is_refused_on_the_form(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.post("/ui/signin", data={"token": "nope", "next": "/ui"})
    assert answer.status_code == 401
    assert "not valid" in answer.text and "set-cookie" not in answer.headers


async def test_next_cannot_leave_the_inspector(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.post(
        "/ui/signin", data={"token": ADMIN_TOKEN, "next": "//evil.example/ui"}
    )
    assert answer.headers["location"] == "/ui"


async def test_a_form_posted_without_the_csrf_token_is_refused(
    browser: tuple[httpx.AsyncClient, str], engine: Engine
) -> None:
    http, csrf = browser
    await engine.deploy(LEAKY)
    no_token = await http.post("/ui/workflows", data={"text": LEAKY})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = await http.post("/ui/workflows", data={"text": LEAKY, "csrf": csrf + "x"})
    assert wrong.status_code == 403
    sub = await http.post("/ui/subscriptions", data={"emitter_id": "p_a", "listener_id": "p_b"})
    assert sub.status_code == 403
    assert await engine.subscriptions() == []


async def test_a_read_only_token_sees_pages_but_no_forms(
    anonymous: httpx.AsyncClient, engine: Engine
) -> None:
    _, secret = await make_token(
        engine.store, name="viewer", scopes=["read"], now=engine.settings.clock.now()
    )
    csrf = await sign_in(anonymous, secret)
    page = await anonymous.get("/ui")
    assert "Deploy a workflow" not in page.text and "(read-only)" in page.text
    subs = await anonymous.get("/ui/subscriptions")
    assert 'action="/ui/subscriptions"' not in subs.text
    refused = await anonymous.post("/ui/workflows", data={"text": LEAKY, "csrf": csrf})
    assert refused.status_code == 403 and "only read" in refused.text
    assert await engine.workflows() == []


async def test_a_workflow_secret_never_appears_in_any_page(
    browser: tuple[httpx.AsyncClient, str], engine: Engine
) -> None:
    http, _ = browser
    version = await engine.deploy(LEAKY)
    run = await engine.start(version.id)
    assert run.status == "completed"
    pages = [
        "/ui",
        f"/ui/workflows/{version.id}",
        f"/ui/runs/{run.id}",
        "/ui/events",
        "/ui/subscriptions",
    ]
    events = await engine.find_events(limit=50)
    pages += [f"/ui/events/{stored.position}" for stored in events.items]
    for path in pages:
        answer = await http.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert SECRET not in answer.text, path
    run_page = (await http.get(f"/ui/runs/{run.id}")).text
    assert "***" in run_page  # the value is there, masked


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(
    browser: tuple[httpx.AsyncClient, str],
) -> None:
    http, csrf = browser
    refused = await http.post("/ui/signout", data={})
    assert refused.status_code == 403
    assert (await http.get("/ui")).status_code == 200
    out = await http.post("/ui/signout", data={"csrf": csrf})
    assert out.status_code == 303
    assert (await http.get("/ui")).status_code == 303
