"""Secrets load from pairs and files, and their values are masked everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from emitflow.errors import ConfigurationError
from emitflow.secrets import MASK, Redactor, load_secrets, weak_secrets, weak_secrets_warning


def test_pairs_win_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("apiKey: from-file\nother: 42\n")
    assert load_secrets(["apiKey=from-pair"], file) == {"apiKey": "from-pair", "other": "42"}


def test_a_value_may_contain_equals_signs() -> None:
    assert load_secrets(["k=a=b"]) == {"k": "a=b"}


def test_a_pair_without_equals_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="NAME=VALUE"):
        load_secrets(["justaname"])


def test_a_broken_file_error_does_not_quote_its_content(tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text('{"apiKey": "hunter2-secret"')
    with pytest.raises(ConfigurationError) as caught:
        load_secrets([], file)
    assert "hunter2" not in str(caught.value)
    assert "s.json" in str(caught.value)


def test_redaction_masks_values_in_nested_json() -> None:
    redactor = Redactor({"k": "s3cret-token"})
    value = {"a": ["Bearer s3cret-token"], "s3cret-token": 1, "n": 2}
    assert redactor.value(value) == {"a": [f"Bearer {MASK}"], MASK: 1, "n": 2}
    assert redactor.text("x s3cret-token y") == f"x {MASK} y"


def test_a_short_secret_is_masked_only_where_a_value_equals_it() -> None:
    redactor = Redactor({"key": "e", "name": "Alice"})
    event = {"message": "message", "customer": "Alice Smith", "who": "Alice", "k": "e"}
    assert redactor.value(event) == {
        "message": "message",
        "customer": "Alice Smith",
        "who": MASK,
        "k": MASK,
    }
    assert redactor.text("a message from Alice") == "a message from Alice"


def test_a_long_secret_is_masked_whole_wherever_it_appears() -> None:
    redactor = Redactor({"k": "s3cret-token", "short": "tok"})
    assert redactor.text("Bearer s3cret-token; tok") == f"Bearer {MASK}; tok"
    assert redactor.value(["tok", "s3cret-tokens"]) == [MASK, f"{MASK}s"]


def test_short_secrets_are_named_in_a_warning() -> None:
    secrets = {"key": "e", "long": "long-enough-1", "db": {"user": "adm", "password": "x" * 20}}
    assert weak_secrets(secrets) == ["key", "db"]
    warning = weak_secrets_warning(secrets)
    assert warning is not None and "key, db" in warning and "8 characters" in warning
    assert weak_secrets_warning({"long": "long-enough-1"}) is None


def test_object_secrets_from_a_file_stay_objects_and_are_masked(tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text('{"db": {"user": "orders-user", "password": "pa55word-long", "port": 5432}}')
    secrets = load_secrets([], file)
    assert secrets == {"db": {"user": "orders-user", "password": "pa55word-long", "port": "5432"}}
    redactor = Redactor(secrets)
    assert (
        redactor.text("postgres://orders-user:pa55word-long@db") == f"postgres://{MASK}:{MASK}@db"
    )
