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

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from emitflow.brokers.factory import is_broker_url, open_transport, reason
from emitflow.clock import Clock
from emitflow.errors import ConfigurationError
from emitflow.ids import random_id
from emitflow.runtime.lanes import DeliveryLanes
from emitflow.sealing import SEALED_PREFIX, Sealer
from emitflow.store.base import WebhookStore
from emitflow.store.records import WEBHOOK_MODES, Webhook, WebhookDelivery

__all__ = [
    "TEST_TYPE",
    "WebhookSettings",
    "Webhooks",
    "has_credentials",
    "masked_url",
    "request_for",
]

TEST_TYPE = "io.emitflow.destination.test.v1"

# The HTTP binding percent-encodes header values outside printable ASCII, and space, '"', '%'.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """Retries, health and per-destination concurrency of deliveries (defaults: 8 attempts
    over about 4 minutes; ``concurrency`` POSTs at a time per webhook, each destination in its
    own lane; a broker lane publishes up to ``broker_batch`` events per round)."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 300.0
    disable_after: int = 20
    timeout_seconds: float = 10.0
    batch: int = 50
    lease_seconds: float = 60.0
    concurrency: int = 8
    broker_batch: int = 500

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


def has_credentials(url: str) -> bool:
    """Whether a URL carries what may be a credential: user info or a query."""
    parts = urlsplit(url)
    return "@" in parts.netloc or bool(parts.query)


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
        if name in ("data", "data_base64", "datacontenttype") or value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        headers[f"ce-{name}"] = quote(text, safe=_HEADER_SAFE)
    media = str(event.get("datacontenttype") or "application/json")
    if isinstance(event.get("data_base64"), str):  # binary data goes as the bytes it is
        headers["Content-Type"] = str(event.get("datacontenttype") or "application/octet-stream")
        return headers, base64.b64decode(event["data_base64"])
    data = event.get("data")
    if data is None:
        return headers, b""
    headers["Content-Type"] = media
    if isinstance(data, str) and not (media.endswith("json")):
        return headers, data.encode()
    return headers, json.dumps(data, ensure_ascii=False).encode()


class Webhooks:
    """Creates destinations (webhooks and brokers) and delivers queued events to them."""

    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        settings: WebhookSettings,
        http: httpx.AsyncClient | None = None,
        *,
        sealer: Callable[[], Sealer] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._http = http
        self._own_http: httpx.AsyncClient | None = None
        #: Seals URLs with credentials at rest (the engine's key); ``None``: stored as given.
        self.sealer = sealer
        self._lanes = DeliveryLanes(store, clock, settings, self._post, reveal=self.reveal)

    async def create(self, url: str, *, name: str = "", mode: str = "binary") -> Webhook:
        """A new destination ``wh_…``: an http(s) webhook, or a broker URL (``nats://`` …),
        which is connected once first so a wrong URL or refused credentials fail here.

        A URL carrying credentials (user info, a query) is stored sealed; the record returned
        holds it in clear."""
        if mode not in WEBHOOK_MODES:
            raise ConfigurationError(f"mode {mode!r} is not a mode: use binary or structured")
        if isinstance(url, str) and is_broker_url(url):
            transport = await open_transport(url, mode=mode)
            await transport.close()
        else:
            _check_url(url)
        now = self._clock.now()
        webhook = Webhook(
            id=random_id("wh"),
            url=url,
            name=name,
            mode=mode,
            created_at=now,
            updated_at=now,
        )
        stored = webhook
        if has_credentials(url) and self.sealer is not None:
            stored = replace(webhook, url=self.sealer().seal(url))
        await self._store.put_webhook(stored)
        return webhook

    def reveal(self, webhook: Webhook) -> Webhook:
        """The webhook with its URL in clear (unsealed when it was stored sealed)."""
        if self.sealer is None or not webhook.url.startswith(SEALED_PREFIX):
            return webhook
        return replace(webhook, url=self.sealer().unseal(webhook.url))

    async def enable(self, webhook_id: str) -> Webhook:
        """Make a disabled (or backing-off) destination healthy again."""
        webhook = await self._store.get_webhook(webhook_id)
        healthy = replace(
            webhook, state="healthy", failures=0, last_error=None, updated_at=self._clock.now()
        )
        await self._store.put_webhook(healthy)
        self.wake()
        return healthy

    def wake(self) -> None:
        """Deliveries were queued: look soon."""
        self._lanes.wake()

    async def run(self, rescan_seconds: float) -> None:
        """Deliver due events until cancelled, one lane per destination."""
        try:
            await self._lanes.run(rescan_seconds)
        finally:
            if self._own_http is not None:
                await self._own_http.aclose()
                self._own_http = None

    async def deliver_due(self) -> int:
        """Send every due delivery once; how many were attempted."""
        return await self._lanes.deliver_due()

    async def test(self, webhook_id: str) -> str | None:
        """Send one test CloudEvent (``io.emitflow.destination.test.v1``) straight to the
        destination, outside the queue; ``None`` when it was accepted, else why not."""
        webhook = self.reveal(await self._store.get_webhook(webhook_id))
        now = self._clock.now()
        event = {
            "specversion": "1.0",
            "id": random_id("test"),
            "source": "/emitflow/destinations",
            "type": TEST_TYPE,
            "subject": webhook.id,
            "time": now.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": {"destination": webhook.id},
        }
        try:
            if not is_broker_url(webhook.url):
                return await self._send(webhook, event)
            transport = await open_transport(
                webhook.url, mode=webhook.mode, seconds=self._settings.timeout_seconds
            )
            try:
                return (await transport.publish([event])).error
            finally:
                await transport.close()
        except Exception as exc:  # the test's answer is the failure, never a 500
            return f"{type(exc).__name__}: {reason(exc, webhook.url)}"

    async def _post(self, webhook: Webhook, delivery: WebhookDelivery) -> str | None:
        return await self._send(webhook, dict(delivery.event))

    async def _send(self, webhook: Webhook, event: dict[str, Any]) -> str | None:
        headers, body = request_for(webhook, event)
        try:
            answer = await self._client().post(
                self.reveal(webhook).url,
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
            # No pool bound shared by every webhook: a hanging one must not starve the rest.
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
            self._own_http = httpx.AsyncClient(follow_redirects=False, limits=limits)
        return self._own_http
