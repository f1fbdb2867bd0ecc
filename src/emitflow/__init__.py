"""emitflow: event-driven workflows, Serverless Workflow DSL 1.0 and Python code steps."""

__version__ = "0.1.0"

__all__ = ["__version__"]
