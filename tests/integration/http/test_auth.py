"""Authentication against the stand-in over real HTTP: basic, bearer, digest, OAuth2, OIDC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emitflow.clock import VirtualClock
from emitflow.errors import FaultError, error_kind
from emitflow.http.auth import Authenticator
from emitflow.http.call import perform
from emitflow.http.uritemplate import expand
from tests.standins.fixtures import StandIn
from tests.standins.oauth import ASSERTION, CLIENTS, USERS

HTTPBIN = "https://httpbin.org"
AUTHORITY = "https://petstore.swagger.io"  # routed to the stand-in, like every CTK origin
PROTECTED = AUTHORITY + "/oauth2/protected"
SECRET = CLIENTS["emitflow"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def authenticator(
    client: httpx.AsyncClient, clock: VirtualClock
) -> AsyncIterator[Authenticator]:
    yield Authenticator(client, clock=clock)


def oauth2(client_id: str, **extra: Any) -> dict[str, Any]:
    secret = CLIENTS.get(client_id)
    client: dict[str, Any] = {"id": client_id, **({"secret": secret} if secret else {})}
    client.update(extra.pop("client", {}))
    return {
        "oauth2": {"authority": AUTHORITY, "grant": "client_credentials", "client": client, **extra}
    }


async def test_basic_auth_as_the_ctk_calls_it(
    client: httpx.AsyncClient, authenticator: Authenticator
) -> None:
    values = {"username": "serverless-workflow", "password": "conformance-test"}
    auth = await authenticator.resolve({"basic": dict(values)})
    uri = expand(HTTPBIN + "/basic-auth/{username}/{password}", values)
    answer = await perform(client, method="get", uri=uri, auth=auth)
    assert answer == {"authenticated": True, "user": "serverless-workflow"}


async def test_wrong_basic_credentials_are_a_401(
    client: httpx.AsyncClient, authenticator: Authenticator
) -> None:
    auth = await authenticator.resolve({"basic": {"username": "u", "password": "wrong-pw"}})
    with pytest.raises(FaultError) as caught:
        await perform(client, method="get", uri=HTTPBIN + "/basic-auth/u/right-pw", auth=auth)
    problem = caught.value.problem
    assert (problem.status, problem.title) == (401, "Unauthorized")
    assert "wrong-pw" not in str(problem.to_dict())


async def test_bearer(client: httpx.AsyncClient, authenticator: Authenticator) -> None:
    auth = await authenticator.resolve({"bearer": {"token": "tok-42"}})
    answer = await perform(client, method="get", uri=HTTPBIN + "/bearer", auth=auth)
    assert answer == {"authenticated": True, "token": "tok-42"}


async def test_digest_answers_the_challenge(
    client: httpx.AsyncClient, authenticator: Authenticator
) -> None:
    auth = await authenticator.resolve({"digest": {"username": "dana", "password": "d1gest"}})
    out = await perform(
        client,
        method="get",
        uri=HTTPBIN + "/digest-auth/auth/dana/d1gest",
        auth=auth,
        output="response",
    )
    assert out["content"] == {"authenticated": True, "user": "dana"}
    assert out["request"]["headers"]["authorization"] == "***"


async def test_a_wrong_digest_password_is_a_401(
    client: httpx.AsyncClient, authenticator: Authenticator
) -> None:
    auth = await authenticator.resolve({"digest": {"username": "dana", "password": "nope"}})
    with pytest.raises(FaultError) as caught:
        await perform(
            client, method="get", uri=HTTPBIN + "/digest-auth/auth/dana/d1gest", auth=auth
        )
    assert caught.value.problem.status == 401


async def test_client_credentials_token_is_fetched_once_and_cached(
    client: httpx.AsyncClient, authenticator: Authenticator, petstore: StandIn
) -> None:
    policy = oauth2("emitflow", scopes=["pets:read", "pets:write"], audiences=["petstore"])
    before = petstore.oauth.requests["emitflow"]
    # Concurrent first uses too: one token request, not one per call.
    auths = await asyncio.gather(*(authenticator.resolve(policy) for _ in range(5)))
    auths.append(await authenticator.resolve(policy))
    assert petstore.oauth.requests["emitflow"] - before == 1
    assert len({a.parameter for a in auths}) == 1
    assert auths[0].to_dict()["scheme"] == "Bearer"
    assert await perform(client, method="get", uri=PROTECTED, auth=auths[0]) == {"ok": True}
    last = petstore.oauth.last["emitflow"]
    assert last["client_auth"] == "client_secret_post" and last["encoding"] == "form"
    assert (last["scope"], last["audience"]) == ("pets:read pets:write", "petstore")


async def test_an_expired_token_is_renewed_with_its_refresh_token(
    authenticator: Authenticator, clock: VirtualClock, petstore: StandIn
) -> None:
    policy = oauth2("short-lived")  # the stand-in gives it 60-second tokens
    first = await authenticator.resolve(policy)
    clock.advance(30)
    assert (await authenticator.resolve(policy)).parameter == first.parameter
    clock.advance(30)
    renewed = await authenticator.resolve(policy)
    assert renewed.parameter != first.parameter
    assert petstore.oauth.last["short-lived"]["grant_type"] == "refresh_token"


async def test_client_secret_basic_and_json_encoding(
    authenticator: Authenticator, petstore: StandIn
) -> None:
    policy = oauth2(
        "emitflow", client={"authentication": "client_secret_basic"}, request={"encoding": "json"}
    )
    await authenticator.resolve(policy)
    last = petstore.oauth.last["emitflow"]
    assert (last["client_auth"], last["encoding"]) == ("client_secret_basic", "json")


async def test_password_grant_for_a_public_client(
    authenticator: Authenticator, petstore: StandIn
) -> None:
    user, password = next(iter(USERS.items()))
    policy = oauth2(
        "public-app",
        grant="password",
        username=user,
        password=password,
        client={"authentication": "none"},
    )
    auth = await authenticator.resolve(policy)
    assert auth.parameter in petstore.oauth.issued
    assert petstore.oauth.last["public-app"]["client_auth"] == "none"


async def test_a_client_assertion_is_sent_for_private_key_jwt(
    authenticator: Authenticator, petstore: StandIn
) -> None:
    policy = oauth2(
        "jwt-client", client={"authentication": "private_key_jwt", "assertion": ASSERTION}
    )
    await authenticator.resolve(policy)
    assert petstore.oauth.last["jwt-client"]["client_auth"] == "assertion"


async def test_a_wrong_client_secret_is_an_authentication_error_without_it(
    authenticator: Authenticator,
) -> None:
    policy = oauth2("emitflow", client={"secret": "not-the-secret"})
    with pytest.raises(FaultError) as caught:
        await authenticator.resolve(policy)
    problem = caught.value.problem
    assert error_kind(problem.type) == "authentication" and problem.status == 401
    detail = problem.detail or ""
    assert "invalid_client" in detail and "https://petstore.swagger.io/oauth2/token" in detail
    assert "not-the-secret" not in detail and SECRET not in detail


async def test_a_wrong_user_password_is_an_authentication_error_without_it(
    authenticator: Authenticator,
) -> None:
    policy = oauth2("emitflow", grant="password", username="alice", password="guess-pw")
    with pytest.raises(FaultError) as caught:
        await authenticator.resolve(policy)
    assert error_kind(caught.value.problem.type) == "authentication"
    assert "invalid_grant" in (caught.value.problem.detail or "")
    assert "guess-pw" not in str(caught.value.problem.to_dict())


async def test_oidc_discovers_the_token_endpoint(
    client: httpx.AsyncClient, authenticator: Authenticator, petstore: StandIn
) -> None:
    body = oauth2("emitflow")["oauth2"] | {"authority": AUTHORITY + "/oidc"}
    auth = await authenticator.resolve({"oidc": body})
    assert petstore.oauth.last["emitflow"]["path"] == "/oidc/protocol/token"
    assert await perform(client, method="get", uri=PROTECTED, auth=auth) == {"ok": True}


async def test_a_failed_discovery_is_an_authentication_error(authenticator: Authenticator) -> None:
    body = oauth2("emitflow")["oauth2"] | {"authority": AUTHORITY + "/nowhere"}
    with pytest.raises(FaultError) as caught:
        await authenticator.resolve({"oidc": body})
    problem = caught.value.problem
    assert error_kind(problem.type) == "authentication"
    assert "OpenID discovery at https://petstore.swagger.io/nowhere/.well-known" in (
        problem.detail or ""
    )


async def test_token_exchange(authenticator: Authenticator, petstore: StandIn) -> None:
    policy = oauth2(
        "emitflow",
        grant="urn:ietf:params:oauth:grant-type:token-exchange",
        subject={"token": "user-jwt", "type": "urn:ietf:params:oauth:token-type:jwt"},
    )
    auth = await authenticator.resolve(policy)
    assert auth.parameter in petstore.oauth.issued
