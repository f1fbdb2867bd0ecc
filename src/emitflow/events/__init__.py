"""CloudEvents: the value, its JSON format, filters, routing and dispatch."""

from emitflow.events.cloudevent import CloudEvent

__all__ = ["CloudEvent"]
