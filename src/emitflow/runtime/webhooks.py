"""``Webhooks``: webhook listeners ``wh_…`` and the worker that POSTs events to them.

An event that reaches a webhook through a subscription is queued as a durable delivery before
its outbox row is marked done (at-least-once; one delivery per webhook and CloudEvent
``source``/``id``). The worker claims due deliveries and POSTs each as a CloudEvent over HTTP:
binary mode by default (``ce-*`` headers, the data as the body), structured mode
(``application/cloudevents+json``) when the webhook asks. A 2xx answer delivers it. Anything
else — another status, a refused connection, a timeout — is a failure: the delivery is tried
again after ``base × factor^(attempt-1)`` seconds (capped), and after ``max_attempts`` it becomes
a dead letter (status ``dead``, with the last error). Health: a failure moves the webhook to
``backing_off``; ``disable_after`` failures in a row disable it; a success makes it ``healthy``
again. A disabled webhook is not called: its deliveries become dead letters at once (nothing is
silently dropped) until ``enable`` makes it healthy. Deliveries are independent: a webhook may
receive a retried event after a later one. URLs are never logged; views show them with the
password and query values masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from emitflow.clock import Clock
from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.ids import random_id
from emitflow.store.base import WebhookStore
from emitflow.store.records import WEBHOOK_MODES, Webhook, WebhookDelivery

__all__ = ["WebhookSettings", "Webhooks", "masked_url", "request_for"]

# The HTTP binding percent-encodes header values outside printable ASCII, and space, '"', '%'.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """Retries and health of webhook deliveries (defaults: 8 attempts over about 4 minutes)."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 300.0
    disable_after: int = 20
    timeout_seconds: float = 10.0
    batch: int = 50
    lease_seconds: float = 60.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return min(self.cap_seconds, self.base_seconds * self.factor ** (attempts - 1))


def masked_url(url: str) -> str:
    """The URL with its password and query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(
        f"{pair.split('=', 1)[0]}=***" if "=" in pair else pair
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _check_url(url: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError("url must be a string like https://example.com/hook")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"url is not a URL ({exc}); use https://host/path") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            "url must be absolute with an http(s) scheme and a host, e.g. https://example.com/hook"
        )
    return url


def request_for(webhook: Webhook, event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body that carry ``event`` (structured JSON) in the webhook's mode."""
    if webhook.mode == "structured":
        body = json.dumps(event, ensure_ascii=False).encode()
        return {"Content-Type": "application/cloudevents+json"}, body
    headers: dict[str, str] = {}
    for name, value in event.items():
        if name in ("data", "datacontenttype") or value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        headers[f"ce-{name}"] = quote(text, safe=_HEADER_SAFE)
    media = str(event.get("datacontenttype") or "application/json")
    data = event.get("data")
    if data is None:
        return headers, b""
    headers["Content-Type"] = media
    if isinstance(data, str) and not (media.endswith("json")):
        return headers, data.encode()
    return headers, json.dumps(data, ensure_ascii=False).encode()


class Webhooks:
    """Creates webhooks and delivers queued events to them while the engine is open."""

    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        settings: WebhookSettings,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._http = http
        self._own_http: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()

    async def create(self, url: str, *, name: str = "", mode: str = "binary") -> Webhook:
        """A new webhook listener ``wh_…`` (the URL must be absolute http or https)."""
        if mode not in WEBHOOK_MODES:
            raise ConfigurationError(f"mode {mode!r} is not a mode: use binary or structured")
        now = self._clock.now()
        webhook = Webhook(
            id=random_id("wh"),
            url=_check_url(url),
            name=name,
            mode=mode,
            created_at=now,
            updated_at=now,
        )
        await self._store.put_webhook(webhook)
        return webhook

    async def enable(self, webhook_id: str) -> Webhook:
        """Make a disabled (or backing-off) webhook healthy again."""
        webhook = await self._store.get_webhook(webhook_id)
        healthy = replace(webhook, state="healthy", failures=0, updated_at=self._clock.now())
        await self._store.put_webhook(healthy)
        self.wake()
        return healthy

    def wake(self) -> None:
        """Deliveries were queued: look soon."""
        self._wake.set()

    async def run(self, rescan_seconds: float) -> None:
        """Deliver due events until cancelled."""
        try:
            while True:
                self._wake.clear()
                try:
                    while await self.deliver_due():
                        pass
                except Exception:
                    logger.exception("webhook deliveries failed; retrying")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(rescan_seconds):
                        await self._wake.wait()
        finally:
            if self._own_http is not None:
                await self._own_http.aclose()
                self._own_http = None

    async def deliver_due(self) -> int:
        """POST every due delivery once; how many were attempted."""
        claimed = await self._store.claim_due_deliveries(
            limit=self._settings.batch, lease_seconds=self._settings.lease_seconds
        )
        if claimed:
            await asyncio.gather(*(self._attempt(d) for d in claimed))
        return len(claimed)

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        try:
            webhook = await self._store.get_webhook(delivery.webhook_id)
        except NotFoundError:
            return  # removed since it was queued
        if webhook.state == "disabled":
            dead = replace(delivery, status="dead", last_error="the webhook is disabled")
            await self._store.finish_delivery(dead)
            return
        error = await self._post(webhook, dict(delivery.event))
        attempts = delivery.attempts + 1
        if error is None:
            await self._store.finish_delivery(
                replace(delivery, status="delivered", attempts=attempts, last_error=None)
            )
            if webhook.state != "healthy" or webhook.failures:
                await self._health(webhook, failed=None)
            return
        if attempts >= self._settings.max_attempts:
            outcome = replace(delivery, status="dead", attempts=attempts, last_error=error)
        else:
            due = self._clock.now() + timedelta(seconds=self._settings.delay(attempts))
            outcome = replace(delivery, attempts=attempts, next_attempt_at=due, last_error=error)
        await self._store.finish_delivery(outcome)
        await self._health(webhook, failed=error)
        logger.warning(
            "webhook delivery failed",
            extra={"webhook_id": webhook.id, "attempts": attempts, "error": error},
        )

    async def _health(self, webhook: Webhook, *, failed: str | None) -> None:
        current = await self._store.get_webhook(webhook.id)
        if failed is None:
            changed = replace(current, state="healthy", failures=0)
        else:
            failures = current.failures + 1
            state = "disabled" if failures >= self._settings.disable_after else "backing_off"
            if current.state == "disabled":
                state = "disabled"
            changed = replace(current, state=state, failures=failures, last_error=failed)
        await self._store.put_webhook(replace(changed, updated_at=self._clock.now()))

    async def _post(self, webhook: Webhook, event: dict[str, Any]) -> str | None:
        headers, body = request_for(webhook, event)
        try:
            answer = await self._client().post(
                webhook.url,
                content=body,
                headers=headers,
                timeout=self._settings.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: the request failed"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"

    def _client(self) -> httpx.AsyncClient:
        if self._http is not None:
            return self._http
        if self._own_http is None:
            self._own_http = httpx.AsyncClient(follow_redirects=False)
        return self._own_http
