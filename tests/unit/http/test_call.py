"""Building requests and shaping responses, without a network: the parts of ``perform``."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.auth import bearer_authorization
from emitflow.http.call import build_request, decode_content, perform, shape, status_problem
from emitflow.http.redaction import MASK


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as built:
        yield built


def response(
    status: int = 200,
    content: bytes = b"",
    content_type: str | None = "application/json",
    url: str = "https://api.example.com/x",
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    request = httpx.Request("GET", url, headers={"Authorization": "Bearer secret-token"})
    return httpx.Response(status, content=content, headers=headers, request=request)


def test_a_map_body_is_sent_as_json(client: httpx.AsyncClient) -> None:
    request = build_request(client, method="post", uri="https://a.io/p", body={"name": "Rex"})
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"name": "Rex"}


@pytest.mark.parametrize("body", [[1, 2], 3, True])
def test_other_json_values_are_sent_as_json(client: httpx.AsyncClient, body: Any) -> None:
    request = build_request(client, method="PUT", uri="https://a.io/p", body=body)
    assert json.loads(request.content) == body


def test_a_text_body_is_sent_as_text(client: httpx.AsyncClient) -> None:
    request = build_request(client, method="POST", uri="https://a.io/p", body="héllo")
    assert request.content == "héllo".encode()
    assert request.headers["content-type"].startswith("text/plain")


def test_a_form_content_type_sends_a_form(client: httpx.AsyncClient) -> None:
    request = build_request(
        client,
        method="POST",
        uri="https://a.io/p",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body={"a": "1 2", "b": True},
    )
    assert request.content == b"a=1+2&b=true"


def test_query_entries_join_the_uri_query(client: httpx.AsyncClient) -> None:
    request = build_request(
        client,
        method="GET",
        uri="https://a.io/p?keep=1&page=1",
        query={"page": 2, "tag": ["x", "y"], "skip": None},
    )
    assert request.url.params.multi_items() == [
        ("keep", "1"),
        ("page", "2"),
        ("tag", "x"),
        ("tag", "y"),
    ]


def test_header_values_are_written_as_text(client: httpx.AsyncClient) -> None:
    request = build_request(
        client, method="GET", uri="https://a.io", headers={"X-Count": 3, "X-On": True}
    )
    assert (request.headers["x-count"], request.headers["x-on"]) == ("3", "true")


def test_the_policy_header_wins_over_a_written_one(client: httpx.AsyncClient) -> None:
    request = build_request(
        client,
        method="GET",
        uri="https://a.io",
        headers={"Authorization": "Basic old"},
        auth=bearer_authorization("new"),
    )
    assert request.headers["authorization"] == "Bearer new"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"method": "GE T", "uri": "https://a.io"}, "method"),
        ({"method": "GET", "uri": "/relative/path"}, "absolute"),
        ({"method": "GET", "uri": "ftp://a.io/x"}, "absolute"),
        ({"method": "GET", "uri": "https://a.io", "headers": {"X": {"a": 1}}}, "header 'X'"),
        ({"method": "GET", "uri": "https://a.io", "query": {"q": {"a": 1}}}, "query parameter"),
    ],
)
def test_a_bad_call_is_a_configuration_error(
    client: httpx.AsyncClient, kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(FaultError) as caught:
        build_request(client, **kwargs)
    assert error_kind(caught.value.problem.type) == "configuration"
    assert named in (caught.value.problem.detail or "")


async def test_an_unknown_output_is_refused(client: httpx.AsyncClient) -> None:
    with pytest.raises(FaultError, match="output 'body'"):
        await perform(client, method="GET", uri="https://a.io", output="body")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json"],
)
def test_json_content_is_parsed(content_type: str) -> None:
    assert decode_content(response(content=b'{"a": [1]}', content_type=content_type)) == {"a": [1]}


def test_other_content_is_text_and_empty_content_is_null() -> None:
    assert decode_content(response(content=b"<p>hi</p>", content_type="text/html")) == "<p>hi</p>"
    assert decode_content(response(content=b"")) is None


def test_content_that_claims_json_but_is_not_is_a_clear_error() -> None:
    with pytest.raises(FaultError) as caught:
        decode_content(response(content=b"<html>oops</html>"))
    problem = caught.value.problem
    assert error_kind(problem.type) == "communication"
    assert problem.title == "Invalid JSON Response"
    detail = problem.detail or ""
    assert "GET https://api.example.com/x" in detail and "not JSON" in detail
    assert "<html>oops</html>" in detail


def test_the_response_output_masks_the_authorization_header() -> None:
    shaped = shape(response(content=b'{"id": 1}'), "response")
    assert shaped["request"]["method"] == "GET"
    assert shaped["request"]["uri"] == "https://api.example.com/x"
    assert shaped["request"]["headers"]["authorization"] == MASK
    assert shaped["statusCode"] == 200
    assert shaped["headers"]["content-type"] == "application/json"
    assert shaped["content"] == {"id": 1}


def test_the_raw_output_is_base64() -> None:
    assert shape(response(content=b"\x00\xff"), "raw") == base64.b64encode(b"\x00\xff").decode()


def test_a_status_problem_carries_the_status_and_reason_phrase() -> None:
    problem = status_problem(
        response(404, b'{"message": "Pet not found"}', url="https://u:pw@a.io/pet/9")
    )
    assert (problem.status, problem.title) == (404, "Not Found")
    assert error_kind(problem.type) == "communication"
    assert problem.detail is not None
    assert problem.detail.startswith("GET https://a.io/pet/9 answered 404 Not Found")
    assert "Pet not found" in problem.detail and "pw" not in problem.detail


def test_a_status_problem_masks_credentials_the_body_echoes() -> None:
    problem = status_problem(
        response(401, b'{"error": "token secret-token expired"}'), secrets=["secret-token"]
    )
    assert "secret-token" not in (problem.detail or "") and "***" in (problem.detail or "")
