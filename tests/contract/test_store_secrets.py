"""The ``SecretStore`` part of the store contract, on every backend: sealed values by name."""

from __future__ import annotations

from datetime import UTC, datetime

from emitflow.store.base import Store

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_secrets_are_put_replaced_listed_and_deleted(store: Store) -> None:
    assert await store.list_secrets() == {}
    await store.put_secret("b", "sealed:1", AT)
    await store.put_secret("a", "sealed:2", AT)
    await store.put_secret("b", "sealed:3", AT)
    assert await store.list_secrets() == {"a": "sealed:2", "b": "sealed:3"}
    assert await store.delete_secret("a") is True
    assert await store.delete_secret("a") is False
    assert await store.list_secrets() == {"b": "sealed:3"}
