"""The REST API: an ASGI app over an open ``Engine``."""

from emitflow.api.app import create_app
from emitflow.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
