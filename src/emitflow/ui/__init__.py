"""The event inspector: server-rendered pages under ``/ui`` of ``emitflow serve``."""

from emitflow.ui.app import install_ui

__all__ = ["install_ui"]
