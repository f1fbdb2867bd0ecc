"""The ``emitflow`` command line (``emitflow.cli:main``)."""

from emitflow.cli.app import app, main

__all__ = ["app", "main"]
