"""Authentication policies: header building, ``$authorization``, and errors without secrets."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.auth import (
    Authenticator,
    basic_authorization,
    bearer_authorization,
    digest_authorization,
)

SECRET = "p4ss-w0rd-value"


@pytest.fixture
async def authenticator() -> Any:
    # No request leaves these tests: the schemes here need no token endpoint.
    async with httpx.AsyncClient() as client:
        yield Authenticator(client)


def test_basic_is_base64_of_user_colon_password() -> None:
    auth = basic_authorization("serverless-workflow", "conformance-test")
    expected = base64.b64encode(b"serverless-workflow:conformance-test").decode()
    assert auth.headers() == {"Authorization": f"Basic {expected}"}
    assert auth.to_dict() == {"scheme": "Basic", "parameter": expected}
    assert auth.httpx_auth() is None


def test_basic_encodes_utf8() -> None:
    auth = basic_authorization("zoë", "ß")
    assert base64.b64decode(auth.parameter).decode() == "zoë:ß"


def test_bearer_sends_the_token() -> None:
    auth = bearer_authorization("tok-123")
    assert auth.headers() == {"Authorization": "Bearer tok-123"}
    assert auth.to_dict() == {"scheme": "Bearer", "parameter": "tok-123"}


def test_digest_answers_challenges_instead_of_sending_a_header() -> None:
    auth = digest_authorization("alice", SECRET)
    assert auth.headers() == {}
    assert isinstance(auth.httpx_auth(), httpx.DigestAuth)
    assert auth.to_dict() == {"scheme": "Digest", "parameter": "alice"}
    assert auth.secret_values() == (SECRET,)


def test_the_repr_shows_no_credential() -> None:
    for auth in (basic_authorization("u", SECRET), bearer_authorization(SECRET)):
        assert SECRET not in repr(auth) and auth.parameter not in repr(auth)
    assert SECRET not in repr(digest_authorization("u", SECRET))


async def test_a_policy_resolves_to_its_scheme(authenticator: Authenticator) -> None:
    basic = await authenticator.resolve({"basic": {"username": "u", "password": SECRET}})
    assert basic.scheme == "Basic"
    bearer = await authenticator.resolve({"bearer": {"token": SECRET}})
    assert bearer.to_dict() == {"scheme": "Bearer", "parameter": SECRET}
    digest = await authenticator.resolve({"digest": {"username": "u", "password": ""}})
    assert digest.scheme == "Digest"


async def test_a_secret_based_scheme_reads_the_secret(authenticator: Authenticator) -> None:
    secrets = {"petstoreCreds": {"username": "u", "password": SECRET}}
    auth = await authenticator.resolve({"basic": {"use": "petstoreCreds"}}, secrets=secrets)
    assert base64.b64decode(auth.parameter).decode() == f"u:{SECRET}"


async def test_a_missing_secret_is_an_authorization_error(authenticator: Authenticator) -> None:
    with pytest.raises(FaultError) as caught:
        await authenticator.resolve({"bearer": {"use": "nope"}}, secrets={})
    assert error_kind(caught.value.problem.type) == "authorization"
    assert caught.value.problem.status == 403
    assert "'nope'" in (caught.value.problem.detail or "")


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        ({}, "exactly one"),
        ({"basic": {}, "bearer": {}}, "exactly one"),
        ({"kerberos": {}}, "'kerberos'"),
        ({"use": "petstoreAuth"}, "resolved"),
        ({"basic": {"username": "u"}}, "password"),
        ({"basic": {"username": None, "password": SECRET}}, "username"),
        ({"basic": {"username": "a:b", "password": SECRET}}, "':'"),
        ({"bearer": {"token": 42}}, "token"),
        ({"bearer": "text"}, "object"),
    ],
)
async def test_a_bad_policy_names_the_problem_without_secrets(
    authenticator: Authenticator, policy: dict[str, Any], named: str
) -> None:
    with pytest.raises(FaultError) as caught:
        await authenticator.resolve(policy)
    problem = caught.value.problem
    assert error_kind(problem.type) == "configuration"
    assert named in (problem.detail or "")
    assert SECRET not in str(problem.to_dict())
