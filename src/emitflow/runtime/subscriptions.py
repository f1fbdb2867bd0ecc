"""``Subscriptions``: creating, listing and deleting subscriptions, checked before they are stored.

A subscription is the Pipedream triple (``emitter_id``, ``listener_id``, ``event_name``) plus
optional filters in the CloudEvents Subscriptions API dialects. Emitters are workflows ``p_…``
(which must exist; ``dc_<x>`` also names the workflow ``p_<x>``, as the seed writes it), event
sources ``dc_…`` (one per CloudEvent ``source``, see ``source_emitter_id``) and the globs
``p_*``/``dc_*``; an emitter that could never fire is refused. Listeners are workflows ``p_…`` and
webhooks ``wh_…`` (which must exist). Filters are compiled here, so a malformed one is
refused when the subscription is created (``FilterError`` naming its place).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.events.filters import compile_filters
from emitflow.store.base import EventLog, SubscriptionStore, WebhookStore, WorkflowStore
from emitflow.store.records import EventQuery, Subscription

__all__ = ["EMITTER_GLOBS", "Subscriptions", "source_emitter_id"]

EMITTER_GLOBS = ("p_*", "dc_*")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: What ``source_emitter_id`` makes: ``dc_`` and 17 base-62 characters.
_SOURCE_ID = re.compile(r"^dc_[0-9A-Za-z]{17}$")


class _Store(WorkflowStore, SubscriptionStore, WebhookStore, EventLog, Protocol):
    """What subscriptions need of the store."""


@functools.lru_cache(maxsize=4096)
def source_emitter_id(source: str) -> str:
    """The emitter id ``dc_…`` of a CloudEvent ``source``: the same source, the same id."""
    # Cached: every ingested event asks, and a deployment has few sources.
    number = int.from_bytes(hashlib.sha256(source.encode("utf-8")).digest()[:13], "big")
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "dc_" + "".join(chars)


class Subscriptions:
    """Subscriptions of one store, checked before they are written."""

    def __init__(
        self,
        store: _Store,
        *,
        running: Callable[[str], bool] | None = None,
        known: Callable[[str], bool] | None = None,
        absent: Callable[[str], bool] | None = None,
    ) -> None:
        self._store = store
        #: Whether an emitter id is a source this process consumes now (a broker source).
        self._running = running or (lambda _: False)
        #: Whether a workflow id is known to exist without asking the store (one just deployed
        #: here: subscribing it right after saves a read).
        self._known = known or (lambda _: False)
        #: Whether a workflow id is known not to exist without asking the store (this process
        #: holds the list of every workflow of a store only it uses): the ``dc_…`` → ``p_…``
        #: emitter check of a subscription to an event source then saves a read.
        self._absent = absent or (lambda _: False)

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
        emitter_id = await self.resolve_emitter(emitter_id)
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
        await self.resolve_emitter(emitter_id)

    async def resolve_emitter(self, emitter_id: str) -> str:
        """The emitter a subscription listens to, or ``ConfigurationError`` naming the forms.

        ``dc_<x>`` where ``p_<x>`` is a deployed workflow is that workflow's events (the seed
        subscribes with ``emitter_id=dc_def456`` to the workflow ``p_def456``). Any other
        ``dc_…`` must be able to fire: an event source id (``source_emitter_id``, the form every
        ingested CloudEvent gets), a broker source being consumed, or an emitter whose events are
        already stored."""
        if not isinstance(emitter_id, str) or not emitter_id:
            raise ConfigurationError(f"emitter_id must be a non-empty string, not {emitter_id!r}")
        if emitter_id in EMITTER_GLOBS:
            return emitter_id
        if emitter_id.startswith("p_"):
            await self._workflow(emitter_id, "emitter")
            return emitter_id
        if emitter_id.startswith("dc_") and len(emitter_id) > 3:
            workflow_id = "p_" + emitter_id[3:]
            if await self._exists(workflow_id):
                return workflow_id
            if (
                _SOURCE_ID.match(emitter_id)
                or self._running(emitter_id)
                or await self._has_events(emitter_id)
            ):
                return emitter_id
        raise ConfigurationError(
            f"emitter_id {emitter_id!r} names no emitter whose events could reach a listener; "
            "use a deployed workflow id 'p_…' (or 'dc_…' with the same suffix, as Pipedream "
            "writes it), an event source id 'dc_…' (the emitter_id POST /v1/events answers "
            "with), or the globs 'p_*' (every workflow) and 'dc_*' (every source)"
        )

    async def _exists(self, workflow_id: str) -> bool:
        if self._known(workflow_id):
            return True
        if self._absent(workflow_id):
            return False
        try:
            await self._store.get_workflow(workflow_id)
        except NotFoundError:
            return False
        return True

    async def _has_events(self, emitter_id: str) -> bool:
        page = await self._store.list_events(
            EventQuery(emitter_id=emitter_id, channel=None), limit=1
        )
        return bool(page.items)

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
        if self._known(workflow_id):
            return
        try:
            await self._store.get_workflow(workflow_id)
        except NotFoundError:
            raise NotFoundError(
                f"{role} workflow {workflow_id!r} does not exist: deploy it first "
                "(its id is the one deploy returned)"
            ) from None
