"""OAuth2/OIDC policies: reading, checking, and the token request fields."""

from __future__ import annotations

from typing import Any

import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.oauth_policy import TOKEN_EXCHANGE, OAuthPolicy

SECRET = "client-s3cret-value"


def policy(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "authority": "https://auth.example.com/realms/shop",
        "grant": "client_credentials",
        "client": {"id": "orders", "secret": SECRET},
    }
    body.update(overrides)
    return body


def test_the_token_endpoint_is_appended_to_the_authority() -> None:
    read = OAuthPolicy.from_mapping("oauth2", policy())
    assert read.token_url() == "https://auth.example.com/realms/shop/oauth2/token"
    custom = OAuthPolicy.from_mapping("oauth2", policy(endpoints={"token": "protocol/token"}))
    assert custom.token_url() == "https://auth.example.com/realms/shop/protocol/token"
    absolute = OAuthPolicy.from_mapping("oauth2", policy(endpoints={"token": "https://t.io/tok"}))
    assert absolute.token_url() == "https://t.io/tok"


def test_defaults_are_client_secret_post_and_form() -> None:
    read = OAuthPolicy.from_mapping("oauth2", policy())
    assert (read.client_auth, read.encoding) == ("client_secret_post", "form")


@pytest.mark.parametrize("encoding", ["json", "application/json"])
def test_the_json_encoding_has_two_spellings(encoding: str) -> None:
    read = OAuthPolicy.from_mapping("oidc", policy(request={"encoding": encoding}))
    assert read.encoding == "json"


def test_grant_and_scope_fields() -> None:
    read = OAuthPolicy.from_mapping(
        "oauth2",
        policy(
            grant="password", username="alice", password="pw", scopes=["a", "b"], audiences=["api"]
        ),
    )
    assert read.grant_fields() == {"grant_type": "password", "username": "alice", "password": "pw"}
    assert read.scope_fields() == {"scope": "a b", "audience": "api"}


def test_token_exchange_sends_subject_and_actor() -> None:
    read = OAuthPolicy.from_mapping(
        "oauth2",
        policy(
            grant=TOKEN_EXCHANGE,
            subject={"token": "subj", "type": "urn:ietf:params:oauth:token-type:jwt"},
            actor={"token": "act", "type": "urn:ietf:params:oauth:token-type:jwt"},
        ),
    )
    fields = read.grant_fields()
    assert fields["subject_token"] == "subj" and fields["actor_token"] == "act"
    assert "subj" not in str(read.cache_key())


def test_secrets_stay_out_of_repr_and_cache_key() -> None:
    read = OAuthPolicy.from_mapping(
        "oauth2", policy(grant="password", username="u", password="pw-x")
    )
    assert SECRET not in repr(read) and "pw-x" not in repr(read)
    assert SECRET not in str(read.cache_key()) and "pw-x" not in str(read.cache_key())
    assert set(read.secret_values()) == {SECRET, "pw-x"}


def test_policies_differing_in_scopes_do_not_share_tokens() -> None:
    one = OAuthPolicy.from_mapping("oauth2", policy(scopes=["a"]))
    two = OAuthPolicy.from_mapping("oauth2", policy(scopes=["b"]))
    assert one.cache_key() != two.cache_key()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"authority": None}, "authority"),
        ({"authority": "auth.example.com"}, "absolute"),
        ({"grant": "authorization_code"}, "browser"),
        ({"grant": "refresh_token"}, "refresh token"),
        ({"grant": "magic"}, "grant must be one of"),
        ({"grant": "password"}, "username"),
        ({"grant": "password", "username": "u"}, "password"),
        ({"grant": TOKEN_EXCHANGE}, "subject"),
        ({"client": {"id": "x", "authentication": "mtls"}}, "client.authentication"),
        ({"client": {"id": "x"}}, "client.secret"),
        ({"client": {"id": "x", "authentication": "private_key_jwt"}}, "client.assertion"),
        ({"request": {"encoding": "xml"}}, "request.encoding"),
        ({"scopes": [1]}, "scopes"),
        ({"client": "orders"}, "client must be an object"),
    ],
)
def test_a_bad_policy_names_the_field(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(FaultError) as caught:
        OAuthPolicy.from_mapping("oauth2", policy(**overrides))
    problem = caught.value.problem
    assert error_kind(problem.type) == "configuration"
    assert named in (problem.detail or "")
    assert SECRET not in (problem.detail or "")
