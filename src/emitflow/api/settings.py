"""``ApiSettings``: the limits and credentials of the REST API, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from emitflow.errors import ConfigurationError

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    """How the API answers; every field has a default that suits one embedded server.

    - ``max_body_bytes``: a request body past this gets 413 (512 KiB).
    - ``max_event_bytes``: one CloudEvent (its structured JSON form) past this is refused.
    - ``max_page_limit``: a ``limit`` query parameter above this is lowered to it.
    - ``admin_token``: a token accepted with every scope (``EMITFLOW_TOKEN`` at start); it is
      compared in constant time and never stored or logged.
    - ``heartbeat_seconds``: how often a quiet event stream sends an SSE comment.
    """

    max_body_bytes: int = 512 * 1024
    max_event_bytes: int = 256 * 1024
    max_page_limit: int = 100
    admin_token: str | None = None
    heartbeat_seconds: float = 15.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_event_bytes", "max_page_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"ApiSettings.{name} must be a positive integer")
        if self.heartbeat_seconds <= 0:
            raise ConfigurationError("ApiSettings.heartbeat_seconds must be positive")

    def __repr__(self) -> str:
        # The admin token must never reach a log line through a repr.
        token = None if self.admin_token is None else "***"
        return (
            f"ApiSettings(max_body_bytes={self.max_body_bytes}, "
            f"max_event_bytes={self.max_event_bytes}, max_page_limit={self.max_page_limit}, "
            f"admin_token={token}, heartbeat_seconds={self.heartbeat_seconds})"
        )
