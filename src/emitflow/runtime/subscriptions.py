"""``Subscriptions``: creating, listing and deleting subscriptions, checked before they are stored.

A subscription is the Pipedream triple (``emitter_id``, ``listener_id``, ``event_name``) plus
optional filters in the CloudEvents Subscriptions API dialects. Emitters are workflows ``p_…``
(which must exist), event sources ``dc_…`` (one per CloudEvent ``source``, see
``source_emitter_id``) and the globs ``p_*``/``dc_*``. Listeners are workflows ``p_…`` and
webhooks ``wh_…`` (which must exist). Filters are compiled here, so a malformed one is
refused when the subscription is created (``FilterError`` naming its place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.events.filters import compile_filters
from emitflow.store.base import SubscriptionStore, WebhookStore, WorkflowStore
from emitflow.store.records import Subscription

__all__ = ["EMITTER_GLOBS", "Subscriptions", "source_emitter_id"]

EMITTER_GLOBS = ("p_*", "dc_*")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _Store(WorkflowStore, SubscriptionStore, WebhookStore, Protocol):
    """What subscriptions need of the store."""


def source_emitter_id(source: str) -> str:
    """The emitter id ``dc_…`` of a CloudEvent ``source``: the same source, the same id."""
    number = int.from_bytes(hashlib.sha256(source.encode("utf-8")).digest()[:13], "big")
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "dc_" + "".join(chars)


class Subscriptions:
    """Subscriptions of one store, checked before they are written."""

    def __init__(self, store: _Store) -> None:
        self._store = store

    async def create(
        self,
        emitter_id: str,
        listener_id: str,
        event_name: str = "",
        filters: Sequence[Any] | None = None,
    ) -> Subscription:
        """Subscribe (idempotent: the same triple keeps its id; its filters are replaced)."""
        if not isinstance(event_name, str):
            raise ConfigurationError(f"event_name must be a string, not {event_name!r}")
        await self.check_emitter(emitter_id)
        await self.check_listener(listener_id)
        compile_filters(filters)
        return await self._store.put_subscription(
            emitter_id, listener_id, event_name, filters=tuple(filters or ())
        )

    async def delete(self, emitter_id: str, listener_id: str, event_name: str = "") -> bool:
        """Unsubscribe the triple; ``False`` if it was not subscribed."""
        return await self._store.delete_subscription(emitter_id, listener_id, event_name)

    async def list(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        return await self._store.list_subscriptions(emitter_id=emitter_id, listener_id=listener_id)

    async def check_emitter(self, emitter_id: str) -> None:
        """Refuse an emitter that is neither a known workflow, a source id nor a glob."""
        if not isinstance(emitter_id, str) or not emitter_id:
            raise ConfigurationError(f"emitter_id must be a non-empty string, not {emitter_id!r}")
        if emitter_id in EMITTER_GLOBS or (emitter_id.startswith("dc_") and len(emitter_id) > 3):
            return
        if emitter_id.startswith("p_"):
            await self._workflow(emitter_id, "emitter")
            return
        raise ConfigurationError(
            f"emitter_id {emitter_id!r} is not an emitter: use a workflow id 'p_…', an event "
            "source id 'dc_…', or the globs 'p_*' (every workflow) and 'dc_*' (every source)"
        )

    async def check_listener(self, listener_id: str) -> None:
        """Refuse a listener that is not a deployed workflow."""
        if not isinstance(listener_id, str) or not listener_id:
            raise ConfigurationError(f"listener_id must be a non-empty string, not {listener_id!r}")
        if listener_id.startswith("wh_"):
            try:
                await self._store.get_webhook(listener_id)
            except NotFoundError:
                raise NotFoundError(
                    f"listener webhook {listener_id!r} does not exist: create it first "
                    "(POST /v1/webhooks?url=…, or Engine.create_webhook)"
                ) from None
            return
        if not listener_id.startswith("p_") or listener_id.endswith("_*"):
            raise ConfigurationError(
                f"listener_id {listener_id!r} is not a listener: use a deployed workflow id "
                "'p_…' or a webhook id 'wh_…'"
            )
        await self._workflow(listener_id, "listener")

    async def _workflow(self, workflow_id: str, role: str) -> None:
        try:
            await self._store.get_workflow(workflow_id)
        except NotFoundError:
            raise NotFoundError(
                f"{role} workflow {workflow_id!r} does not exist: deploy it first "
                "(its id is the one deploy returned)"
            ) from None
