"""Secrets for ``$secrets``: read from NAME=VALUE pairs and files, and kept out of everything shown.

A secret's value must never appear in output, errors, traces, logs or events. ``Redactor``
replaces every occurrence of a secret value in any JSON value or text with ``***``; everything the
CLI prints or writes passes through it. A secret is a string or, from a secrets file, any JSON
value (``{"db": {"user": …, "password": …}}`` is read as ``$secrets.db.user``); every string in
it is masked.

Masking must not corrupt data: a value is only ever masked whole. A value shorter than
``MIN_SECRET_LENGTH`` characters (``e``, ``admin``) would match inside ordinary words, so it is
masked only where a string equals it exactly; ``weak_secrets`` names those for a warning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from emitflow.errors import ConfigurationError

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "Redactor",
    "load_secrets",
    "secret_strings",
    "weak_secrets",
    "weak_secrets_warning",
]

MASK = "***"
#: Shorter values are masked only where a whole string equals them.
MIN_SECRET_LENGTH = 8


def load_secrets(pairs: Iterable[str] = (), file: str | Path | None = None) -> dict[str, Any]:
    """Secrets from a JSON/YAML map file, then ``NAME=VALUE`` pairs (which win)."""
    secrets: dict[str, Any] = {}
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


def _read_file(path: Path) -> dict[str, Any]:
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
    # Objects stay objects ($secrets.db.user); numbers and booleans become text, as from a pair.
    return {str(k): _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def secret_strings(value: Any) -> Iterator[str]:
    """Every string in a secret's value (the value itself, or the leaves of an object)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from secret_strings(item)
    elif value is not None:
        yield json.dumps(value)


def weak_secrets(secrets: Mapping[str, Any]) -> list[str]:
    """The names of secrets holding a value shorter than ``MIN_SECRET_LENGTH`` characters."""
    return [
        name
        for name, value in secrets.items()
        if any(0 < len(text) < MIN_SECRET_LENGTH for text in secret_strings(value))
    ]


def weak_secrets_warning(secrets: Mapping[str, Any]) -> str | None:
    """A one-line warning naming the short secrets, or None."""
    weak = weak_secrets(secrets)
    if not weak:
        return None
    return (
        f"warning: the secret(s) {', '.join(weak)} are shorter than {MIN_SECRET_LENGTH} "
        "characters: weak, and masked only where a whole value equals them; use longer secrets"
    )


class Redactor:
    """Masks secret values wherever they appear."""

    def __init__(self, secrets: Mapping[str, Any]) -> None:
        values = {text for value in secrets.values() for text in secret_strings(value) if text}
        # Longest first, so a secret that contains another is masked whole.
        self._values = sorted(
            (v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True
        )
        self._exact = frozenset(v for v in values if len(v) < MIN_SECRET_LENGTH)

    def text(self, text: str) -> str:
        """The text with every secret value masked."""
        if text in self._exact:
            return MASK
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def value(self, value: Any) -> Any:
        """A JSON value with secret values masked in every string (keys included)."""
        if not self._values and not self._exact:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
