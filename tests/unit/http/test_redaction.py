"""Redaction: credentials stay out of URLs, headers and messages a call shows."""

from __future__ import annotations

import httpx

from emitflow.http.redaction import MASK, excerpt, redact_headers, redact_url, scrub


def test_user_info_is_removed_from_urls() -> None:
    assert redact_url("https://bob:hunter2@example.com/x") == "https://example.com/x"


def test_credential_like_query_values_are_masked() -> None:
    url = redact_url("https://example.com/x?access_token=abc&page=2&api_key=k&clientSecret=s")
    assert "abc" not in url and "=k" not in url and "=s&" not in url and not url.endswith("=s")
    assert "page=2" in url and url.count(MASK) == 3


def test_plain_urls_are_unchanged() -> None:
    url = "https://petstore.swagger.io/v2/pet/findByStatus?status=available"
    assert redact_url(url) == url
    assert redact_url(httpx.URL(url)) == url


def test_authorization_like_headers_are_masked() -> None:
    headers = httpx.Headers({"Authorization": "Bearer t0k", "Cookie": "s=1", "Accept": "*/*"})
    shown = redact_headers(headers)
    assert shown == {"authorization": MASK, "cookie": MASK, "accept": "*/*"}


def test_scrub_masks_every_secret_longest_first() -> None:
    text = "refused client secret s3cret-long (s3cret)"
    assert (
        scrub(text, ["s3cret", "s3cret-long", None, ""]) == f"refused client secret {MASK} ({MASK})"
    )


def test_an_excerpt_is_one_line_and_cut_with_an_ellipsis() -> None:
    assert excerpt("a\n  b\tc") == "a b c"
    cut = excerpt("x" * 500, 50)
    assert len(cut) == 50 and cut.endswith("…")
