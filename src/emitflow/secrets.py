"""Secrets for ``$secrets``: read from NAME=VALUE pairs and files, and kept out of everything shown.

A secret's value must never appear in output, errors, traces, logs or events. ``Redactor``
replaces every occurrence of a secret value in any JSON value or text with ``***``; everything the
CLI prints or writes passes through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from emitflow.errors import ConfigurationError

__all__ = ["MASK", "Redactor", "load_secrets"]

MASK = "***"
# Very short values would mask ordinary words; they are still secrets, but cannot be told apart.
_MIN_REDACTED_LENGTH = 3


def load_secrets(pairs: Iterable[str] = (), file: str | Path | None = None) -> dict[str, str]:
    """Secrets from a JSON/YAML map file, then ``NAME=VALUE`` pairs (which win)."""
    secrets: dict[str, str] = {}
    if file is not None:
        secrets.update(_read_file(Path(file)))
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(
                f"--secret {name.strip() or pair!r} is not NAME=VALUE; write it as "
                "--secret orderServiceApiKey=<value>"
            )
        secrets[name.strip()] = value
    return secrets


def _read_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"secrets file {path}: cannot be read ({exc.strerror}); "
            "give a JSON or YAML file that maps names to values"
        ) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else YAML(typ="safe").load(text)
    except (ValueError, YAMLError) as exc:
        # The parser's message may quote the file's content, which holds secrets: say only where.
        raise ConfigurationError(
            f"secrets file {path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}; "
            'it must map names to values, e.g. {"orderServiceApiKey": "…"}'
        ) from exc
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"secrets file {path}: the top level must be a map of names to values"
        )
    return {str(k): _as_text(v) for k, v in data.items()}


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Redactor:
    """Masks secret values wherever they appear."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        values = {v for v in secrets.values() if len(v) >= _MIN_REDACTED_LENGTH}
        # Longest first, so a secret that contains another is masked whole.
        self._values = sorted(values, key=len, reverse=True)

    def text(self, text: str) -> str:
        """The text with every secret value masked."""
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def value(self, value: Any) -> Any:
        """A JSON value with secret values masked in every string (keys included)."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
