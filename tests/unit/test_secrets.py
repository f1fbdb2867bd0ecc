"""Secrets load from pairs and files, and their values are masked everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from emitflow.errors import ConfigurationError
from emitflow.secrets import MASK, Redactor, load_secrets


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
